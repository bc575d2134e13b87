/**
 * A documented `/api/` path asked with a method it does not take is a 405 naming the methods it
 * does take (`Allow`), not the 404 "no route" that sent users looking for a path that exists;
 * an undocumented path stays a 404; nothing changes either way. (The HTTP layer; on SQLite.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTask } from '../src/index.js';
import { call, httpFixture } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });

describe('HTTP API methods', () => {
  it('a wrong method on a documented path is a 405 with Allow; an unknown path a 404', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const job = await jobwire.enqueue('echo', 1);
    const cases: Array<[string, string, string]> = [
      ['PUT', '/api/jobs', 'GET, POST, HEAD'],
      ['DELETE', '/api/queues', 'GET, HEAD'],
      ['GET', '/api/queues/default/pause', 'POST'],
      ['PATCH', `/api/jobs/${job.id}`, 'GET, DELETE, HEAD'],
      ['POST', '/api/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await call(handler, method, path, method === 'GET' ? {} : { body: { task: 'echo' } });
      assert.equal(r.status, 405, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'JOBWIRE_HTTP_METHOD_NOT_ALLOWED');
      assert.equal(
        r.headers.get('allow')?.split(', ').sort().join(', '),
        allow.split(', ').sort().join(', '),
      );
      assert.match(r.body.error.message, new RegExp(`^${method} is not a method of ${path}: use `));
    }
    const unknown = await call(handler, 'GET', '/api/nothing-here');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'JOBWIRE_HTTP_NOT_FOUND');
    assert.equal((await call(handler, 'POST', '/api/jobs/x/y/z')).status, 404);
    // Nothing was enqueued, paused or deleted by the refused requests.
    assert.equal((await jobwire.countJobs()).pending, 1);
    assert.equal((await jobwire.getJob(job.id))?.state, 'pending');
    // Under a base path too.
    const based = await httpFixture(t, sqliteDatabases, { http: { basePath: '/admin' } });
    const under = await call(based.handler, 'DELETE', '/admin/api/workers');
    assert.equal(under.status, 405, under.text);
    assert.equal(under.headers.get('allow'), 'GET, HEAD');
  });
});
