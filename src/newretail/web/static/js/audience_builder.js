// The audience builder around the expression editor: the audience broken down by city, channel and
// lifecycle and its overlap with a saved audience, both refreshed with the count but at most once a
// second; Save (POST, or PUT on a saved audience) and Archive through the API, each user action
// with its own Idempotency-Key.
(function () {
  "use strict";
  const state = NR.json("builder-state");
  const editor = NR.expressionEditor(state);
  const msg = state.messages;
  const THROTTLE_MS = 1000;
  const axisText = { color: "#64748b" };
  const gridLine = { lineStyle: { color: "#eef2f6" } };
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#7c3aed", "#db2777", "#0891b2"];
  const $ = (id) => document.getElementById(id);

  // At most one call per window: the first at once, later ones once at the window's end with the
  // newest argument.
  const throttle = (fn, ms) => {
    let last = 0, timer = null, pending = null;
    return (arg) => {
      pending = arg;
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) { last = Date.now(); fn(pending); return; }
      timer = setTimeout(() => { timer = null; last = Date.now(); fn(pending); }, wait);
    };
  };

  // Breakdown: one horizontal bar chart per tag, values largest first, "no value" greyed last.
  const grid = $("breakdown-charts");
  const charts = {};
  if (grid) {
    for (const part of state.breakdown) {
      const box = document.createElement("div");
      box.className = "breakdown-part";
      const title = document.createElement("h3");
      title.textContent = part.name;
      const node = document.createElement("div");
      node.id = `bd-${part.tag}`;
      node.className = "chart small";
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", part.name);
      box.append(title, node);
      grid.append(box);
      charts[part.tag] = echarts.init(node, null, { renderer: "canvas" });
    }
  }
  let breakdownRun = 0;
  const drawBreakdown = async (text) => {
    if (!grid || !state.breakdown.length) return;
    const mine = ++breakdownRun;
    const by = state.breakdown.map((part) => part.tag);
    const answer = await NR.call("POST", "/api/v1/audiences/breakdown", { text, by });
    if (mine !== breakdownRun || !answer.ok) return;
    const total = answer.data.size || 1;
    for (const part of answer.data.breakdowns) {
      const labels = (state.breakdown.find((p) => p.tag === part.tag) || { labels: {} }).labels;
      const rows = part.values.slice(0, 12);
      charts[part.tag].setOption({
        color: [palette[by.indexOf(part.tag) % palette.length]],
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
          valueFormatter: (v) => `${NR.number.format(v)} (${NR.percent.format(v / total)})` },
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1, axisLabel: axisText, splitLine: gridLine },
        yAxis: { type: "category", inverse: true, axisLabel: axisText, axisTick: { show: false },
          data: rows.map((r) => (r.value === null ? msg.no_value : labels[r.value] || r.value)) },
        series: [{ type: "bar", barMaxWidth: 16, itemStyle: { borderRadius: [0, 4, 4, 0] },
          data: rows.map((r) => (r.value === null ? { value: r.count, itemStyle: { color: "#cbd5e1" } } : r.count)) }],
      }, true);
    }
    grid.dataset.size = String(answer.data.size);
    grid.classList.remove("stale");
    document.body.dataset.breakdownReady = "true";
  };

  // Overlap with a saved audience: only this one, both, only the other, and Jaccard.
  const select = $("overlap-with");
  const overlapBox = $("overlap-chart");
  const overlapChart = overlapBox ? echarts.init(overlapBox, null, { renderer: "canvas" }) : null;
  let lastText = null;
  let overlapRun = 0;
  const figures = (values) => {
    for (const [id, value] of Object.entries(values)) $(id).textContent = value;
  };
  const drawOverlap = async (text) => {
    if (!select) return;
    const other = state.overlap.find((o) => o.id === select.value);
    const mine = ++overlapRun;
    if (!other || !text) {
      figures({ "ov-only-a": "—", "ov-both": "—", "ov-only-b": "—", "ov-jaccard": "—" });
      overlapChart.clear();
      return;
    }
    const answer = await NR.call("POST", "/api/v1/audiences/overlap", { a: { text }, b: { tree: other.tree } });
    if (mine !== overlapRun || !answer.ok) return;
    const d = answer.data;
    figures({
      "ov-only-a": NR.number.format(d.only_a), "ov-both": NR.number.format(d.both),
      "ov-only-b": NR.number.format(d.only_b), "ov-jaccard": NR.percent.format(d.jaccard),
    });
    $("overlap").dataset.jaccard = String(d.jaccard);
    const bar = (name, value, color) => ({ name, type: "bar", stack: "all", barWidth: 28,
      itemStyle: { color }, label: { show: value > 0, color: "#fff", formatter: () => NR.number.format(value) },
      data: [value] });
    overlapChart.setOption({
      tooltip: { trigger: "item", formatter: (p) => `${p.seriesName}: ${NR.number.format(p.value)}` },
      legend: { top: 0, left: 0, icon: "roundRect" },
      grid: { left: 8, right: 8, top: 32, bottom: 4, containLabel: true },
      xAxis: { type: "value", show: false, max: d.either || 1 },
      yAxis: { type: "category", show: false, data: [""] },
      series: [bar(msg.only_a, d.only_a, "#1d5fbf"), bar(msg.both, d.both, "#7c3aed"),
        bar(`${msg.only_b} (${other.name})`, d.only_b, "#0f9d8a")],
    }, true);
  };
  if (select) select.addEventListener("change", () => drawOverlap(lastText));

  const refresh = throttle((text) => { drawBreakdown(text); drawOverlap(text); }, THROTTLE_MS);
  editor.area.addEventListener("expression:counted", (event) => {
    lastText = event.detail.text;
    if (grid) grid.classList.add("stale"); // until the breakdown of this text is drawn
    refresh(lastText);
  });
  editor.area.addEventListener("expression:invalid", () => { if (grid) grid.classList.add("stale"); });
  window.addEventListener("resize", () => {
    for (const chart of Object.values(charts)) chart.resize();
    if (overlapChart) overlapChart.resize();
  });

  // Save and archive.
  const form = $("save-form");
  if (!form) return;
  const error = $("save-error");
  let key = NR.newKey();
  const fresh = () => { key = NR.newKey(); };
  form.addEventListener("input", fresh);
  editor.area.addEventListener("input", fresh);
  const refused = (answer) => {
    error.textContent = NR.problemText(answer.data, `${msg.failed} (${answer.status})`);
    error.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const id = form.dataset.audience;
    const body = { name: $("audience-name").value.trim(), description: $("audience-description-input").value.trim(),
      text: editor.area.value, entity: form.dataset.entity };
    const answer = id
      ? await NR.call("PUT", `/api/v1/audiences/${encodeURIComponent(id)}`, body, { key })
      : await NR.call("POST", "/api/v1/audiences", body, { key });
    if (!answer.ok) { refused(answer); return; }
    window.location.assign(`/console/audiences/${encodeURIComponent(answer.data.id)}?done=${id ? "saved" : "created"}`);
  });
  const archive = $("archive-audience");
  if (archive) {
    archive.addEventListener("click", async () => {
      if (!window.confirm(archive.dataset.confirm)) return;
      const id = form.dataset.audience;
      const answer = await NR.call("POST", `/api/v1/audiences/${encodeURIComponent(id)}/archive`, undefined, { key: NR.newKey() });
      if (!answer.ok) { refused(answer); return; }
      window.location.assign(`/console/audiences/${encodeURIComponent(id)}?done=archived`);
    });
  }
})();
