// The supply pages' charts, from the JSON the server embedded (#supply-charts): every element with a
// data-chart attribute is drawn from the spec of that name. Kinds: "band" (actual and forecast lines
// with the forecast's 80% band shaded), "lines" and "bars". Tooltips show the server's text for each
// point, never a figure re-rendered here.
(function () {
  "use strict";
  const specs = JSON.parse(document.getElementById("supply-charts").textContent);
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#7c3aed", "#dc2626", "#94a3b8"];
  const axisText = { color: "#64748b" };
  const gridLine = { lineStyle: { color: "#eef2f6" } };
  const compact = new Intl.NumberFormat(document.documentElement.lang, { notation: "compact" });

  const tooltip = (params) => {
    const rows = [].concat(params).filter((p) => p.data && p.data.label !== undefined && !p.seriesName.startsWith("_"));
    const head = [].concat(params).length ? [].concat(params)[0].axisValueLabel : "";
    return [head].concat(rows.map((p) => `${p.marker}${p.seriesName}: ${p.data.label}`)).join("<br>");
  };

  const base = (spec) => ({
    color: palette,
    tooltip: { trigger: "axis", formatter: tooltip },
    // One line of legend, scrolled when the series do not fit, so it never covers the plot.
    legend: { type: "scroll", top: 0, right: 0, left: 0, icon: "roundRect", data: spec.legend },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: spec.dates || spec.categories, boundaryGap: spec.kind === "bars",
      axisLabel: { ...axisText, formatter: (d) => (spec.dates ? d.slice(5) : d) },
      axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false } },
    yAxis: { type: "value", axisLabel: { ...axisText, formatter: spec.percent ? (v) => `${Math.round(v * 1000) / 10}%` : (v) => compact.format(v) },
      splitLine: gridLine, min: spec.percent ? "dataMin" : 0 },
  });

  // The band is two stacked series: its low edge (invisible) and its width (shaded) on top.
  const band = (spec) => ({
    ...base({ ...spec, legend: [spec.names.actual, spec.names.forecast, spec.names.band] }),
    series: [
      { name: spec.names.actual, type: "line", symbol: "none", lineStyle: { width: 2 }, data: spec.actual, z: 3 },
      { name: spec.names.forecast, type: "line", symbol: "none", lineStyle: { width: 2, type: "dashed" }, data: spec.mean, z: 3 },
      { name: "_low", type: "line", symbol: "none", stack: "band", lineStyle: { opacity: 0 }, data: spec.lo, silent: true },
      { name: spec.names.band, type: "line", symbol: "none", stack: "band", lineStyle: { opacity: 0 },
        areaStyle: { color: "#1d5fbf", opacity: 0.15 }, itemStyle: { color: "#9db8e6" }, data: spec.width },
    ],
  });

  const lines = (spec) => ({
    ...base({ ...spec, legend: spec.series.map((s) => s.name) }),
    series: spec.series.map((s) => ({ name: s.name, type: "line", symbol: "none", lineStyle: { width: 2 }, data: s.data })),
  });

  const bars = (spec) => ({
    ...base({ ...spec, legend: spec.series.map((s) => s.name) }),
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
    series: spec.series.map((s) => ({ name: s.name, type: "bar", barMaxWidth: 22,
      itemStyle: { borderRadius: [3, 3, 0, 0] }, data: s.data })),
  });

  const kinds = { band, lines, bars };
  const nodes = Array.from(document.querySelectorAll("[data-chart]")).filter((n) => specs[n.dataset.chart]);
  const charts = [];
  let pending = nodes.length;
  // Tests and screenshots wait for this flag: set once every chart has finished drawing.
  const done = () => { pending -= 1; if (pending <= 0) document.body.dataset.chartsReady = "true"; };
  if (!nodes.length) done();
  nodes.forEach((node) => {
    const spec = specs[node.dataset.chart];
    const chart = echarts.init(node, null, { renderer: "canvas" });
    chart.on("finished", function once() { chart.off("finished", once); done(); });
    chart.setOption(kinds[spec.kind](spec));
    charts.push(chart);
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
