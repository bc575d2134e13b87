/**
 * The jobs list's search and actions, without a browser: "Retry all matching" acts on the jobs the
 * list shows (a search included, the filters as applied, not as typed), and a job's timeline says
 * when it is cut short.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { dashboardApp, TEST_CSRF_TOKEN } from './support/dashboard.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard filters and timeline', () => {
  let jobwire: Jobwire;
  let cleanup: () => Promise<void>;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const tasks = ['boom', 'fatal', 'slow'].map((name) =>
      defineTask({ name, handler: async (payload: unknown) => payload }),
    );
    jobwire = await createJobwire({ driver: await database.open(), tasks });
  });

  after(async () => {
    await jobwire?.close();
    await cleanup?.();
  });

  const post = (app: ReturnType<typeof dashboardApp>, path: string, body: Record<string, string>) =>
    app.request(path, {
      method: 'POST',
      headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN },
      body: new URLSearchParams(body),
    });

  test('"Retry all matching" after a search retries only the jobs the search shows', async () => {
    const app = dashboardApp(jobwire);
    const jobs = await jobwire.enqueueMany(
      ['boom', 'boom', 'fatal', 'slow'].map((task) => ({
        task,
        payload: {},
        options: { queue: 'searched' },
      })),
    );
    for (const job of jobs) await jobwire.cancelJob(job.id);
    const [boom1, boom2, fatal, slow] = jobs;

    // The list shows the search's jobs only…
    const list = await (await app.request('/ui/jobs?q=boo')).text();
    assert.match(list, /Search “boo”: tasks boom/);
    assert.ok(!list.includes(`data-job-id="${slow!.id}"`));

    // …and the bulk retry (the form the page sends: the filters and the search) acts on those.
    const response = await post(app, '/ui/jobs/retry', { state: '', queue: '', task: '', q: 'boo' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /Retried 2 jobs\./);
    assert.equal((await jobwire.getJob(boom1!.id))?.state, 'pending');
    assert.equal((await jobwire.getJob(boom2!.id))?.state, 'pending');
    assert.equal((await jobwire.getJob(fatal!.id))?.state, 'cancelled', 'a job the search did not show');
    assert.equal((await jobwire.getJob(slow!.id))?.state, 'cancelled', 'a job the search did not show');

    // A search by queue name narrows by queue the same way.
    const other = await jobwire.enqueue('slow', {}, { queue: 'elsewhere' });
    await jobwire.cancelJob(other.id);
    const byQueue = await post(app, '/ui/jobs/retry', { q: 'searche' });
    assert.match(await byQueue.text(), /Retried 2 jobs\./);
    assert.equal((await jobwire.getJob(fatal!.id))?.state, 'pending');
    assert.equal((await jobwire.getJob(other.id))?.state, 'cancelled', 'a job of another queue');

    // A search that matches nothing retries nothing (it must never widen to every job).
    const nothing = await post(app, '/ui/jobs/retry', { q: 'no-such-name' });
    assert.doesNotMatch(await nothing.text(), /Retried [1-9]/);
    assert.equal((await jobwire.getJob(other.id))?.state, 'cancelled');
  });

  test('the "Retry all matching" button sends the filters the list was rendered with, not the form as edited', async () => {
    const app = dashboardApp(jobwire);
    const page = await (await app.request('/jobs?queue=searched&q=boo')).text();
    const button = page.match(/<button[^>]*data-action="bulk-retry"[^>]*>/)?.[0];
    assert.ok(button, 'the bulk retry button');
    assert.doesNotMatch(button, /hx-include/, 'it must not read the (possibly edited, unsubmitted) inputs');
    const vals = button.match(/hx-vals="([^"]*)"/)?.[1];
    assert.ok(vals, 'the applied filters travel with the button');
    const parsed = JSON.parse(vals.replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as Record<
      string,
      string
    >;
    assert.equal(parsed.queue, 'searched');
    assert.equal(parsed.q, 'boo');
  });

  test('a timeline longer than the page shows says so (the newest events are the ones left out)', async () => {
    const app = dashboardApp(jobwire);
    const job = await jobwire.enqueue('slow', {}, { queue: 'long-timeline' });
    // queued + 260 × (cancelled, retried) = 521 events: more than the 500 the page shows.
    for (let i = 0; i < 260; i++) {
      await jobwire.cancelJob(job.id);
      await jobwire.retryJob(job.id);
    }
    const events = await jobwire.jobEvents(job.id, { limit: 1000 });
    assert.ok(events.length > 500, `${events.length} events`);
    const body = await (await app.request(`/jobs/${job.id}`)).text();
    assert.equal([...body.matchAll(/<li data-event=/g)].length, 500);
    assert.match(body, /data-timeline-cut/, 'the page says the timeline is cut short');
    // A short timeline carries no such note.
    const short = await jobwire.enqueue('slow', {}, { queue: 'long-timeline' });
    assert.doesNotMatch(await (await app.request(`/jobs/${short.id}`)).text(), /data-timeline-cut/);
  });

  test('a job whose row is gone shows what the log keeps: its timeline and result; an unknown id is a 404', async () => {
    const app = dashboardApp(jobwire);
    const job = await jobwire.enqueue('slow', { answer: 42 }, { queue: 'gone' });
    const pool = jobwire.createPool({ queues: ['gone'], pollIntervalMs: 20, handleSignals: false });
    await pool.start();
    await job.wait();
    await pool.stop();
    await jobwire.deleteJob(job.id); // as retention, or completed: 'immediately', would
    const response = await app.request(`/jobs/${job.id}`);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /data-job-gone/);
    assert.match(body, /answer&quot;: 42/, 'the result from its job:completed event');
    assert.deepEqual(
      [...body.matchAll(/<li data-event="([^"]+)"/g)].map((m) => m[1]),
      ['job:queued', 'job:started', 'job:completed', 'job:deleted'],
      'a delete by hand stores job:deleted (retention would store none)',
    );
    assert.match(await (await app.request(`/ui/jobs/${job.id}`)).text(), /data-job-gone/);
    const unknown = await app.request('/jobs/987654321');
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /There is no job #987654321/);
  });
});
