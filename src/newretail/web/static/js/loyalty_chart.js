// The bar chart of a loyalty page (members per tier; coupons per template) from the JSON the server
// embedded: categories, and series of {value, label} points. Tooltips show the server's exact text
// (counts, money in its own currency), never a figure re-rendered here.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const node = document.getElementById("loyalty-chart");
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#94a3b8", "#7c3aed"];
  const axisText = { color: "#64748b" };
  const tooltip = (params) => {
    const rows = [].concat(params);
    const head = rows.length ? rows[0].axisValueLabel : "";
    return [head].concat(rows.map((p) => `${p.marker}${p.seriesName}: ${p.data.label}`)).join("<br>");
  };
  const chart = echarts.init(node, null, { renderer: "canvas" });
  chart.setOption({
    color: palette,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
    legend: { show: data.series.length > 1, top: 0, right: 0, icon: "roundRect" },
    grid: { left: 8, right: 16, top: data.series.length > 1 ? 40 : 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.categories,
      axisLabel: { ...axisText, interval: 0, rotate: data.categories.length > 5 ? 30 : 0 },
      axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false } },
    yAxis: { type: "value", minInterval: 1, axisLabel: axisText,
      splitLine: { lineStyle: { color: "#eef2f6" } } },
    series: data.series.map((s) => ({ name: s.name, type: "bar", barMaxWidth: 28,
      itemStyle: { borderRadius: [4, 4, 0, 0] }, data: s.data })),
  });
  // Tests and screenshots wait for this flag: set once the chart has finished drawing.
  chart.on("finished", function once() {
    chart.off("finished", once);
    document.body.dataset.chartsReady = "true";
  });
  window.addEventListener("resize", () => chart.resize());
})();
