/**
 * The HTTP API's guards against a request that would silently do the wrong thing (on SQLite;
 * the checks are in the HTTP layer): pausing a queue nothing uses, a bulk cancel or retry
 * without a filter, the timeline of a job that never existed, and a 401 from an `authorize`
 * hook without a `WWW-Authenticate` challenge.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask } from '../src/index.js';
import { call, httpFixture } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
const mailer = defineTask({ name: 'mailer', queue: 'mail', handler: async () => null });
const later = () => Date.now() + 3_600_000;

describe('HTTP API guards', () => {
  it('pausing a queue nothing uses is a 404 with the closest name; {"force": true} pauses it', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo, mailer] });
    await jobwire.enqueue('echo', 1, { queue: 'imports' });
    const typo = await call(handler, 'POST', '/api/queues/imprts/pause');
    assert.equal(typo.status, 404, typo.text);
    assert.equal(typo.body.error.code, 'JOBWIRE_QUEUE_NOT_FOUND');
    assert.equal(typo.body.error.details.suggestion, 'imports');
    assert.match(typo.body.error.message, /did you mean "imports"\?.*"force": true/);
    assert.ok(typo.body.error.details.known.includes('mail'), 'a registered task’s queue is known');
    assert.equal((await call(handler, 'POST', '/api/queues/imprts/resume')).status, 404);
    assert.deepEqual(
      (await jobwire.listQueues()).map((q) => [q.name, q.paused]),
      [['imports', false]],
      'nothing was paused',
    );
    // A queue of a task, with no job yet, and one forced before its first job.
    assert.equal((await call(handler, 'POST', '/api/queues/mail/pause')).status, 200);
    const forced = await call(handler, 'POST', '/api/queues/reports/pause', { body: { force: true } });
    assert.deepEqual(forced.body, { queue: 'reports', paused: true, changed: true });
    const resumed = await call(handler, 'POST', '/api/queues/reports/resume');
    assert.equal(resumed.status, 200, 'a paused queue has a setting, so it is known');
    for (const body of [{ force: 'yes' }, { forse: true }, ['force']]) {
      const bad = await call(handler, 'POST', '/api/queues/other/pause', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    const misspelt = await call(handler, 'POST', '/api/queues/other/pause', { body: { forse: true } });
    assert.equal(misspelt.body.error.details.suggestion, 'force');
    const nameless = await call(handler, 'POST', `/api/queues/${'q'.repeat(300)}/pause`);
    assert.equal(nameless.status, 400, 'a name no queue can have is still the client’s 400');
  });

  it('bulk cancel and retry need a filter or {"all": true}; {} changes nothing', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    for (let i = 0; i < 3; i++) await jobwire.enqueue('echo', i, { runAt: later() });
    for (const action of ['cancel', 'retry']) {
      for (const body of [{}, { all: false }, { queue: [] }, { state: [], task: [] }]) {
        const r = await call(handler, 'POST', `/api/jobs/${action}`, { body });
        assert.equal(r.status, 400, `${action} ${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION');
        assert.match(r.body.error.message, /at least one of state, queue, task.*"all": true/);
      }
      const both = await call(handler, 'POST', `/api/jobs/${action}`, {
        body: { all: true, queue: 'default' },
      });
      assert.equal(both.status, 400);
      assert.equal(both.body.error.details.field, 'all');
      assert.equal((await call(handler, 'POST', `/api/jobs/${action}`, { body: { all: 1 } })).status, 400);
    }
    assert.equal((await jobwire.countJobs()).scheduled, 3, 'nothing was cancelled');
    assert.deepEqual((await call(handler, 'POST', '/api/jobs/cancel', { body: { all: true } })).body, {
      count: 3,
      skipped: 0,
    });
    assert.deepEqual((await call(handler, 'POST', '/api/jobs/retry', { body: { all: true } })).body, {
      count: 3,
      skipped: 0,
    });
    const filtered = await call(handler, 'POST', '/api/jobs/cancel', { body: { state: 'pending' } });
    assert.deepEqual(filtered.body, { count: 3, skipped: 0 }, 'a state alone is a filter');
  });

  it('the timeline of a job that never existed is a 404; a deleted job’s events are still served', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    for (const id of ['987654321', 'abc']) {
      const events = await call(handler, 'GET', `/api/jobs/${id}/events`);
      const job = await call(handler, 'GET', `/api/jobs/${id}`);
      assert.equal(events.status, 404, `${id}: ${events.text}`);
      assert.deepEqual(events.body, job.body, 'the same answer as GET /api/jobs/{id}');
      assert.equal(events.body.error.code, 'JOBWIRE_JOB_NOT_FOUND');
    }
    const job = await jobwire.enqueue('echo', 1);
    const live = await call(handler, 'GET', `/api/jobs/${job.id}/events`);
    assert.equal(live.status, 200);
    assert.ok(live.body.events.length >= 1);
    assert.equal(await jobwire.deleteJob(job.id), true);
    const gone = await call(handler, 'GET', `/api/jobs/${job.id}/events`);
    assert.equal(gone.status, 200, gone.text);
    assert.deepEqual(
      gone.body.events.map((e: { type: string }) => e.type),
      (await jobwire.jobEvents(job.id)).map((e) => e.type),
    );
  });

  it('an authorize hook’s 401 carries a WWW-Authenticate challenge', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, {
      tasks: [echo],
      http: { auth: { authorize: (request) => request.headers.get('x-user') === 'admin' } },
    });
    for (const [method, path, accept] of [
      ['GET', '/api/jobs', 'application/json'],
      ['POST', '/api/jobs/cancel', 'application/json'],
      ['GET', '/jobs', 'text/html'],
    ] as const) {
      const r = await call(handler, method, path, { headers: { authorization: '', accept } });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.body.error.code, 'JOBWIRE_HTTP_UNAUTHORIZED');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jobwire"', `${method} ${path}`);
    }
    const admin = await call(handler, 'GET', '/api/jobs', { headers: { 'x-user': 'admin' } });
    assert.equal(admin.status, 200);
  });
});
