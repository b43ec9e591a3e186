// Store selection: the expression editor over store tags; each counted expression asks
// POST /api/v1/audiences/store-selection for the stores it picks, lists them and draws every store
// on a longitude/latitude scatter (no map tiles: it works offline), the picked ones coloured by
// format, the others grey. "Use in audience" opens the builder with home_store_id IN STORES(…).
(function () {
  "use strict";
  const state = NR.json("builder-state");
  const editor = NR.expressionEditor(state);
  const $ = (id) => document.getElementById(id);
  const labels = state.labels;
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#7c3aed", "#db2777", "#0891b2"];
  const formats = Object.keys(state.formats);
  const located = state.stores.filter((s) => s.lon !== null && s.lat !== null);
  const chart = echarts.init($("store-map"), null, { renderer: "canvas" });
  const use = $("use-in-audience");

  const floor5 = (v) => Math.floor(v / 5) * 5;
  const ceil5 = (v) => Math.ceil(v / 5) * 5;
  const point = (s) => ({ value: [s.lon, s.lat], name: s.name || s.id, id: s.id, city: s.city });
  const draw = (selected) => {
    const picked = located.filter((s) => selected.has(s.id));
    const rest = located.filter((s) => !selected.has(s.id));
    const series = [{ name: labels.not_selected, type: "scatter", symbolSize: 7, z: 1,
      itemStyle: { color: "#cbd5e1", opacity: 0.7 }, data: rest.map(point) }];
    formats.forEach((code, i) => series.push({ name: state.formats[code] || code, type: "scatter",
      symbolSize: 12, z: 2, itemStyle: { color: palette[i % palette.length], borderColor: "#fff", borderWidth: 1 },
      data: picked.filter((s) => (s.format || "") === code).map(point) }));
    chart.setOption({
      tooltip: { trigger: "item", formatter: (p) => `${p.data.name}<br>${p.data.city || ""} · ${p.seriesName}` },
      legend: { top: 0, right: 0, icon: "circle" },
      grid: { left: 8, right: 16, top: 40, bottom: 28, containLabel: true },
      // A margin around the stores (to the next 5 degrees), so none sits on the frame.
      xAxis: { type: "value", name: labels.longitude, nameLocation: "middle", nameGap: 26,
        min: (v) => floor5(v.min - 1), max: (v) => ceil5(v.max + 1),
        nameTextStyle: { color: "#64748b" }, axisLabel: { color: "#64748b" }, splitLine: { lineStyle: { color: "#eef2f6" } } },
      yAxis: { type: "value", name: labels.latitude, nameTextStyle: { color: "#64748b", align: "left" },
        min: (v) => floor5(v.min - 1), max: (v) => ceil5(v.max + 1),
        axisLabel: { color: "#64748b" }, splitLine: { lineStyle: { color: "#eef2f6" } } },
      series,
    }, true);
    $("store-map").dataset.selected = String(picked.length);
  };

  const list = (stores) => {
    const body = $("store-list").querySelector("tbody");
    body.replaceChildren(...stores.map((s) => {
      const row = document.createElement("tr");
      row.dataset.store = s.store_id;
      for (const [text, mono] of [[s.store_id, true], [s.name || "—"], [s.city || "—"], [state.formats[s.format] || s.format || "—"]]) {
        const cell = document.createElement("td");
        if (mono) cell.className = "mono";
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
    $("store-count").textContent = NR.number.format(stores.length);
  };

  let run = 0;
  editor.area.addEventListener("expression:counted", async (event) => {
    const text = event.detail.text;
    const mine = ++run;
    const answer = await NR.call("POST", "/api/v1/audiences/store-selection", { text });
    if (mine !== run || !answer.ok) return;
    const selected = new Set(answer.data.stores.map((s) => s.store_id));
    draw(selected);
    list(answer.data.stores);
    use.href = `/console/audiences/new?text=${encodeURIComponent(`home_store_id IN STORES(${answer.data.text})`)}`;
    use.removeAttribute("aria-disabled");
    document.body.dataset.selectionReady = String(mine);
  });
  editor.area.addEventListener("expression:invalid", () => { use.setAttribute("aria-disabled", "true"); });
  draw(new Set());
  window.addEventListener("resize", () => chart.resize());
})();
