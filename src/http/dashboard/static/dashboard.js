// jobwire dashboard: the few things htmx does not do. Served from /assets (the CSP allows no
// inline script). The page's one live stream is htmx's (sse-connect on <body>); this file
// listens to that same EventSource for the chart's JSON instead of opening another.
(() => {
  const relative = (at, now) => {
    const delta = Math.round((at - now) / 1000);
    const abs = Math.abs(delta);
    if (abs < 2) return 'just now';
    const [value, unit] =
      abs < 60
        ? [abs, 's']
        : abs < 3600
          ? [Math.round(abs / 60), 'min']
          : abs < 86400
            ? [Math.round(abs / 3600), 'h']
            : [Math.round(abs / 86400), 'd'];
    return delta < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
  };

  // Relative times drift as the page stays open: refresh them locally (no request).
  const refreshTimes = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll('.rel[data-at]'))
      el.textContent = relative(Number(el.dataset.at), now);
  };
  setInterval(refreshTimes, 10_000);
  document.addEventListener('htmx:afterSwap', refreshTimes);

  // Live status light.
  const status = () => document.getElementById('live-status');
  document.addEventListener('htmx:sseOpen', (event) => {
    status()?.classList.add('on');
    status()?.classList.remove('off');
    watchChart(event.detail.source);
  });
  document.addEventListener('htmx:sseError', () => {
    status()?.classList.add('off');
    status()?.classList.remove('on');
  });

  // -- Throughput and failures per queue (uPlot) -----------------------------------------------
  const charts = new Map();
  let watched = null;

  function watchChart(source) {
    if (!document.getElementById('charts') || source === watched) return;
    watched = source;
    source.addEventListener('chart', (message) => drawCharts(JSON.parse(message.data)));
  }

  // The figure's content width (its padding is 0.5rem each side).
  const chartWidth = (figure) => Math.max(240, (figure.clientWidth || 320) - 16);
  // Axis labels in UTC, like every time on the page.
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');

  function drawCharts(data) {
    const box = document.getElementById('charts');
    if (!box || typeof uPlot === 'undefined') return;
    const names = Object.keys(data.queues);
    document.getElementById('charts-empty')?.toggleAttribute('hidden', names.length > 0);
    const step = data.bucketMs / 1000;
    for (const name of names) {
      const series = data.queues[name];
      const xs = series.completed.map((_, i) => data.start / 1000 + i * step);
      const values = [xs, series.completed, series.failed];
      let chart = charts.get(name);
      if (!chart) {
        const figure = document.createElement('figure');
        figure.className = 'chart';
        figure.dataset.queue = name;
        const caption = document.createElement('figcaption');
        const title = document.createElement('strong');
        title.textContent = name; // text, never markup: queue names come from users
        const totals = document.createElement('span');
        totals.className = 'totals';
        caption.append(title, totals);
        figure.append(caption);
        box.append(figure);
        const plot = new uPlot(
          {
            width: chartWidth(figure),
            height: 160,
            tzDate: utc,
            legend: { show: false },
            series: [
              {},
              { label: 'completed', stroke: '#2f855a', fill: 'rgba(47,133,90,0.12)', width: 1.5 },
              { label: 'failed', stroke: '#c53030', width: 1.5 },
            ],
            axes: [{}, { size: 40 }],
            scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          },
          values,
          figure,
        );
        chart = { plot, figure, totals };
        charts.set(name, chart);
      } else {
        chart.plot.setData(values);
      }
      const completed = series.completed.reduce((a, b) => a + b, 0);
      const failed = series.failed.reduce((a, b) => a + b, 0);
      chart.figure.dataset.completed = String(completed);
      chart.figure.dataset.failed = String(failed);
      chart.totals.textContent = `${completed} completed · ${failed} failed`;
    }
  }

  window.addEventListener('resize', () => {
    const box = document.getElementById('charts');
    if (!box) return;
    for (const { plot, figure } of charts.values()) plot.setSize({ width: chartWidth(figure), height: 160 });
  });
})();
