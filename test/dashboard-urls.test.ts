/**
 * URLs people type or paste, through the real handler: a job id with leading zeros opens that
 * job, `/jobs/` (trailing slash) is the jobs page rather than the API's JSON 404, and the jobs
 * filter takes a comma list of states, as the API and the CLI do (the list and "Retry all
 * matching" alike).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHttpHandler, type HttpHandler } from '../src/http/index.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { dashboardApp, TEST_CSRF_TOKEN } from './support/dashboard.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard URLs', () => {
  let jobwire: Jobwire;
  let handler: HttpHandler;
  let cleanup: () => Promise<void>;
  const ids: string[] = [];

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
    for (let i = 0; i < 8; i++) ids.push((await jobwire.enqueue('echo', { i }, { queue: 'urls' })).id);
    await jobwire.cancelJob(ids[1]!);
    handler = createHttpHandler(jobwire, { auth: 'none' });
  });

  after(async () => {
    handler?.close();
    await jobwire?.close();
    await cleanup?.();
  });

  const get = (path: string) =>
    handler.fetch(
      new Request(`http://dash.test${path}`, { headers: { accept: 'text/html' }, redirect: 'manual' }),
    );

  test('/jobs/007 opens job 7', async () => {
    assert.equal(ids[6], '7');
    const response = await get('/jobs/007');
    assert.ok([301, 308].includes(response.status), `redirected (${response.status})`);
    assert.equal(response.headers.get('location'), '/jobs/7');
    assert.equal((await get('/jobs/7')).status, 200);
    assert.equal((await get('/jobs/000')).status, 404, 'job 0 does not exist');
  });

  test('/jobs/ (trailing slash) leads to the jobs page, keeping the query', async () => {
    for (const [path, location] of [
      ['/jobs/', '/jobs'],
      ['/jobs/?state=pending', '/jobs?state=pending'],
      ['/queues/', '/queues'],
    ] as const) {
      const response = await get(path);
      assert.ok([301, 308].includes(response.status), `${path} redirected (${response.status})`);
      assert.equal(response.headers.get('location'), location);
    }
  });

  test('state=pending,cancelled lists both, and the filter shows what was asked', async () => {
    const response = await get('/jobs?state=pending,cancelled');
    assert.equal(response.status, 200);
    const page = await response.text();
    for (const id of ids) assert.match(page, new RegExp(`data-job-id="${id}"`), `job ${id} listed`);
    assert.match(page, /<option value="pending,cancelled" selected>/);
    const only = await (await get('/jobs?state=cancelled')).text();
    assert.doesNotMatch(only, new RegExp(`data-job-id="${ids[0]}"`));
    assert.equal((await get('/jobs?state=pending,bogus')).status, 400, 'a bad state in the list is refused');
  });

  test('Retry all matching takes a comma list of states', async () => {
    const app = dashboardApp(jobwire);
    const response = await app.request('/ui/jobs/retry', {
      method: 'POST',
      headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'state=cancelled,abandoned',
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Retried 1 job\./);
    assert.equal((await jobwire.getJob(ids[1]!))?.state, 'pending');
  });
});
