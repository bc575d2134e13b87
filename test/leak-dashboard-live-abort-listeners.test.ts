/**
 * A long-running dashboard must not keep anything of a live stream after the stream ended. Each
 * `/ui/live` stream listened for the handler's close signal (so `handler.close()` ends it) and
 * never removed that listener when the browser went away: every page load, reload or reconnect
 * left one more 'abort' listener on the handler-lifetime signal — and through its closure the
 * stream itself. Seen in a soak (session 44): a dashboard serving a page that reconnects every
 * 10 s printed MaxListenersExceededWarning ("11 abort listeners added to [AbortSignal]") within
 * two minutes, and the listeners kept growing with every reconnect.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { Hono } from 'hono';
import { dashboardRoutes } from '../src/http/dashboard/index.js';
import { createJobwire, type Jobwire } from '../src/index.js';
import { sqliteDatabases } from './support/sqlite.js';

let jobwire: Jobwire;
let cleanup: () => Promise<void>;

before(async () => {
  const db = await sqliteDatabases.create();
  cleanup = db.cleanup;
  jobwire = await createJobwire({ driver: await db.open(), tasks: [] });
});

after(async () => {
  await jobwire.close();
  await cleanup();
});

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

test('a closed live stream leaves no listener on the handler close signal', async () => {
  const closing = new AbortController();
  const app = new Hono();
  app.route(
    '/',
    dashboardRoutes({
      jobwire,
      readOnly: false,
      basePath: '',
      csrfToken: () => 'token',
      signal: closing.signal,
      live: { coalesceMs: 50, pollMs: 50 },
    }),
  );
  const baseline = abortListeners(closing.signal);
  const streams = 40;
  for (let i = 0; i < streams; i++) {
    const response = await app.request('/ui/live?page=overview');
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    await reader.read(); // the stream is running (a new overview page gets its chart at once)
    await reader.cancel(); // the browser went away
  }
  // Let every stream's handler see its abort and finish.
  const deadline = Date.now() + 5000;
  while (abortListeners(closing.signal) > baseline + 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(
    abortListeners(closing.signal) <= baseline + 1,
    `after ${streams} closed live streams the close signal has ${abortListeners(closing.signal)} abort listeners (baseline ${baseline})`,
  );
  closing.abort();
});
