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

  // Live status light: on (green) while the stream is open and the job store answers, down
  // (amber) while the server says the store does not answer, off (red) while the stream is cut.
  const status = () => document.getElementById('live-status');
  let storeDown = false;
  const showLight = (state) => {
    const light = status();
    if (!light) return;
    for (const name of ['on', 'off', 'down']) light.classList.toggle(name, name === state);
    light.textContent = state === 'down' ? 'database down' : 'live';
    light.title =
      state === 'down'
        ? 'The job store does not answer: what the page shows stopped changing'
        : state === 'off'
          ? 'Live updates are cut: reconnecting'
          : 'Live updates';
  };
  document.addEventListener('htmx:sseOpen', (event) => {
    showLight(storeDown ? 'down' : 'on');
    watchChart(event.detail.source);
    watchStatus(event.detail.source);
    document.querySelector('#flash [data-signed-out]')?.remove();
  });
  document.addEventListener('htmx:sseError', () => {
    showLight('off');
    checkSignedIn();
  });

  // -- The job store is down ---------------------------------------------------------------------
  // The server pushes `status` {"store":"down","since":ms} when it cannot read the database, and
  // {"store":"up"} when it can again (then a full refresh follows). Say so: the light, a short
  // notice, and the live parts dimmed, instead of frozen numbers that look current.
  const utcTime = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const statusSources = new WeakSet();
  function watchStatus(source) {
    if (statusSources.has(source)) return;
    statusSources.add(source);
    source.addEventListener('status', (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      storeDown = data.store === 'down';
      const notice = document.getElementById('live-notice');
      if (storeDown) {
        showLight('down');
        document.body.dataset.storeDown = 'true';
        if (notice) {
          notice.textContent =
            `The job store (database) is unavailable since ${utcTime(data.since)} UTC: what this page shows ` +
            'stopped changing then. The server retries every second and the page updates by itself when it is back.';
          notice.hidden = false;
        }
      } else {
        showLight('on');
        delete document.body.dataset.storeDown;
        if (notice) {
          notice.hidden = true;
          notice.textContent = '';
        }
      }
    });
  }

  // -- Sign out ----------------------------------------------------------------------------------
  // The form posts with htmx (which sends the x-jobwire-csrf header the handler checks); once the
  // session is ended, go to the sign-in page.
  document.addEventListener('htmx:afterRequest', (event) => {
    const form = event.detail.elt;
    if (!(form instanceof Element) || !form.hasAttribute('data-sign-out')) return;
    if (event.detail.successful) location.assign(`${document.body.dataset.base || ''}/login`);
  });

  // -- The live jobs list keeps the user's place -------------------------------------------------
  // The list re-fetches itself when jobs change (up to twice a second under load). While the
  // pointer is over it or the focus is in it, a refresh waits (rows never move under the mouse or
  // the keyboard), and the page says an update is waiting; it comes as soon as both leave. Links
  // in the list have stable ids, so if a swap happens anyway htmx puts the focus back.
  const heldNote = () => document.getElementById('job-list-held');
  const interacting = (list) => list.matches(':hover') || list.contains(document.activeElement);
  const setHeld = (list, held) => {
    list.dataset.held = held ? 'true' : 'false';
    const note = heldNote();
    if (note) note.hidden = !held;
  };
  const releaseList = (list) => {
    if (list.dataset.held !== 'true' || interacting(list)) return;
    setHeld(list, false);
    htmx.trigger(document.body, 'jobs-changed');
  };
  document.addEventListener('htmx:beforeRequest', (event) => {
    const list = event.detail.elt;
    if (!(list instanceof Element) || !list.hasAttribute('data-live-list')) return;
    if (!interacting(list)) return;
    event.preventDefault();
    setHeld(list, true);
  });
  for (const list of document.querySelectorAll('[data-live-list]')) {
    list.addEventListener('mouseleave', () => releaseList(list));
    // Where the focus went is known only after focusout.
    list.addEventListener('focusout', () => setTimeout(() => releaseList(list), 0));
  }

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
  // Tick labels: 24-hour UTC times on one line (uPlot's default is a 12-hour time with the date
  // on a second line, which the left edge cut). The date is said once, above the charts.
  const two = (n) => String(n).padStart(2, '0');
  const tickLabel = (ts, seconds) => {
    const d = new Date(ts * 1000);
    const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    return seconds ? `${hm}:${two(d.getUTCSeconds())}` : hm;
  };
  const xTicks = (figure) => (_u, splits, _axis, _space, increment) => {
    const seconds = increment < 60 || splits.some((ts) => Math.round(ts) % 60 !== 0);
    const labels = splits.map((ts) => tickLabel(ts, seconds));
    figure.dataset.xTicks = labels.join(' ');
    return labels;
  };

  // Which queues the charts leave out (at most data.limit are charted), and the time window.
  function describeCharts(data) {
    const omitted = document.getElementById('charts-omitted');
    if (omitted) {
      const names = data.omitted || [];
      omitted.hidden = names.length === 0;
      omitted.textContent =
        names.length === 0
          ? ''
          : `Not charted (at most ${data.limit} queues are): ${names.join(', ')}${data.omittedMore ? ' and more' : ''}.`;
    }
    const span = document.getElementById('charts-window');
    const buckets = Object.values(data.queues)[0]?.completed.length ?? 0;
    if (span && buckets > 0) {
      const end = data.start + buckets * data.bucketMs;
      span.textContent = `From ${utcTime(data.start)} to ${utcTime(end)} UTC.`;
    }
  }

  function drawCharts(data) {
    const box = document.getElementById('charts');
    if (!box || typeof uPlot === 'undefined') return;
    const names = Object.keys(data.queues);
    document.getElementById('charts-empty')?.toggleAttribute('hidden', names.length > 0);
    describeCharts(data);
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
        title.title = name; // a long name is cut with an ellipsis: the whole of it on hover
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
            // `space`: room for an HH:MM:SS label between two ticks.
            axes: [{ values: xTicks(figure), space: 80 }, { size: 40 }],
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
