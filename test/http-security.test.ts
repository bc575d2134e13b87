/**
 * The HTTP handler's security and probes (on SQLite; none of it depends on the database):
 * required auth, the three auth modes, browser sessions, CSRF (the dashboard's routes included),
 * read-only mode, security headers, the base path, `/healthz` and `/readyz`, and the OpenAPI
 * document matching the routes.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Hono } from 'hono';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { dashboardRoutes } from '../src/http/dashboard/index.js';
import {
  createHttpHandler,
  csrfToken,
  type HttpHandler,
  type HttpHandlerOptions,
} from '../src/http/index.js';
import { createJobwire, defineTask, InvalidOptionError, type Jobwire } from '../src/index.js';
import { call, TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });

async function client(t: TestContext, options: { migrate?: boolean } = {}): Promise<Jobwire> {
  const db = await sqliteDatabases.create();
  // Without migrating, no task can be published yet: the test registers it after migrate().
  const jobwire = await createJobwire({
    driver: await db.open(),
    tasks: options.migrate === false ? [] : [echo],
    migrate: options.migrate,
  });
  t.after(async () => {
    await jobwire.close();
    await db.cleanup();
  });
  return jobwire;
}

/** A handler with a test route that hands out the CSRF token, and a dashboard-like sub-app. */
async function setup(t: TestContext, options: Partial<HttpHandlerOptions> = {}) {
  const jobwire = await client(t);
  const handler = createHttpHandler(jobwire, { auth: { token: TOKEN }, ...options } as HttpHandlerOptions);
  handler.app.get('/ui/csrf', (c) => c.text(csrfToken(c)));
  const dashboard = new Hono();
  dashboard.get('/jobs', (c) => c.html('<p>jobs</p>'));
  dashboard.post('/jobs/:id/retry', (c) => c.text(`retried ${c.req.param('id')}`));
  handler.app.route('/', dashboard);
  t.after(() => handler.close());
  return { jobwire, handler };
}

/** A browser: keeps cookies, sends same-origin fetch metadata unless told otherwise. */
function browser(handler: HttpHandler, origin = 'http://jobwire.test') {
  const cookies = new Map<string, string>();
  return {
    cookies,
    async request(
      method: string,
      path: string,
      init: { headers?: Record<string, string>; body?: string } = {},
    ) {
      const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
      if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const response = await handler.fetch(
        new Request(`${origin}${path}`, { method, headers, body: init.body, redirect: 'manual' }),
      );
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const [name, value] = pair!.split('=');
        if (value === '') cookies.delete(name!);
        else cookies.set(name!, value!);
      }
      return response;
    },
  };
}

describe('HTTP security', () => {
  it('refuses to start without auth, saying what to configure; checks every option', async (t) => {
    const jobwire = await client(t);
    const field = (name: string) => (error: unknown) =>
      error instanceof InvalidOptionError && error.field === name;
    assert.throws(
      () => createHttpHandler(jobwire, {} as HttpHandlerOptions),
      (error: unknown) => {
        assert.ok(field('auth')(error));
        assert.match((error as Error).message, /token.*basic.*authorize/s);
        return true;
      },
    );
    assert.throws(() => createHttpHandler(jobwire, undefined as never), field('options'));
    assert.throws(() => createHttpHandler(jobwire, { auth: { token: 'short' } }), field('auth.token'));
    assert.throws(
      () =>
        createHttpHandler(jobwire, {
          auth: { token: TOKEN, basic: { username: 'a', password: 'b' } } as never,
        }),
      field('auth'),
    );
    assert.throws(
      () => createHttpHandler(jobwire, { auth: { basic: { username: 'a:b', password: 'longenough' } } }),
      field('auth.basic.username'),
    );
    assert.throws(
      () => createHttpHandler(jobwire, { auth: { authorize: true } as never }),
      field('auth.authorize'),
    );
    assert.throws(() => createHttpHandler(jobwire, { auth: 'none', basePath: 'admin' }), field('basePath'));
    assert.throws(() => createHttpHandler(jobwire, { auth: 'none', secret: 'short' }), field('secret'));
    assert.throws(
      () => createHttpHandler(jobwire, { auth: 'none', health: { maxPending: 0 } }),
      field('health.maxPending'),
    );
    assert.throws(() => createHttpHandler({} as Jobwire, { auth: 'none' }), field('jobwire'));
  });

  it('401 JSON without or with wrong credentials, also for unknown paths; probes are open', async (t) => {
    const { handler } = await setup(t);
    for (const path of ['/api/jobs', '/api/nothing-here', '/api/openapi.json']) {
      const r = await call(handler, 'GET', path, { headers: { authorization: '' } });
      assert.equal(r.status, 401, path);
      assert.equal(r.body.error.code, 'JOBWIRE_HTTP_UNAUTHORIZED');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jobwire"');
    }
    const wrong = await call(handler, 'GET', '/api/jobs', {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    assert.equal(wrong.status, 401);
    const post = await call(handler, 'POST', '/api/jobs', {
      headers: { authorization: '' },
      body: { task: 'echo' },
    });
    assert.equal(post.status, 401);
    const probe = await call(handler, 'GET', '/healthz', { headers: { authorization: '' } });
    assert.equal(probe.status, 200);
    assert.equal(probe.headers.get('set-cookie'), null, 'probes get no cookie');
    assert.equal((await call(handler, 'GET', '/readyz', { headers: { authorization: '' } })).status, 200);
    assert.equal((await call(handler, 'GET', '/api/nothing-here')).status, 404);
  });

  it('every answer carries the security headers', async (t) => {
    const { handler } = await setup(t);
    const answers = [
      await call(handler, 'GET', '/api/jobs'),
      await call(handler, 'GET', '/api/jobs', { headers: { authorization: '' } }),
      await call(handler, 'GET', '/api/nope'),
      await call(handler, 'GET', '/api/jobs?limit=0'),
      await call(handler, 'GET', '/healthz'),
      await call(handler, 'GET', '/login', { headers: { authorization: '' } }),
      await call(handler, 'GET', '/jobs'),
    ];
    for (const r of answers) {
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    }
  });

  it('a browser signs in with the token link, gets a strict HttpOnly cookie, and needs the CSRF token to change anything', async (t) => {
    const { handler, jobwire } = await setup(t);
    const b = browser(handler);
    const page = await b.request('GET', '/jobs');
    assert.equal(page.status, 302, 'an HTML page redirects to the sign-in page');
    assert.equal(page.headers.get('location'), `/login?next=${encodeURIComponent('/jobs')}`);
    const wrong = await b.request('GET', '/login?token=wrong-token-wrong-token');
    assert.equal(wrong.status, 401);
    const signIn = await b.request('GET', `/login?token=${TOKEN}&next=${encodeURIComponent('/jobs')}`);
    assert.equal(signIn.status, 303);
    assert.equal(signIn.headers.get('location'), '/jobs');
    const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith('jobwire_session='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\//);
    assert.equal((await b.request('GET', '/jobs')).status, 200);
    assert.equal((await b.request('GET', '/api/jobs')).status, 200);

    const enqueue = (headers: Record<string, string>) =>
      b.request('POST', '/api/jobs', {
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"task":"echo"}',
      });
    const noToken = await enqueue({ 'sec-fetch-site': 'same-origin' });
    assert.equal(noToken.status, 403);
    assert.equal(((await noToken.json()) as { error: { code: string } }).error.code, 'JOBWIRE_HTTP_CSRF');
    const token = await (await b.request('GET', '/ui/csrf')).text();
    assert.equal((await enqueue({ 'sec-fetch-site': 'cross-site', 'x-jobwire-csrf': token })).status, 403);
    assert.equal((await enqueue({ origin: 'https://evil.example', 'x-jobwire-csrf': token })).status, 403);
    assert.equal(
      (await enqueue({ 'sec-fetch-site': 'same-origin', 'x-jobwire-csrf': `${token}x` })).status,
      403,
    );
    assert.equal((await jobwire.countJobs()).pending, 0, 'nothing stored by a refused request');
    const ok = await enqueue({
      'sec-fetch-site': 'same-origin',
      origin: 'http://jobwire.test',
      'x-jobwire-csrf': token,
    });
    assert.equal(ok.status, 201);
    // The dashboard's own state-changing routes are covered too.
    assert.equal(
      (await b.request('POST', '/jobs/7/retry', { headers: { 'sec-fetch-site': 'same-origin' } })).status,
      403,
    );
    const retried = await b.request('POST', '/jobs/7/retry', {
      headers: { 'sec-fetch-site': 'same-origin', 'x-jobwire-csrf': token },
    });
    assert.equal(await retried.text(), 'retried 7');
    // Another browser's token is worthless here.
    const other = browser(handler);
    await other.request('GET', `/login?token=${TOKEN}`);
    const otherToken = await (await other.request('GET', '/ui/csrf')).text();
    assert.notEqual(otherToken, token);
    assert.equal(
      (await enqueue({ 'sec-fetch-site': 'same-origin', 'x-jobwire-csrf': otherToken })).status,
      403,
    );

    const out = await b.request('POST', '/logout', {
      headers: { 'sec-fetch-site': 'same-origin', 'x-jobwire-csrf': token },
    });
    assert.equal(out.status, 303);
    assert.equal((await b.request('GET', '/api/jobs')).status, 401);
  });

  it('an event stream opened on a session ends when the session expires; a bearer one does not', async (t) => {
    const { handler } = await setup(t, { sessionTtlMs: 1_500 });
    const b = browser(handler);
    assert.equal((await b.request('GET', `/login?token=${TOKEN}`)).status, 303);
    const opened = Date.now();
    const stream = await b.request('GET', '/api/events/stream', { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    const bearer = await call(handler, 'GET', '/api/openapi.json');
    assert.equal(bearer.status, 200);
    const bearerStream = await handler.fetch(
      new Request('http://jobwire.test/api/events/stream', { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    const reader = stream.body!.getReader();
    // Before, it went on (heartbeats, events) for as long as the browser kept it open.
    const ended = await Promise.race([
      (async () => {
        while (!(await reader.read()).done) {}
        return Date.now() - opened;
      })(),
      new Promise<string>((resolve) => setTimeout(() => resolve('still open after 8 s'), 8_000).unref()),
    ]);
    assert.equal(typeof ended, 'number', String(ended));
    assert.ok((ended as number) >= 1_000, `ended at the expiry, not at once (${ended} ms)`);
    // Its reconnect is refused: the page learns it is signed out.
    assert.equal((await b.request('GET', '/api/events/stream')).status, 401);
    // A stream opened with a bearer token is not tied to any session.
    const bearerReader = bearerStream.body!.getReader();
    const more = await Promise.race([
      bearerReader.read().then((r) => (r.done ? 'ended' : 'data')),
      new Promise<string>((resolve) => setTimeout(() => resolve('open'), 200).unref()),
    ]);
    assert.notEqual(more, 'ended');
    await bearerReader.cancel();
  });

  it('the sign-in page is styled: its stylesheet and icon need no sign-in, other assets do', async (t) => {
    const { handler } = await setup(t);
    const page = await call(handler, 'GET', '/login', { headers: { authorization: '' } });
    assert.match(page.text, /<link rel="stylesheet" href="\/assets\/dashboard.css">/);
    // Before: the stylesheet was behind the sign-in it styles (401), so the page was bare.
    for (const asset of ['/assets/dashboard.css', '/assets/favicon.svg']) {
      const answer = await call(handler, 'GET', asset, { headers: { authorization: '' } });
      assert.equal(answer.status, 200, asset);
    }
    assert.equal(
      (await call(handler, 'GET', '/assets/dashboard.js', { headers: { authorization: '' } })).status,
      401,
    );
  });

  it('the sign-in form checks its CSRF field and never redirects off site', async (t) => {
    const { handler } = await setup(t);
    const b = browser(handler);
    const form = await (
      await b.request('GET', `/login?next=${encodeURIComponent('//evil.example/x')}`)
    ).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const next = /name="next" value="([^"]+)"/.exec(form)![1]!;
    assert.equal(next, '/', 'a next that leaves the site is replaced');
    const post = (body: string, headers: Record<string, string> = {}) =>
      b.request('POST', '/login', {
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
          ...headers,
        },
        body,
      });
    assert.equal((await post(`token=${TOKEN}&next=%2F`)).status, 403, 'no csrf field');
    assert.equal((await post(`token=${TOKEN}&csrf=${csrf}`, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await post(`token=nope-nope-nope-nope&csrf=${csrf}`)).status, 401);
    const ok = await post(`token=${TOKEN}&csrf=${csrf}&next=${encodeURIComponent('https://evil.example/')}`);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/');
    assert.ok(b.cookies.has('jobwire_session'));
  });

  it('basic auth: the browser is asked, and its writes need the CSRF token too; no sign-in page', async (t) => {
    const { handler, jobwire } = await setup(t, {
      auth: { basic: { username: 'ops', password: 'correct horse' } },
    });
    const basic = `Basic ${Buffer.from('ops:correct horse').toString('base64')}`;
    const none = await call(handler, 'GET', '/api/jobs', { headers: { authorization: '' } });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="jobwire", charset="UTF-8"');
    const bad = `Basic ${Buffer.from('ops:wrong').toString('base64')}`;
    assert.equal((await call(handler, 'GET', '/api/jobs', { headers: { authorization: bad } })).status, 401);
    const b = browser(handler);
    assert.equal((await b.request('GET', '/api/jobs', { headers: { authorization: basic } })).status, 200);
    const token = await (await b.request('GET', '/ui/csrf', { headers: { authorization: basic } })).text();
    const enqueue = (headers: Record<string, string>) =>
      b.request('POST', '/api/jobs', {
        headers: {
          authorization: basic,
          'content-type': 'application/json',
          'sec-fetch-site': 'same-origin',
          ...headers,
        },
        body: '{"task":"echo"}',
      });
    assert.equal((await enqueue({})).status, 403);
    assert.equal((await enqueue({ 'x-jobwire-csrf': token })).status, 201);
    assert.equal((await jobwire.countJobs()).pending, 1);
    assert.equal((await call(handler, 'GET', '/login', { headers: { authorization: basic } })).status, 404);
  });

  it('basic auth: a script (credentials in the request, no Origin, no Sec-Fetch-Site) writes without a token', async (t) => {
    const { handler, jobwire } = await setup(t, {
      auth: { basic: { username: 'ops', password: 'correct horse' } },
    });
    const basic = `Basic ${Buffer.from('ops:correct horse').toString('base64')}`;
    const post = (headers: Record<string, string>) =>
      call(handler, 'POST', '/api/jobs', {
        headers: { authorization: basic, ...headers },
        body: { task: 'echo' },
      });
    // As curl -u sends it.
    assert.equal((await post({})).status, 201);
    assert.equal((await jobwire.countJobs()).pending, 1);
    // A page's request says where it comes from, and then needs the token, same-site or not.
    for (const from of <Array<Record<string, string>>>[
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'http://evil.example' },
      { origin: 'http://jobwire.test' },
    ]) {
      const refused = await post(from);
      assert.equal(refused.status, 403, JSON.stringify(from));
      assert.equal(refused.body.error.code, 'JOBWIRE_HTTP_CSRF');
    }
    // Without credentials in the request (a cookie or nothing), the token stays required.
    const anonymous = await call(handler, 'POST', '/api/jobs', {
      headers: { authorization: '' },
      body: { task: 'echo' },
    });
    assert.equal(anonymous.status, 401);
    assert.equal((await jobwire.countJobs()).pending, 1);
  });

  it('an authorize hook decides per action: read allowed and write refused is a 403', async (t) => {
    const seen: string[] = [];
    const { handler } = await setup(t, {
      auth: {
        authorize: (request, action) => {
          seen.push(`${request.method} ${new URL(request.url).pathname} ${action}`);
          return (
            request.headers.get('x-user') === 'admin' ||
            (request.headers.get('x-user') === 'viewer' && action === 'read')
          );
        },
      },
    });
    assert.equal((await call(handler, 'GET', '/api/jobs', { headers: { 'x-user': 'viewer' } })).status, 200);
    const write = await call(handler, 'POST', '/api/queues/mail/pause', { headers: { 'x-user': 'viewer' } });
    assert.equal(write.status, 403);
    assert.equal(write.body.error.code, 'JOBWIRE_HTTP_FORBIDDEN');
    assert.equal((await call(handler, 'GET', '/api/jobs', { headers: { 'x-user': 'nobody' } })).status, 401);
    // Bearer-less writes of an allowed user still need the CSRF token (the hook may read cookies).
    const admin = await call(handler, 'POST', '/api/queues/mail/pause', {
      headers: { 'x-user': 'admin', authorization: '' },
    });
    assert.equal(admin.status, 403);
    assert.equal(admin.body.error.code, 'JOBWIRE_HTTP_CSRF');
    assert.ok(seen.includes('GET /api/jobs read'));
    assert.ok(seen.includes('POST /api/queues/mail/pause write'));
    assert.ok(!seen.some((s) => s.startsWith('GET /healthz')));
    await call(handler, 'GET', '/healthz');
    assert.ok(!seen.some((s) => s.includes('/healthz')), 'probes do not ask the hook');
  });

  it('read-only mode refuses every write with 403 JSON (the dashboard routes too) and stores nothing', async (t) => {
    const { handler, jobwire } = await setup(t, { readOnly: true });
    assert.equal(handler.readOnly, true);
    for (const [method, path] of [
      ['POST', '/api/jobs'],
      ['POST', '/api/jobs/1/retry'],
      ['DELETE', '/api/jobs/1'],
      ['POST', '/api/queues/default/pause'],
      ['POST', '/jobs/1/retry'],
    ] as const) {
      const r = await call(handler, method, path, { body: { task: 'echo' } });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.body.error.code, 'JOBWIRE_HTTP_READ_ONLY');
    }
    assert.equal((await call(handler, 'GET', '/api/jobs')).status, 200);
    assert.equal((await jobwire.countJobs()).pending, 0);
    assert.deepEqual(await jobwire.listQueues(), []);
  });

  it('serves under a base path, whether or not the host strips it; links and the cookie use it', async (t) => {
    const { handler } = await setup(t, { basePath: '/admin/jobs/' });
    assert.equal(handler.basePath, '/admin/jobs');
    assert.equal((await call(handler, 'GET', '/admin/jobs/api/jobs')).status, 200);
    assert.equal((await call(handler, 'GET', '/api/jobs')).status, 200, 'a host that strips the prefix');
    const b = browser(handler);
    const page = await b.request('GET', '/admin/jobs/jobs?state=failed');
    assert.equal(
      page.headers.get('location'),
      `/admin/jobs/login?next=${encodeURIComponent('/admin/jobs/jobs?state=failed')}`,
    );
    const signIn = await b.request('GET', `/admin/jobs/login?token=${TOKEN}`);
    assert.equal(signIn.headers.get('location'), '/admin/jobs/');
    assert.match(signIn.headers.getSetCookie().join('\n'), /jobwire_session=[^;]+;.*Path=\/admin\/jobs/);
    const doc = await call(handler, 'GET', '/admin/jobs/api/openapi.json');
    assert.deepEqual(doc.body.servers, [{ url: '/admin/jobs' }]);
  });

  it('/readyz: 503 with reasons while migrations are pending or thresholds are crossed, 200 when ready', async (t) => {
    const fresh = await client(t, { migrate: false });
    const handler = createHttpHandler(fresh, {
      auth: { token: TOKEN },
      health: { maxPending: 1, maxOldestPendingMs: 60_000 },
    });
    const pending = await call(handler, 'GET', '/readyz', { headers: { authorization: '' } });
    assert.equal(pending.status, 503, pending.text);
    assert.equal(pending.body.status, 'not-ready');
    assert.match(pending.body.reasons[0], /migrations pending: the database schema is version 0/);
    await fresh.migrate();
    fresh.registerTask(echo);
    const ready = await call(handler, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.body.reasons, []);
    assert.equal(ready.body.schema.current, ready.body.schema.latest);
    await fresh.enqueue('echo', 1, { runAt: Date.now() - 120_000 });
    await fresh.enqueue('echo', 2);
    const crossed = await call(handler, 'GET', '/readyz');
    assert.equal(crossed.status, 503);
    assert.equal(crossed.body.reasons.length, 2, crossed.text);
    // The read stops at maxPending + 1 jobs: enough to say "more than", not how many.
    assert.match(crossed.body.reasons.join('\n'), /queue "default": more than 1 due jobs waiting/);
    assert.match(
      crossed.body.reasons.join('\n'),
      /queue "default": the oldest due job has waited \d+ ms, over 60000 ms/,
    );
    // Paused on purpose, its backlog is not this instance's readiness (before: still 503).
    await fresh.pauseQueue('default');
    const paused = await call(handler, 'GET', '/readyz');
    assert.equal(paused.status, 200, paused.text);
    await fresh.resumeQueue('default');
    assert.equal((await call(handler, 'GET', '/readyz')).status, 503);
    assert.equal((await call(handler, 'GET', '/healthz')).body.status, 'ok');
  });

  it('/readyz is 503 when the database cannot be used, /healthz still 200', async (t) => {
    const db = await sqliteDatabases.create();
    t.after(() => db.cleanup());
    const jobwire = await createJobwire({ driver: sqliteDriver({ path: `${db.location}` }) });
    const handler = createHttpHandler(jobwire, { auth: 'none' });
    await jobwire.close();
    const r = await call(handler, 'GET', '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(r.body.reasons, ['the database is not usable (JOBWIRE_CLOSED)']);
    assert.equal((await call(handler, 'GET', '/healthz')).status, 200);
  });

  it('the OpenAPI document describes every route of the app, and only those', async (t) => {
    const jobwire = await client(t);
    const handler = createHttpHandler(jobwire, { auth: { token: TOKEN } });
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    assert.equal(doc.openapi, '3.1.0');
    // The dashboard's HTML pages, fragments and assets are mounted on the same app but are not
    // the JSON API (docs/dashboard.md); everything else must be described.
    const key = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
    const dashboard = new Set(
      dashboardRoutes({ jobwire, readOnly: false, basePath: '', csrfToken: () => '' }).routes.map(key),
    );
    const routes = new Set(
      handler.app.routes
        .filter((route) => route.method !== 'ALL' && !dashboard.has(key(route)))
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    );
    const described = new Set(
      Object.entries(doc.paths as Record<string, object>).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method} ${path}`),
      ),
    );
    assert.deepEqual(
      [...routes].filter((r) => !described.has(r)),
      [],
      'routes missing from the document',
    );
    assert.deepEqual(
      [...described].filter((r) => !routes.has(r)),
      [],
      'documented paths without a route',
    );
    assert.ok(routes.size >= 25);
  });
});
