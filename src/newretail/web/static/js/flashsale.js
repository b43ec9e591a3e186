// The live page of a flash sale: polls live.json every second and redraws the figures, the item
// table, the rejections and a chart of reservations and orders per second. Rates are differences
// between two polls divided by the server's time between them, so a late poll does not inflate them.
(function () {
  "use strict";
  const live = document.getElementById("live");
  const url = live.dataset.liveUrl;
  const labels = JSON.parse(document.getElementById("reason-labels").textContent);
  const number = new Intl.NumberFormat(document.documentElement.lang);
  const chartBox = document.getElementById("rates");
  const chart = echarts.init(chartBox, null, { renderer: "canvas" });
  const axisText = { color: "#64748b" };
  const times = [], reservations = [], orders = [];
  const KEEP = 120; // two minutes of points
  chart.setOption({
    color: ["#1d5fbf", "#0f9d8a"],
    tooltip: { trigger: "axis" },
    legend: { top: 0, right: 0, icon: "roundRect" },
    grid: { left: 8, right: 8, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: times, boundaryGap: false, axisLabel: axisText },
    yAxis: { type: "value", axisLabel: axisText, splitLine: { lineStyle: { color: "#eef2f6" } } },
    series: [
      { name: chartBox.dataset.reservations, type: "line", symbol: "none", data: reservations },
      { name: chartBox.dataset.orders, type: "line", symbol: "none", data: orders },
    ],
  });
  window.addEventListener("resize", () => chart.resize());

  const set = (name, value) => {
    for (const node of document.querySelectorAll(`[data-figure="${name}"]`)) {
      node.textContent = value;
    }
  };

  const drawItems = (items) => {
    for (const item of items) {
      const row = document.querySelector(`#items tr[data-sku="${CSS.escape(item.sku)}"]`);
      if (!row) continue;
      for (const key of ["remaining", "reserved", "paid", "expired"]) {
        row.querySelector(`[data-item="${key}"]`).textContent = number.format(item[key]);
      }
    }
  };

  const drawRejections = (rejections) => {
    const body = document.querySelector("#rejections tbody");
    const codes = Object.keys(rejections);
    if (!codes.length) return;
    body.replaceChildren(...codes.map((code) => {
      const row = document.createElement("tr");
      row.dataset.code = code;
      const label = document.createElement("td");
      label.textContent = labels[code] || code;
      const count = document.createElement("td");
      count.className = "num";
      count.textContent = number.format(rejections[code]);
      row.append(label, count);
      return row;
    }));
  };

  let previous = null;
  let ticks = 0;
  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const data = await response.json();
      set("reservations", number.format(data.reservations));
      set("orders", number.format(data.orders.total));
      set("backlog", number.format(data.backlog));
      set("payments", number.format(data.payments));
      set("expiries", number.format(data.expiries));
      set("waiting", number.format(data.waiting));
      set("tickets", number.format(data.tickets));
      drawItems(data.items);
      drawRejections(data.rejections);
      if (previous && data.at_ms > previous.at_ms) {
        const seconds = (data.at_ms - previous.at_ms) / 1000;
        const reserving = Math.max(0, (data.reservations - previous.reservations) / seconds);
        const writing = Math.max(0, (data.orders.total - previous.orders.total) / seconds);
        set("reservations_rate", number.format(Math.round(reserving)));
        set("orders_rate", number.format(Math.round(writing)));
        times.push(new Date(data.at_ms).toISOString().slice(11, 19));
        reservations.push(Math.round(reserving));
        orders.push(Math.round(writing));
        if (times.length > KEEP) { times.shift(); reservations.shift(); orders.shift(); }
        chart.setOption({ xAxis: { data: times }, series: [{ data: reservations }, { data: orders }] });
      }
      previous = data;
      ticks += 1;
      // Tests wait on this: how many polls have been drawn.
      document.body.dataset.liveTicks = String(ticks);
    } catch (error) {
      // The next poll tries again; a server restarting mid-sale is expected.
    }
  };
  poll();
  setInterval(poll, 1000);
})();
