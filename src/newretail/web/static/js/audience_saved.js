// A saved audience's own parts: its size at every tag refresh as a line, freezing a snapshot, and
// exports (kind and consent channel) whose file link appears once the server has written it.
(function () {
  "use strict";
  const state = NR.json("builder-state");
  if (!state || !state.audience) return;
  const id = encodeURIComponent(state.audience.id);
  const $ = (id) => document.getElementById(id);
  const msg = state.messages;

  const sizes = $("sizes-chart");
  if (sizes) {
    const chart = echarts.init(sizes, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#1d5fbf"],
      tooltip: { trigger: "axis", valueFormatter: (v) => NR.number.format(v) },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", boundaryGap: false, data: state.sizes.map((p) => p.as_of),
        axisLabel: { color: "#64748b" }, axisLine: { lineStyle: { color: "#cbd5e1" } } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#64748b" },
        splitLine: { lineStyle: { color: "#eef2f6" } } },
      series: [{ name: state.sizes_name, type: "line", symbolSize: 7, areaStyle: { opacity: 0.08 },
        data: state.sizes.map((p) => p.size) }],
    });
    chart.on("finished", function once() {
      chart.off("finished", once);
      document.body.dataset.chartsReady = "true";
    });
    window.addEventListener("resize", () => chart.resize());
  }

  const show = (node, text) => { node.textContent = text; node.hidden = false; };

  const freeze = $("freeze-form");
  if (freeze) {
    let key = NR.newKey();
    freeze.addEventListener("input", () => { key = NR.newKey(); });
    freeze.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await NR.call("POST", `/api/v1/audiences/${id}/snapshots`,
        { label: $("snapshot-label").value.trim() }, { key });
      if (!answer.ok) { show($("freeze-error"), NR.problemText(answer.data, msg.failed)); return; }
      window.location.assign(`/console/audiences/${id}?done=frozen`);
    });
  }

  const exporting = $("export-form");
  if (exporting) {
    const result = $("export-result");
    const error = $("export-error");
    let key = NR.newKey();
    exporting.addEventListener("input", () => { key = NR.newKey(); });
    exporting.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      result.hidden = true;
      const button = $("export-button");
      button.disabled = true;
      try {
        const body = { kind: $("export-kind").value, consent: $("export-consent").value,
          snapshot_id: $("export-snapshot").value || null };
        const answer = await NR.call("POST", `/api/v1/audiences/${id}/exports`, body, { key });
        if (!answer.ok) { show(error, NR.problemText(answer.data, msg.failed)); return; }
        const made = answer.data;
        const link = document.createElement("a");
        link.id = "export-link";
        link.href = made.download;
        link.dataset.rows = String(made.rows);
        link.setAttribute("download", "");
        link.textContent = msg.download;
        const text = document.createElement("span");
        text.textContent = msg.exported
          .replace("{rows}", NR.number.format(made.rows))
          .replace("{excluded}", NR.number.format(made.excluded_without_consent));
        result.replaceChildren(text, " ", link);
        result.hidden = false;
        key = NR.newKey();
      } finally {
        button.disabled = false;
      }
    });
  }
})();
