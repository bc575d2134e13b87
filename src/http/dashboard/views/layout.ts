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

/**
 * "Sign out" (token sign-in only): a POST to the handler's `/logout`. dashboard.js sends it with
 * htmx, which adds the `x-jobwire-csrf` header the handler checks; the form also carries the
 * token as a field.
 */
function signOut(ctx: ViewContext): Html {
  if (!ctx.signOut) return html``;
  return html`<form class="sign-out" method="post" action="${ctx.base}/logout" hx-post="${ctx.base}/logout"
  hx-swap="none" data-sign-out><input type="hidden" name="csrf" value="${ctx.csrf}"><button type="submit" class="small">Sign out</button></form>`;
}

/**
 * A whole page. `live` is the query of its live stream (which updates it wants), `null` for a
 * page without one (the error page); `refresh` reloads the page after that many seconds.
 */
export function layout(
  ctx: ViewContext,
  page: { title: string; section: Section | null; live: string | null; body: Html; refresh?: number },
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
${page.refresh ? html`<meta http-equiv="refresh" content="${page.refresh}">` : ''}
<title>${page.title} · jobwire</title>
<link rel="icon" href="${base}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}/assets/uPlot.min.css">
<link rel="stylesheet" href="${base}/assets/dashboard.css">
<script defer src="${base}/assets/htmx.min.js"></script>
<script defer src="${base}/assets/htmx-sse.js"></script>
<script defer src="${base}/assets/uPlot.iife.min.js"></script>
<script defer src="${base}/assets/dashboard.js"></script>
</head>
<body${page.live === null ? '' : html` hx-ext="sse" sse-connect="${base}/ui/live${page.live}"`} hx-headers="${headers}" data-base="${base}"${
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
  ${signOut(ctx)}
</header>
<main>
<div class="messages">
<p id="live-notice" class="flash warn" role="status" hidden></p>
<div id="flash" aria-live="polite"></div>
</div>
${page.body}
</main>
<footer>Times in UTC · updates pushed by the server (Server-Sent Events)</footer>
</body>
</html>`;
}
