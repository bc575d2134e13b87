/**
 * The live web dashboard: server-rendered pages (Hono's `html` template, every string escaped),
 * htmx with its SSE extension and uPlot served from the installed packages, and one Server-Sent
 * Events stream per page fed by ONE tail of the durable event log per handler. It uses only the
 * public client API. Mount it inside an authenticated app that checks the CSRF header on every
 * non-GET request: `app.route('/', dashboardRoutes(deps))` (see docs/dashboard.md).
 */
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { StorageError } from '../../index.js';
import { addActions } from './actions.js';
import { loadAssets } from './assets.js';
import { CountsCache, readQueueCounts } from './counts.js';
import type { DashboardDeps } from './deps.js';
import { type DashboardEnv, htmlText, viewContext } from './env.js';
import { LiveHub, type LivePage } from './live.js';
import { addPages } from './pages.js';
import { layout } from './views/layout.js';
import { countsTable } from './views/queues.js';
import { UNAVAILABLE_RETRY_SECONDS, unavailableBody } from './views/unavailable.js';

export type { DashboardDeps } from './deps.js';
export type { LiveOptions } from './live.js';

/** A comment line every 15 s keeps proxies from closing a quiet stream (no data, no polling). */
const HEARTBEAT_MS = 15_000;

function livePage(kind: string | undefined, id: string | undefined): LivePage {
  if (kind === 'job' && id) return { kind: 'job', jobId: id };
  if (kind === 'queues' || kind === 'jobs' || kind === 'schedules' || kind === 'workers') return { kind };
  return { kind: 'overview' };
}

/**
 * The dashboard as a Hono sub-app: `/`, `/jobs`, `/jobs/:id`, `/queues`, `/schedules`,
 * `/workers`, `/ui/*` (fragments, actions, the live stream) and `/assets/*`. Reads its assets
 * once, here; the live tail starts with the first open page.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono {
  const base = deps.basePath.replace(/\/+$/, '');
  const counts = new CountsCache(() => readQueueCounts(deps.jobwire));
  const hub = new LiveHub(
    deps.jobwire,
    counts,
    (snapshot, kind) =>
      htmlText(countsTable({ base, readOnly: deps.readOnly, csrf: '', now: Date.now() }, snapshot, kind)),
    deps.live,
  );
  deps.signal?.addEventListener('abort', () => hub.close(), { once: true });
  const env: DashboardEnv = { deps, base, counts, hub };
  const assets = loadAssets();
  const app = new Hono();

  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) return c.text('Not found', 404);
    c.header('ETag', asset.etag);
    c.header('Cache-Control', 'no-cache');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('Content-Type', asset.type);
    return c.body(asset.body);
  });

  app.get('/ui/live', (c) => {
    const page = livePage(c.req.query('page'), c.req.query('id'));
    c.header('Cache-Control', 'no-store');
    // Proxies such as nginx buffer responses unless told not to; a buffered stream is not live.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      const remove = env.hub.add({
        page,
        send: (event, data) => {
          stream.writeSSE({ event, data }).catch(() => {});
        },
      });
      const heartbeat = setInterval(() => {
        stream.write(': heartbeat\n\n').catch(() => {});
      }, HEARTBEAT_MS);
      // The handler's signal lives as long as the handler: the listener goes when the stream
      // does, or every page load and reconnect would leave one (and its stream) behind.
      let closed = () => {};
      await new Promise<void>((resolve) => {
        closed = resolve;
        stream.onAbort(resolve);
        if (deps.signal?.aborted) resolve();
        deps.signal?.addEventListener('abort', closed, { once: true });
      });
      deps.signal?.removeEventListener('abort', closed);
      clearInterval(heartbeat);
      remove();
    });
  });

  addPages(app, env);
  addActions(app, env);
  app.onError((error, c) => {
    const page = unavailablePage(env, c, error);
    if (!page) throw error; // the mounting handler answers it, as before
    return page;
  });
  return app;
}

/**
 * A page load (not a fragment, an action or an asset) that failed because the job store cannot be
 * reached: an HTML page that says so and reloads itself, instead of the handler's JSON answer.
 * Fragments and actions keep the JSON answer, which dashboard.js shows in the flash area.
 */
function unavailablePage(
  env: DashboardEnv,
  c: Context,
  error: unknown,
): Response | Promise<Response> | undefined {
  const url = new URL(c.req.url);
  const isPage =
    c.req.method === 'GET' && !c.req.header('hx-request') && !/\/(ui|assets)\//.test(url.pathname);
  if (!isPage || !(error instanceof StorageError) || error.kind !== 'unavailable') return undefined;
  const ctx = viewContext(env, c);
  c.header('Retry-After', String(UNAVAILABLE_RETRY_SECONDS));
  c.header('Cache-Control', 'no-store');
  return c.html(
    layout(ctx, {
      title: 'Job store unavailable',
      section: null,
      live: null,
      refresh: UNAVAILABLE_RETRY_SECONDS,
      body: unavailableBody(ctx, `${url.pathname}${url.search}`),
    }),
    503,
  );
}
