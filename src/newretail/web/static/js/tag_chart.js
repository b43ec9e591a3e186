// A tag's value distribution on the tag page: bars per value (bool, enum) or the histogram's
// buckets (number, date), persons without a value as a last, grey bar. Data from the server.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("tag-data").textContent);
  const node = document.getElementById("distribution-chart");
  const chart = echarts.init(node, null, { renderer: "canvas" });
  const axisText = { color: "#64748b" };
  const values = data.counts.map((n) => ({ value: n }));
  if (data.missing) values.push({ value: data.missing, itemStyle: { color: "#cbd5e1" } });
  const number = new Intl.NumberFormat(document.documentElement.lang);
  chart.setOption({
    color: ["#1d5fbf"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
      valueFormatter: (v) => number.format(v) },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.labels,
      axisLabel: { ...axisText, interval: 0, rotate: data.labels.length > 6 ? 30 : 0 },
      axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false } },
    yAxis: { type: "value", minInterval: 1, axisLabel: axisText, splitLine: { lineStyle: { color: "#eef2f6" } } },
    series: [{ name: data.series, type: "bar", barMaxWidth: 36, barCategoryGap: data.kind === "histogram" ? "8%" : "30%",
      itemStyle: { borderRadius: [4, 4, 0, 0] }, data: values }],
  });
  chart.on("finished", function once() {
    chart.off("finished", once);
    document.body.dataset.chartsReady = "true";
  });
  window.addEventListener("resize", () => chart.resize());
})();
