/** The page a page request gets while the job store (the database) cannot be reached. */
import { html } from 'hono/html';
import { absoluteTime, type Html, type ViewContext } from './format.js';

/** Seconds between the error page's own retries (a `<meta http-equiv="refresh">`: no script). */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** The body: what happened, that nothing was changed, and that the page retries by itself. */
export function unavailableBody(ctx: ViewContext, url: string): Html {
  return html`<h1>The job store is unavailable</h1>
<p class="flash error" role="alert">The dashboard could not read the database at ${absoluteTime(ctx.now)} UTC:
the connection failed or timed out. Nothing was changed.</p>
<p>This page tries again every ${UNAVAILABLE_RETRY_SECONDS} seconds and shows what you asked for as soon as
the database answers. <a href="${url}">Try again now</a></p>
<p class="muted small">If it lasts, check that the database is running and reachable from this server
(<code>jobwire stats</code> from the same host reads it too).</p>`;
}
