/**
 * The page frame: head with the served assets (no CDN, no inline script or style: the CSP allows
 * only 'self'), navigation, the flash area actions answer into, and the page's one live stream.
 */
import { html } from 'hono/html';
import type { Html, ViewContext } from './format.js';

/** The dashboard's sections, in navigation order. */
export type Section = 'overview' | 'jobs' | 'queues' | 'schedules' | 'workers';

const NAV: readonly [Section, string, string][] = [
  ['overview', 'Overview', ''],
  ['jobs', 'Jobs', '/jobs'],
  ['queues', 'Queues', '/queues'],
  ['schedules', 'Schedules', '/schedules'],
  ['workers', 'Workers', '/workers'],
];

/**
 * htmx settings: no eval, no script execution from swapped HTML, requests to this origin only,
 * and error responses swapped too (actions answer 4xx with a message for the flash area).
 */
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '[45]..', swap: true, error: true },
  ],
});

/** A whole page. `live` is the query of its live stream (which updates it wants). */
export function layout(
  ctx: ViewContext,
  page: { title: string; section: Section; live: string; body: Html },
): Html {
  const base = ctx.base;
  // The overview is the base path itself ('/admin/jobs', not '/admin/jobs/': a mounted app's
  // routes are strict about the trailing slash).
  const home = base || '/';
  const headers = JSON.stringify({ 'x-jobwire-csrf': ctx.csrf });
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${page.title} · jobwire</title>
<link rel="icon" href="${base}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/assets/uPlot.min.css">
<link rel="stylesheet" href="${base}/assets/dashboard.css">
<script defer src="${base}/assets/htmx.min.js"></script>
<script defer src="${base}/assets/htmx-sse.js"></script>
<script defer src="${base}/assets/uPlot.iife.min.js"></script>
<script defer src="${base}/assets/dashboard.js"></script>
</head>
<body hx-ext="sse" sse-connect="${base}/ui/live${page.live}" hx-headers="${headers}" data-base="${base}"${
    ctx.readOnly ? html` data-read-only="true"` : ''
  }>
<header class="top">
  <a class="brand" href="${home}">jobwire</a>
  <nav>${NAV.map(
    ([section, label, path]) =>
      html`<a href="${path ? `${base}${path}` : home}"${section === page.section ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>
  <span class="live" id="live-status" title="Live updates">live</span>
  ${ctx.readOnly ? html`<span class="badge badge-readonly">read-only</span>` : ''}
</header>
<main>
<div id="flash" aria-live="polite"></div>
${page.body}
</main>
<footer>Times in UTC · updates pushed by the server (Server-Sent Events)</footer>
</body>
</html>`;
}
