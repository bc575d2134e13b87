/**
 * `jobwire dashboard` serves the HTTP API of a database and prints a sign-in link; `jobwire dev`
 * (`npm start`) serves it next to the demo and prints the link on stderr.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type ServedDashboard, serveDashboard } from '../src/cli/http-serve.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { ROOT, runCliInProcess, useCliTestEnvironment } from './support/cli.js';
import { startCliInProcess } from './support/cli-live.js';

useCliTestEnvironment();
delete process.env.JOBWIRE_HTTP_TOKEN;
const dir = mkdtempSync(join(tmpdir(), 'jobwire-cli-dashboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** A migrated database with one published task and one waiting job. */
async function database(): Promise<string> {
  const path = join(dir, `db-${++counter}.db`);
  const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
  const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [echo] });
  await jobwire.enqueue(echo, { hello: 'world' }, { runAt: Date.now() + 3_600_000 });
  await jobwire.close();
  return path;
}

describe('jobwire dashboard', () => {
  it('serves the API with a generated token and prints a sign-in link that opens a session', async () => {
    const run = startCliInProcess(['dashboard', '--port', '0', '--db', await database()]);
    try {
      await run.until('the sign-in link', (out) => /sign in: \S+/.test(out));
      const login = /sign in: (\S+)/.exec(run.stdout())![1]!;
      const url = new URL(login);
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(url.pathname, '/login');
      const token = url.searchParams.get('token')!;
      assert.ok(token.length >= 32, 'a generated token');
      const signIn = await fetch(login, { redirect: 'manual' });
      assert.equal(signIn.status, 303);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      const page = await fetch(`${url.origin}/api/jobs`, { headers: { cookie } });
      assert.equal(page.status, 200);
      const jobs = ((await page.json()) as { jobs: { task: string }[] }).jobs;
      assert.deepEqual(
        jobs.map((j) => j.task),
        ['echo'],
      );
      // Enqueue by name with the published defaults: this process has no task code.
      const enqueued = await fetch(`${url.origin}/api/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'echo', payload: 1 }),
      });
      assert.equal(enqueued.status, 201, await enqueued.clone().text());
      assert.equal((await fetch(`${url.origin}/api/jobs`)).status, 401);
      assert.equal((await fetch(`${url.origin}/healthz`)).status, 200);
    } finally {
      assert.equal(await run.stop(), 0, run.stderr());
    }
  });

  it('--read-only refuses changes; --token is used as given', async () => {
    const token = 'my-own-token-0123456789';
    const run = startCliInProcess([
      'dashboard',
      '--port',
      '0',
      '--db',
      await database(),
      '--token',
      token,
      '--read-only',
    ]);
    try {
      await run.until('the sign-in link', (out) => /sign in: \S+/.test(out));
      assert.match(run.stdout(), /read-only/);
      const origin = new URL(/sign in: (\S+)/.exec(run.stdout())![1]!).origin;
      const r = await fetch(`${origin}/api/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'echo' }),
      });
      assert.equal(r.status, 403);
      assert.equal(
        (await fetch(`${origin}/api/jobs`, { headers: { authorization: `Bearer ${token}` } })).status,
        200,
      );
    } finally {
      assert.equal(await run.stop(), 0);
    }
  });

  it('a kept --token keeps browser sessions across a restart; a generated one does not', async () => {
    const path = await database();
    const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [] });
    const opened: ServedDashboard[] = [];
    const serve = async (token?: string) => {
      const served = await serveDashboard(jobwire, { port: 0, host: '127.0.0.1', token });
      opened.push(served);
      return served;
    };
    try {
      const signIn = async (served: ServedDashboard) => {
        const answer = await fetch(served.loginUrl, { redirect: 'manual' });
        const cookie = answer.headers.getSetCookie().find((c) => c.startsWith('jobwire_session='));
        assert.ok(cookie, 'the sign-in link sets a session cookie');
        return cookie.split(';')[0]!;
      };
      const jobs = (served: ServedDashboard, cookie: string) =>
        fetch(`${served.server.url}/api/jobs`, { headers: { cookie } }).then((r) => r.status);
      const token = 'kept-token-kept-token-kept-token';
      const first = await serve(token);
      const cookie = await signIn(first);
      assert.equal(await jobs(first, cookie), 200);
      // A restart: another handler on the same token. Before, the session secret was drawn anew
      // per run, so a restart signed every browser out.
      const again = await serve(token);
      assert.equal(await jobs(again, cookie), 200, 'the same token: still signed in');
      const other = await serve(`${token}-rotated`);
      assert.equal(await jobs(other, cookie), 401, 'another token ends the sessions');
      const generated = await serve();
      const generatedCookie = await signIn(generated);
      const nextRun = await serve();
      assert.equal(await jobs(nextRun, generatedCookie), 401, 'a generated token lives one run');
    } finally {
      for (const served of opened) await served.server.close();
      await jobwire.close();
    }
  });

  it("--tasks checks payloads against the schemas of the workers' module, and publishes nothing", async () => {
    const path = await database();
    const module = join(dir, `tasks-${++counter}.mjs`);
    // What a worker's module looks like: a task with a schema (Standard Schema, here by hand).
    writeFileSync(
      module,
      `import { defineTask } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
export const resize = defineTask({
  name: 'resize',
  queue: 'media',
  schema: { '~standard': { version: 1, vendor: 'test', validate: (value) =>
    typeof value?.width === 'number' ? { value } : { issues: [{ message: 'width must be a number', path: ['width'] }] } } },
  handler: async () => { throw new Error('never run by the dashboard'); },
});
`,
    );
    const token = 'tasks-token-0123456789abcdef';
    const run = startCliInProcess([
      'dashboard',
      '--port',
      '0',
      '--db',
      path,
      '--token',
      token,
      '--tasks',
      module,
    ]);
    try {
      await run.until('the sign-in link', (out) => /sign in: \S+/.test(out));
      const origin = new URL(/sign in: (\S+)/.exec(run.stdout())![1]!).origin;
      const post = (payload: unknown) =>
        fetch(`${origin}/api/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ task: 'resize', payload }),
        });
      // Before, this was stored (201) and the worker abandoned it: the dashboard knew no schema.
      const bad = await post({ width: 'wide' });
      assert.equal(bad.status, 422, await bad.clone().text());
      assert.match(
        ((await bad.json()) as { error: { message: string } }).error.message,
        /width must be a number/,
      );
      const good = await post({ width: 640 });
      assert.equal(good.status, 201, await good.clone().text());
      assert.equal(
        ((await good.json()) as { job: { queue: string } }).job.queue,
        'media',
        "the task's defaults",
      );
    } finally {
      assert.equal(await run.stop(), 0, run.stderr());
    }
    const check = await createJobwire({ driver: sqliteDriver({ path }), migrate: false });
    try {
      assert.equal(await check.getPublishedTask('resize'), undefined, 'the dashboard published no defaults');
      assert.equal((await check.listJobs({ task: 'resize' })).jobs.length, 1, 'only the good payload');
    } finally {
      await check.close();
    }
  });

  it('bad options are usage errors (exit 2)', async () => {
    const db = await database();
    const short = await runCliInProcess(['dashboard', '--db', db, '--token', 'short']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--token must be at least 16 characters/);
    const port = await runCliInProcess(['dashboard', '--db', db, '--port', '70000']);
    assert.equal(port.code, 2);
    const dev = await runCliInProcess(['dev', '--db', join(dir, 'dev-x.db'), '--no-http', '--port', '9000']);
    assert.equal(dev.code, 2);
    assert.match(dev.stderr, /--no-http/);
  });

  it('jobwire dev (npm start) serves the dashboard and prints its sign-in link', async () => {
    const run = startCliInProcess([
      'dev',
      '--db',
      join(dir, 'dev.db'),
      '--jobs',
      '2',
      '--port',
      '0',
      '--no-schedules',
    ]);
    try {
      await run.until('the sign-in link', (_out, err) => /sign in: +\S+/.test(err), 30_000);
      const login = /sign in: +(\S+)/.exec(run.stderr())![1]!;
      const { origin } = new URL(login);
      const token = new URL(login).searchParams.get('token')!;
      const r = await fetch(`${origin}/api/tasks`, { headers: { authorization: `Bearer ${token}` } });
      assert.ok(((await r.json()) as { registered: string[] }).registered.includes('send-email'));
      // The link is printed before the pool listens for SIGTERM: a stop sent earlier is lost and
      // the command never exits (a CI run timed out so, under load).
      await run.until('the pool to start', (out) => /pool:started/.test(out), 30_000);
    } finally {
      assert.equal(await run.stop(), 0, run.stderr());
    }
  });
});
