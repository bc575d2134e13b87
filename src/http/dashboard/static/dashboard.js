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

  // -- Answers the dashboard did not write ----------------------------------------------------
  // The handler in front of the dashboard answers some requests itself, in JSON: 401 when the
  // session expired or the server restarted with a new secret, 403 for a stale CSRF token, 503
  // while the database is down. Show their message in the flash area, as text, instead of
  // swapping raw JSON into the flash area or over the jobs list.
  const flash = (message, signedOut) => {
    const box = document.getElementById('flash');
    if (!box) return;
    const p = document.createElement('p');
    p.className = 'flash error';
    p.setAttribute('role', 'alert');
    p.textContent = message;
    if (signedOut) {
      p.dataset.signedOut = 'true';
      const link = document.createElement('a');
      link.href = location.href; // a page load signs in again (the sign-in form, or the browser asks)
      link.textContent = 'Reload to sign in again';
      p.append(' ', link);
    }
    box.replaceChildren(p);
  };
  const signedOutMessage = 'You are signed out (the session expired or the server restarted).';

  document.addEventListener('htmx:beforeSwap', (event) => {
    const xhr = event.detail.xhr;
    if (!xhr || !/json/.test(xhr.getResponseHeader('content-type') || '')) return;
    event.detail.shouldSwap = false;
    event.detail.isError = false; // handled here: htmx need not log it as well
    let message = `The server answered ${xhr.status}.`;
    try {
      const body = JSON.parse(xhr.responseText);
      if (typeof body?.error?.message === 'string') message = body.error.message;
    } catch {
      // not JSON after all: the status says enough
    }
    if (xhr.status === 401) flash(signedOutMessage, true);
    else flash(message, false);
  });

  // The live stream failed: when the reason is that this browser is signed out, say so (the
  // stream would otherwise retry in silence and the page would look current but stand still).
  let checking = false;
  const checkSignedIn = () => {
    if (checking) return;
    checking = true;
    fetch(location.href, { method: 'HEAD', redirect: 'manual', cache: 'no-store' })
      .then((response) => {
        if (response.status === 401 || response.type === 'opaqueredirect') flash(signedOutMessage, true);
      })
      .catch(() => {
        // the server is down: the light says so, and the stream reconnects by itself
      })
      .finally(() => {
        checking = false;
      });
  };

  // Live status light.
  const status = () => document.getElementById('live-status');
  document.addEventListener('htmx:sseOpen', (event) => {
    status()?.classList.add('on');
    status()?.classList.remove('off');
    watchChart(event.detail.source);
    document.querySelector('#flash [data-signed-out]')?.remove();
  });
  document.addEventListener('htmx:sseError', () => {
    status()?.classList.add('off');
    status()?.classList.remove('on');
    checkSignedIn();
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
