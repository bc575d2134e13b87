/**
 * The dashboard without a browser: the shared counts cache and the live hub's coalescing (the
 * promises that keep it cheap on a big database), and the pages' answers over plain HTTP —
 * escaping, bad filters, search, assets. The browser tests are dashboard-browser*.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CountsCache, readQueueCounts } from '../src/http/dashboard/counts.js';
import { type LiveClient, LiveHub } from '../src/http/dashboard/live.js';
import { countsTable } from '../src/http/dashboard/views/queues.js';
import {
  type CountPrecision,
  createJobwire,
  defineTask,
  JOB_LIST_SCAN_CAP,
  JOB_STATES,
  type JobState,
  type Jobwire,
  type QueueCounts,
} from '../src/index.js';
import { dashboardApp, TEST_CSRF_TOKEN } from './support/dashboard.js';
import { HOSTILE, waitUntil } from './support/dashboard-fixture.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('CountsCache', () => {
  test('concurrent and repeated asks within the interval share one read', async () => {
    let now = 1000;
    let reads = 0;
    const cache = new CountsCache(
      async () => {
        reads++;
        return [];
      },
      { minIntervalMs: 1000, now: () => now },
    );
    await Promise.all(Array.from({ length: 100 }, () => cache.get()));
    assert.equal(reads, 1);
    now += 999;
    await cache.get();
    assert.equal(reads, 1);
    now += 1;
    await cache.get();
    assert.equal(reads, 2);
  });

  test('fresh(after) reads again once the interval allows, so a late change is never left out', async () => {
    let version = 0;
    const cache = new CountsCache(
      async () => [{ name: `v${version}`, paused: false, counts: {} as never, precision: {} as never }],
      {
        minIntervalMs: 30,
      },
    );
    assert.equal((await cache.get()).queues[0]?.name, 'v0');
    version = 1;
    const changedAt = Date.now() + 1;
    await new Promise((resolve) => setTimeout(resolve, 2));
    const snapshot = await cache.fresh(changedAt);
    assert.equal(snapshot.queues[0]?.name, 'v1');
    assert.ok(snapshot.readAt >= changedAt);
    assert.equal(cache.reads, 2);
  });
});

describe('counts table', () => {
  test('bounded counts keep their marks: ≥ for a lower bound, ~ for an estimate, and a total is as loose as its loosest part', () => {
    const exact = Object.fromEntries(JOB_STATES.map((s) => [s, 'exact'])) as Record<JobState, CountPrecision>;
    const zero = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
    const queues: QueueCounts[] = [
      {
        name: 'big',
        paused: false,
        counts: { ...zero, pending: 10_001, completed: 5_000_000 },
        precision: { ...exact, pending: 'atLeast', completed: 'estimate' },
      },
      { name: 'small', paused: false, counts: { ...zero, pending: 3 }, precision: exact },
    ];
    const page = String(
      countsTable({ base: '', readOnly: false, csrf: 't', now: 0 }, { queues, readAt: 0 }, 'overview'),
    );
    const cellOf = (queue: string, state: string) =>
      page.match(
        new RegExp(
          `data-queue="${queue.replace('*', '\\*')}" data-state="${state}"[^>]*><a[^>]*>([^<]*)</a>`,
        ),
      )?.[1];
    assert.equal(cellOf('big', 'pending'), '≥10001');
    assert.equal(cellOf('big', 'completed'), '~5000000');
    assert.equal(cellOf('small', 'pending'), '3');
    assert.equal(cellOf('*', 'pending'), '≥10004');
    assert.equal(cellOf('*', 'completed'), '~5000000');
    assert.equal(cellOf('*', 'running'), '0');
  });
});

describe('dashboard on SQLite', () => {
  let jobwire: Jobwire;
  let cleanup: () => Promise<void>;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
  });

  after(async () => {
    await jobwire?.close();
    await cleanup?.();
  });

  test('the live hub: one tail and coalesced updates for many viewers; counts read once per update, not per viewer or event', async (t) => {
    const counts = new CountsCache(() => readQueueCounts(jobwire), { minIntervalMs: 100 });
    const hub = new LiveHub(jobwire, counts, (s) => JSON.stringify(s.queues), {
      coalesceMs: 200,
      pollMs: 50,
      idleStopMs: 50,
    });
    const received: { event: string; data: string }[][] = [];
    const removals = Array.from({ length: 5 }, (_, i) => {
      received[i] = [];
      const client: LiveClient = {
        page: { kind: 'overview' },
        send: (event, data) => received[i]!.push({ event, data }),
      };
      return hub.add(client);
    });
    const jobsClient: LiveClient = { page: { kind: 'jobs' }, send: () => {} };
    removals.push(hub.add(jobsClient));
    assert.equal(hub.clients, 6);
    assert.equal(hub.tailing, true);
    // Let the tail take its position before writing, as a viewer's page would be open.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const items = Array.from({ length: 1000 }, (_, i) => ({
      task: 'echo',
      payload: { i },
      options: { queue: 'burst' },
    }));
    await jobwire.enqueueMany(items);
    const pendingIn = (data: string) =>
      (JSON.parse(data) as { name: string; counts: { pending: number } }[]).find((q) => q.name === 'burst')
        ?.counts.pending;
    for (const messages of received) {
      await waitUntil(
        'every viewer to see the 1000 pending jobs',
        async () => messages.filter((m) => m.event === 'counts').map((m) => pendingIn(m.data)),
        (seen) => seen.includes(1000),
      );
    }
    t.diagnostic(`1000 events → ${hub.flushes} updates, ${counts.reads} count reads, 6 viewers`);
    // 1000 events; a hub without coalescing would push (and count) 1000 times.
    assert.ok(hub.flushes <= 20, `${hub.flushes} updates for one burst`);
    // One read per update at most, plus the viewers' first counts (shared, rate-limited).
    assert.ok(counts.reads <= hub.flushes + 2, `${counts.reads} count reads for ${hub.flushes} updates`);

    for (const remove of removals) remove();
    assert.equal(hub.clients, 0);
    await waitUntil(
      'the tail to stop once nobody watches',
      async () => hub.tailing,
      (tailing) => tailing === false,
      5000,
    );
  });

  test('pages escape every user string in the HTML they send', async () => {
    const job = await jobwire.enqueue(
      'echo',
      { html: HOSTILE },
      { queue: 'esc', metadata: { who: '<b>x</b>' } },
    );
    const app = dashboardApp(jobwire);
    for (const path of [`/jobs/${job.id}`, '/jobs?queue=esc']) {
      const response = await app.request(path);
      assert.equal(response.status, 200);
      const body = await response.text();
      assert.ok(!body.includes('<script>window'), `${path} carries a live script`);
      assert.ok(!body.includes('<img src'), `${path} carries a live image`);
      if (path.startsWith('/jobs/'))
        assert.ok(body.includes('&lt;script&gt;window.__pwned = 1&lt;/script&gt;'));
    }
  });

  test('bad filters are refused with a message naming the filter; unknown jobs are 404', async () => {
    const app = dashboardApp(jobwire);
    const bad = await app.request('/jobs?state=bogus');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /state/);
    const badCursor = await app.request('/ui/jobs?cursor=nope');
    assert.equal(badCursor.status, 400);
    assert.match(await badCursor.text(), /cursor/);
    assert.equal((await app.request('/jobs/99999999')).status, 404);
    assert.equal((await app.request('/jobs/abc')).status, 404);
  });

  test('search: a job id opens the job; part of a task name filters by task', async () => {
    const job = await jobwire.enqueue('echo', { find: 'me' }, { queue: 'search' });
    const app = dashboardApp(jobwire);
    const byId = await app.request(`/jobs?q=${job.id}`);
    assert.equal(byId.status, 303);
    assert.equal(byId.headers.get('location'), `/jobs/${job.id}`);
    const byTask = await (await app.request('/ui/jobs?q=ech')).text();
    assert.match(byTask, /Search “ech”: tasks echo/);
    assert.ok(byTask.includes(`data-job-id="${job.id}"`));
    assert.match(await (await app.request('/ui/jobs?q=zzz')).text(), /No job id, task or queue matches/);
  });

  test('assets are served from the installed packages with an ETag; unknown names are 404', async () => {
    const app = dashboardApp(jobwire, { basePath: '/admin/jobs' });
    for (const [name, type] of [
      ['htmx.min.js', 'javascript'],
      ['htmx-sse.js', 'javascript'],
      ['uPlot.iife.min.js', 'javascript'],
      ['uPlot.min.css', 'css'],
      ['dashboard.js', 'javascript'],
      ['dashboard.css', 'css'],
    ] as const) {
      const response = await app.request(`/admin/jobs/assets/${name}`);
      assert.equal(response.status, 200, name);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(type));
      const etag = response.headers.get('etag');
      assert.ok(etag);
      const again = await app.request(`/admin/jobs/assets/${name}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
    assert.equal((await app.request('/admin/jobs/assets/../package.json')).status, 404);
    assert.equal((await app.request('/admin/jobs/assets/nope.js')).status, 404);
  });

  test('actions answer with a typed message: retrying an active job is a 409 naming why', async () => {
    const job = await jobwire.enqueue('echo', {}, { queue: 'act' });
    const app = dashboardApp(jobwire);
    const response = await app.request(`/ui/jobs/${job.id}/retry`, {
      method: 'POST',
      headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN },
    });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /flash error/);
    const missing = await app.request('/ui/jobs/99999999/retry', {
      method: 'POST',
      headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN },
    });
    assert.equal(missing.status, 404);
  });

  test('bulk retry of a filter, cancel, pause and resume act through the client and say what they did', async () => {
    const app = dashboardApp(jobwire);
    const post = (path: string, body?: Record<string, string>) =>
      app.request(path, {
        method: 'POST',
        headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN },
        ...(body ? { body: new URLSearchParams(body) } : {}),
      });
    const jobs = await jobwire.enqueueMany(
      [1, 2, 3].map((n) => ({ task: 'echo', payload: { n }, options: { queue: 'bulk' } })),
    );
    const other = await jobwire.enqueue('echo', {}, { queue: 'bulk-other' });
    for (const job of [...jobs, other]) {
      const cancelled = await post(`/ui/jobs/${job.id}/cancel`);
      assert.equal(cancelled.status, 200);
      assert.match(await cancelled.text(), new RegExp(`Job #${job.id} cancelled`));
    }
    const again = await post(`/ui/jobs/${other.id}/cancel`);
    assert.equal(again.status, 409);

    const retried = await post('/ui/jobs/retry', { queue: 'bulk', state: '', task: '' });
    assert.equal(retried.status, 200);
    assert.match(await retried.text(), /Retried 3 jobs\./);
    assert.equal(retried.headers.get('hx-trigger'), 'jobs-changed');
    for (const job of jobs) assert.equal((await jobwire.getJob(job.id))?.state, 'pending');
    assert.equal((await jobwire.getJob(other.id))?.state, 'cancelled', 'a job outside the filter');
    const refused = await post('/ui/jobs/retry', { state: 'running' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /state/);

    const paused = await (await post('/ui/queues/bulk/pause')).text();
    assert.match(paused, /Queue bulk paused\./);
    // The answer carries the queues table counted after the change, swapped in out of band.
    assert.match(
      paused,
      /<div id="counts" hx-swap-oob="innerHTML">[\s\S]*<tr data-queue-row="bulk"><th[^>]*>[\s\S]*?paused[\s\S]*?<\/th>/,
    );
    assert.equal((await jobwire.listQueues()).find((q) => q.name === 'bulk')?.paused, true);
    assert.match(await (await post('/ui/queues/bulk/pause')).text(), /already paused/);
    assert.match(await (await post('/ui/queues/bulk/resume')).text(), /Queue bulk resumed\./);
    assert.equal((await jobwire.listQueues()).find((q) => q.name === 'bulk')?.paused, false);
  });

  test('the jobs list pages by cursor: 50 newest, then the rest, with links both ways', async () => {
    const jobs = await jobwire.enqueueMany(
      Array.from({ length: 60 }, (_, n) => ({ task: 'echo', payload: { n }, options: { queue: 'paged' } })),
    );
    const app = dashboardApp(jobwire);
    const ids = (body: string) => [...body.matchAll(/data-job-id="(\d+)"/g)].map((m) => m[1]);
    const first = await (await app.request('/jobs?queue=paged')).text();
    assert.deepEqual(
      ids(first),
      jobs
        .slice(10)
        .reverse()
        .map((j) => j.id),
    );
    const older = /<a rel="next" href="([^"]+)"/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(older, 'an "Older" link');
    const second = await (await app.request(older)).text();
    assert.deepEqual(
      ids(second),
      jobs
        .slice(0, 10)
        .reverse()
        .map((j) => j.id),
    );
    assert.ok(!second.includes('rel="next"'), 'no page after the last');
    assert.ok(second.includes('href="/jobs?queue=paged">« Newest</a>'));
    // Only the first page refreshes live: a later one would shift under the reader.
    assert.ok(first.includes('hx-trigger="sse:jobs'));
    assert.ok(!second.includes('hx-trigger="sse:jobs'));
  });

  // Last in this suite: it adds JOB_LIST_SCAN_CAP jobs to the shared database.
  test('a list page that stopped at the scan cap says older jobs may match, and "Older" reaches them', async () => {
    const enqueue = (queue: string, count: number) =>
      jobwire.enqueueMany(
        Array.from({ length: count }, (_, n) => ({ task: 'echo', payload: { n }, options: { queue } })),
      );
    const old = await enqueue('capped', 3);
    await enqueue('filler', JOB_LIST_SCAN_CAP / 2);
    const [recent] = await enqueue('capped', 1);
    await enqueue('filler', JOB_LIST_SCAN_CAP / 2 + 10);
    const app = dashboardApp(jobwire);
    const ids = (body: string) => [...body.matchAll(/data-job-id="(\d+)"/g)].map((m) => m[1]);
    const olderLink = (body: string) =>
      /<a rel="next" href="([^"]+)"/.exec(body)?.[1]?.replaceAll('&amp;', '&');

    // A short page: the newest JOB_LIST_SCAN_CAP jobs hold one match.
    const first = await (await app.request('/jobs?queue=capped')).text();
    assert.deepEqual(ids(first), [recent!.id]);
    assert.match(first, /No more matches among the newest 10,000 jobs — older jobs may match\./);
    const second = await (await app.request(olderLink(first)!)).text();
    assert.deepEqual(ids(second), old.map((j) => j.id).reverse());
    assert.ok(!second.includes('data-capped'), 'the last page is not capped');
    assert.equal(olderLink(second), undefined);

    // An empty page with a cursor is not "no jobs match".
    const empty = await (await app.request('/jobs?queue=capped&state=cancelled')).text();
    assert.deepEqual(ids(empty), []);
    assert.ok(!empty.includes('No jobs match'), 'an empty capped page does not say nothing matches');
    assert.match(empty, /No more matches among the newest 10,000 jobs — older jobs may match\./);
    const next = await (await app.request(olderLink(empty)!)).text();
    assert.match(next, /No jobs match\./);
  });
});
