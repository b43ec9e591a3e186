// Draws the overview's two charts from the JSON the server embedded in the page.
// Amounts arrive as integer minor units with their exact label already formatted by the server:
// the charts only plot them, and tooltips show the server's text, never a float re-rendered here.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("overview-data").textContent);
  const palette = ["#1d5fbf", "#0f9d8a", "#d97706", "#7c3aed"];
  const axisText = { color: "#64748b" };
  const gridLine = { lineStyle: { color: "#eef2f6" } };

  // Axis ticks in major units, compact (12k, 1.2M): a scale for the eye, not a figure to read.
  const compact = new Intl.NumberFormat(document.documentElement.lang, { notation: "compact" });
  const major = (currency) => (minor) => compact.format(minor / 10 ** currency.exponent);

  // Tooltip rows: the series marker and the label the server wrote for that point.
  const tooltip = (params) => {
    const rows = [].concat(params);
    const head = rows.length ? rows[0].axisValueLabel : "";
    return [head].concat(rows.map((p) => `${p.marker}${p.seriesName}: ${p.data.label}`)).join("<br>");
  };

  const trend = echarts.init(document.getElementById("trend"), null, { renderer: "canvas" });
  trend.setOption({
    color: palette,
    tooltip: { trigger: "axis", formatter: tooltip },
    legend: { top: 0, right: 0, icon: "roundRect" },
    grid: { left: 8, right: 8, top: 56, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.dates, boundaryGap: false,
      axisLabel: { ...axisText, formatter: (d) => d.slice(5) }, axisLine: { lineStyle: { color: "#cbd5e1" } } },
    // One axis per currency (left, right): two currencies share a chart, never a scale.
    yAxis: data.currencies.map((c, i) => ({ type: "value", name: c.code, position: i === 0 ? "left" : "right",
      nameTextStyle: axisText, axisLabel: { ...axisText, formatter: major(c) }, splitLine: { show: i === 0, ...gridLine } })),
    series: data.currencies.map((c, i) => ({ name: c.name, type: "line", smooth: 0.3, symbol: "none",
      yAxisIndex: Math.min(i, 1), lineStyle: { width: 2.5 }, areaStyle: { opacity: 0.08 },
      data: data.trend[c.code] })),
  });

  const channels = echarts.init(document.getElementById("channels"), null, { renderer: "canvas" });
  channels.setOption({
    color: palette,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, formatter: tooltip },
    legend: { top: 0, right: 0, icon: "roundRect" },
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { ...axisText, formatter: "{value}%" }, splitLine: gridLine },
    yAxis: { type: "category", data: data.channels, inverse: true, axisLabel: axisText,
      axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false } },
    series: data.currencies.map((c) => ({ name: c.name, type: "bar", barMaxWidth: 14, barGap: "30%",
      itemStyle: { borderRadius: [0, 4, 4, 0] }, data: data.shares[c.code] })),
  });

  // Tests and screenshots wait for this flag: set once both charts have finished drawing.
  let pending = 2;
  const done = () => { pending -= 1; if (pending === 0) document.body.dataset.chartsReady = "true"; };
  trend.on("finished", function once() { trend.off("finished", once); done(); });
  channels.on("finished", function once() { channels.off("finished", once); done(); });
  window.addEventListener("resize", () => { trend.resize(); channels.resize(); });
})();
