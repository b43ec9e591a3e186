// Draws the member 360's orders-by-channel chart from the JSON the server embedded in the page.
// Amounts arrive as integer minor units with their exact label formatted by the server: the chart
// only plots them, and tooltips show the server's text, never a float re-rendered here.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("person-data").textContent);
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#7c3aed"];
  const axisText = { color: "#64748b" };
  const gridLine = { lineStyle: { color: "#eef2f6" } };
  const compact = new Intl.NumberFormat(document.documentElement.lang, { notation: "compact" });

  const tooltip = (params) => {
    const rows = [].concat(params);
    const head = rows.length ? rows[0].axisValueLabel : "";
    return [head].concat(rows.map((p) => `${p.marker}${p.seriesName}: ${p.data.label}`)).join("<br>");
  };

  // Orders on the left axis; paid on the right, one series per currency (never added up). A second
  // currency shares the right axis only as a shape: its exact figures are in the tooltip and table.
  const series = [{ name: data.orders_name, type: "bar", barMaxWidth: 22, data: data.orders }].concat(
    data.currencies.map((c) => ({ name: c.name, type: "bar", barMaxWidth: 22, yAxisIndex: 1,
      data: data.paid[c.code] })));
  const first = data.currencies[0];
  const chart = echarts.init(document.getElementById("person-chart"), null, { renderer: "canvas" });
  chart.setOption({
    color: palette,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
    legend: { top: 0, right: 0, icon: "roundRect" },
    grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.channels, axisLabel: axisText,
      axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false } },
    yAxis: [
      { type: "value", minInterval: 1, axisLabel: axisText, splitLine: gridLine },
      { type: "value", name: first ? first.code : "", nameTextStyle: axisText, splitLine: { show: false },
        axisLabel: { ...axisText, formatter: (minor) => compact.format(minor / 10 ** (first ? first.exponent : 2)) } },
    ],
    series: series,
  });

  // Tests and screenshots wait for this flag: set once the chart has finished drawing.
  chart.on("finished", function once() {
    chart.off("finished", once);
    document.body.dataset.chartsReady = "true";
  });
  window.addEventListener("resize", () => chart.resize());
})();
