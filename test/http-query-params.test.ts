/**
 * Query parameters of the HTTP API (on SQLite; the check is in the HTTP layer): a parameter a
 * route does not read, or a single-valued one given twice, is a 400 naming it (with the closest
 * known name) before the route does anything; every documented parameter keeps working, and so
 * do the dashboard's pages and a host's own routes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineSchedule, defineTask } from '../src/index.js';
import { call, httpFixture, TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
const later = () => Date.now() + 3_600_000;

describe('HTTP API query parameters', () => {
  it('a misspelt filter is a 400 naming it and the parameter it likely meant, not every job', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.enqueue('echo', 1, { runAt: later() });
    await jobwire.enqueue('echo', 2);
    const r = await call(handler, 'GET', '/api/jobs?status=pending');
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION');
    assert.equal(r.body.error.details.field, 'status');
    assert.equal(r.body.error.details.in, 'query');
    assert.equal(r.body.error.details.suggestion, 'state');
    assert.deepEqual(r.body.error.details.known, ['state', 'queue', 'task', 'limit', 'cursor']);
    assert.match(r.body.error.message, /"status".*did you mean "state"\?/);
    // Also under a base path, and with HEAD (answered by the GET route).
    const based = await httpFixture(t, sqliteDatabases, { http: { basePath: '/admin/jobs' } });
    const under = await call(based.handler, 'GET', '/admin/jobs/api/events/stream?limit=5');
    assert.equal(under.status, 400, under.text);
    assert.equal(under.body.error.details.field, 'limit');
    assert.equal((await call(handler, 'HEAD', '/api/jobs?stat=pending')).status, 400);
  });

  it('a single-valued parameter given twice is a 400; the list filters may repeat', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.enqueue('echo', 1, { runAt: later() });
    await jobwire.enqueue('echo', 2);
    const twice = await call(handler, 'GET', '/api/jobs?limit=1&limit=2');
    assert.equal(twice.status, 400, twice.text);
    assert.equal(twice.body.error.details.field, 'limit');
    assert.match(twice.body.error.message, /given 2 times/);
    for (const path of ['/api/events?after=start&after=now', '/api/stats?windowMs=1000&windowMs=2000']) {
      assert.equal((await call(handler, 'GET', path)).status, 400, path);
    }
    const both = await call(handler, 'GET', '/api/jobs?state=pending&state=scheduled&queue=default&queue=x');
    assert.equal(both.status, 200, both.text);
    assert.equal(both.body.jobs.length, 2);
  });

  it('every API route refuses a parameter it does not read, before it changes anything', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const job = await jobwire.enqueue('echo', 1, { runAt: later() });
    await jobwire.schedules.upsert(
      defineSchedule({ id: 'nightly', cron: '0 3 * * *', task: 'echo', payload: 1 }),
    );
    const before = await jobwire.countJobs();
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths as Record<string, object>)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(operations)) {
        const url = path
          .replace('{id}', path.includes('schedules') ? 'nightly' : job.id)
          .replace('{name}', 'default');
        // A body that would act on everything, were the parameter not refused first.
        const body = method === 'get' ? undefined : { all: true, force: true };
        const r = await call(handler, method.toUpperCase(), `${url}?zzz=1`, { body });
        assert.equal(r.status, 400, `${method} ${url}: ${r.text}`);
        assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION');
        assert.equal(r.body.error.details.field, 'zzz', `${method} ${url}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `${checked} operations`);
    const none = await call(handler, 'GET', '/api/queues?verbose=1');
    assert.match(none.body.error.message, /GET \/api\/queues takes no query parameters/);
    // Nothing was deleted, cancelled, paused or triggered.
    assert.equal((await jobwire.getJob(job.id))?.state, 'scheduled');
    assert.deepEqual(await jobwire.countJobs(), before);
    assert.ok(!(await jobwire.listQueues()).some((q) => q.paused));
    assert.equal((await jobwire.schedules.list())[0]?.paused, false);
  });

  it('every documented parameter keeps working', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.enqueue('echo', 0);
    const job = await jobwire.enqueue('echo', 1);
    const first = await call(handler, 'GET', '/api/jobs?state=pending&queue=default&task=echo&limit=1');
    assert.equal(first.status, 200, first.text);
    assert.equal(typeof first.body.nextCursor, 'string');
    for (const path of [
      `/api/jobs?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      `/api/jobs/${job.id}/events?limit=5`,
      `/api/events?after=start&limit=5&type=job:queued&queue=default&job=${job.id}`,
      '/api/stats?windowMs=60000',
    ]) {
      const r = await call(handler, 'GET', path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
    }
    const controller = new AbortController();
    const stream = await handler.fetch(
      new Request('http://jobwire.test/api/events/stream?after=start&type=job:queued&queue=default&job=1', {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: controller.signal,
      }),
    );
    assert.equal(stream.status, 200);
    await stream.body?.cancel();
    controller.abort();
  });

  it("leaves the dashboard's pages and a host's own routes alone", async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    handler.app.get('/api/custom', (c) => c.json({ seen: c.req.query('anything') }));
    const custom = await call(handler, 'GET', '/api/custom?anything=1');
    assert.equal(custom.status, 200, custom.text);
    assert.deepEqual(custom.body, { seen: '1' });
    for (const path of [
      '/jobs?state=pending&q=echo&utm_source=x',
      '/ui/jobs?state=pending&cursor=',
      '/?x=1',
    ]) {
      assert.equal((await call(handler, 'GET', path)).status, 200, path);
    }
    assert.equal((await call(handler, 'GET', '/healthz?probe=1')).status, 200);
  });
});
