/**
 * Recipes of docs/http.md, run for real: the handler mounted under a sub-path of an Express app
 * and of a Fastify app (through @fastify/express), on a real port, next to the host's own routes,
 * without replacing the host's globals (`Request`, `Response`, `fetch`).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import fastifyExpress from '@fastify/express';
import express from 'express';
import Fastify from 'fastify';
import { createHttpHandler, nodeListener, serveHttp } from '../src/http/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';
import { sseReader } from './support/sse.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
const globals = {
  Request: globalThis.Request,
  Response: globalThis.Response,
  fetch: globalThis.fetch,
  Headers: globalThis.Headers,
};

async function mountedHandler(t: TestContext) {
  const db = await sqliteDatabases.create();
  const jobwire = await createJobwire({ driver: await db.open(), tasks: [echo] });
  const handler = createHttpHandler(jobwire, { auth: { token: TOKEN }, basePath: '/admin/jobs' });
  t.after(async () => {
    handler.close();
    await jobwire.close();
    await db.cleanup();
  });
  return { jobwire, handler };
}

/** What every mounted recipe must do, against `base` (the host app's origin). */
async function exercise(base: string): Promise<void> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const home = await fetch(`${base}/`);
  assert.equal(await home.text(), 'host home', "the host's own route still answers");
  const enqueued = await fetch(`${base}/admin/jobs/api/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ task: 'echo', payload: { n: 1 }, options: { runAt: Date.now() + 3_600_000 } }),
  });
  assert.equal(enqueued.status, 201, await enqueued.clone().text());
  const listed = (await (await fetch(`${base}/admin/jobs/api/jobs`, { headers: auth })).json()) as {
    jobs: { task: string }[];
  };
  assert.deepEqual(
    listed.jobs.map((j) => j.task),
    ['echo'],
  );
  const unauthorized = await fetch(`${base}/admin/jobs/api/jobs`);
  assert.equal(unauthorized.status, 401);
  assert.match(unauthorized.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const page = await fetch(`${base}/admin/jobs/jobs`, {
    headers: { accept: 'text/html' },
    redirect: 'manual',
  });
  assert.equal(page.status, 302);
  assert.equal(
    page.headers.get('location'),
    `/admin/jobs/login?next=${encodeURIComponent('/admin/jobs/jobs')}`,
  );
  const signIn = await fetch(`${base}/admin/jobs/login?token=${TOKEN}`, { redirect: 'manual' });
  assert.equal(signIn.status, 303);
  assert.equal(signIn.headers.get('location'), '/admin/jobs/');
  assert.match(signIn.headers.get('set-cookie') ?? '', /Path=\/admin\/jobs/);
  assert.equal((await fetch(`${base}/admin/jobs/healthz`)).status, 200);
  // The live stream passes through the host unbuffered.
  const controller = new AbortController();
  const stream = await fetch(`${base}/admin/jobs/api/events/stream?after=start`, {
    headers: auth,
    signal: controller.signal,
  });
  assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
  const frames = sseReader(stream);
  const first = await frames.nextEvent();
  assert.equal(first?.event, 'job:queued');
  controller.abort();
  await frames.cancel();
  for (const [name, value] of Object.entries(globals)) {
    assert.equal((globalThis as Record<string, unknown>)[name], value, `global ${name} left alone`);
  }
}

function listen(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('mounting the HTTP handler', () => {
  it('under a sub-path of an Express app', async (t) => {
    const { handler } = await mountedHandler(t);
    const app = express();
    app.get('/', (_req, res) => {
      res.send('host home');
    });
    // Before any body parser of the host: the handler reads its own bodies.
    app.use('/admin/jobs', nodeListener(handler));
    app.use(express.json());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    t.after(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    await exercise(listen(server));
  });

  it('under a sub-path of a Fastify app (@fastify/express)', async (t) => {
    const { handler } = await mountedHandler(t);
    const app = Fastify();
    await app.register(fastifyExpress);
    app.use('/admin/jobs', nodeListener(handler));
    app.get('/', async () => 'host home');
    await app.listen({ port: 0, host: '127.0.0.1' });
    t.after(async () => {
      app.server.closeAllConnections();
      await app.close();
    });
    await exercise(listen(app.server));
  });

  it('standalone with serveHttp', async (t) => {
    const { handler } = await mountedHandler(t);
    const served = await serveHttp(handler, { port: 0 });
    t.after(() => served.close());
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/admin\/jobs$/);
    const r = await fetch(`${served.url}/api/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200);
  });
});
