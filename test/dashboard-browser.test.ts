/**
 * The dashboard in a real Chromium (Debian's, driven by playwright-core) against a real client on
 * SQLite with a pool running jobs. Every page is served with a strict CSP, and each test fails on
 * a blocked inline script or style, a page error or a failed load. PostgreSQL: dashboard-browser-postgres.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './support/browser.js';
import { type ServedDashboard, serveDashboard, TEST_CSRF_TOKEN } from './support/dashboard.js';
import {
  countCell,
  type DashboardFixture,
  HOSTILE,
  pwned,
  seeCountsChangeLive,
  seeFailedJobThenRetry,
  startFixture,
  textAt,
  timelineEvents,
  waitForText,
  waitUntil,
  watchProblems,
} from './support/dashboard-fixture.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard in Chromium (SQLite)', () => {
  let browser: Browser;
  let fixture: DashboardFixture;
  let served: ServedDashboard;
  let cleanup: () => Promise<void>;
  const pages: Page[] = [];

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    fixture = await startFixture(await database.open());
    served = await serveDashboard(fixture.jobwire);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    await fixture?.close();
    await cleanup?.();
  });

  async function open(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    pages.push(page);
    return { page, problems: watchProblems(page) };
  }

  async function completed(task: string, payload: unknown, queue: string) {
    const job = await fixture.jobwire.enqueue(task, payload, { queue });
    await fixture.jobwire.waitForJob(job.id, { timeoutMs: 20_000 }).catch(() => {});
    return job;
  }

  test('the overview counts jobs as they run and complete, without reloading; the chart counts them', async () => {
    const { page, problems } = await open();
    const sameDocument = await seeCountsChangeLive(page, fixture, served.url, 'live');
    assert.equal(sameDocument, true, 'the page was reloaded');
    assert.equal(await textAt(page, countCell('*', 'completed')), '5', 'the total row');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a failed job shows its stack and timeline; Retry runs it again and the page shows it complete', async () => {
    const { page, problems } = await open();
    const { before: seen, after: done } = await seeFailedJobThenRetry(page, fixture, served.url, 'default');
    assert.equal(seen.state, 'abandoned');
    assert.equal(seen.message, `flaky failed ${HOSTILE}`);
    assert.match(seen.stack, /^Error: flaky failed <script>/);
    assert.match(seen.stack, /at (Object\.)?flakyHandler /, 'the stack names the handler');
    assert.deepEqual(seen.timeline, ['job:queued', 'job:started', 'job:failed', 'job:abandoned']);
    assert.deepEqual(done.timeline.slice(-3), ['job:retried', 'job:started', 'job:completed']);
    assert.match(done.result, /"fixed": true/);
    assert.equal(await pwned(page), undefined);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('markup in a payload, a result and an error is shown as text and never runs', async () => {
    const { page, problems } = await open();
    const echoed = await completed('echo', { html: HOSTILE }, 'xss');
    fixture.setFailing(true);
    const failed = await completed('flaky', { note: HOSTILE }, 'xss');

    await page.goto(`${served.url}/jobs/${echoed.id}`);
    assert.ok((await textAt(page, '#job-payload pre')).includes('<script>window.__pwned = 1</script>'));
    assert.ok((await textAt(page, '#job-result pre')).includes('<script>window.__pwned = 1</script>'));
    await page.goto(`${served.url}/jobs/${failed.id}`);
    assert.equal(await textAt(page, 'pre.message'), `flaky failed ${HOSTILE}`);
    await page.goto(`${served.url}/jobs?queue=xss`);
    assert.equal(
      await textAt(page, `tr[data-job-id="${failed.id}"] .error-cell`),
      `Error: flaky failed ${HOSTILE}`,
    );
    // A live refresh of the list (htmx swaps the server's fragment) must not run it either.
    await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
    await fixture.jobwire.enqueue('echo', { html: HOSTILE }, { queue: 'xss' });
    await waitUntil(
      'the list to refresh with the new job',
      () => page.locator('#job-list tr[data-job-id]').count(),
      (n) => n === 3,
    );

    assert.equal(
      await page.locator('main script, main img').count(),
      0,
      'no element was made from the markup',
    );
    assert.equal(await pwned(page), undefined, 'the markup never ran');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('read-only: no action is shown and every action is refused with 403, nothing changed', async () => {
    const readOnly = await serveDashboard(fixture.jobwire, { readOnly: true });
    try {
      const { page, problems } = await open();
      const job = await completed('echo', { n: 1 }, 'ro');
      await page.goto(`${readOnly.url}/jobs/${job.id}`);
      assert.equal(await textAt(page, '#job h1 .badge'), 'completed');
      for (const path of [`/jobs/${job.id}`, '/jobs', '/queues', '/schedules', '/']) {
        await page.goto(`${readOnly.url}${path}`);
        assert.equal(await page.locator('[hx-post], button[data-action]').count(), 0, `an action on ${path}`);
        assert.equal(await textAt(page, 'header .badge-readonly'), 'read-only');
      }
      const eventsBefore = (await fixture.jobwire.jobEvents(job.id)).length;
      for (const action of [
        `/ui/jobs/${job.id}/retry`,
        `/ui/jobs/${job.id}/delete`,
        '/ui/queues/ro/pause',
        '/ui/jobs/retry',
      ]) {
        const response = await page.request.post(`${readOnly.url}${action}`, {
          headers: { 'x-jobwire-csrf': TEST_CSRF_TOKEN },
        });
        assert.equal(response.status(), 403, action);
        assert.match(await response.text(), /read-only/);
      }
      assert.equal((await fixture.jobwire.getJob(job.id))?.state, 'completed');
      assert.equal((await fixture.jobwire.jobEvents(job.id)).length, eventsBefore);
      assert.equal((await fixture.jobwire.listQueues()).find((q) => q.name === 'ro')?.paused, false);
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await readOnly.close();
    }
  });

  test('under a base path (/admin/jobs): assets, links, the live stream and actions all work', async () => {
    const sub = await serveDashboard(fixture.jobwire, { basePath: '/admin/jobs' });
    try {
      const { page, problems } = await open();
      const job = await completed('echo', { n: 2 }, 'sub');
      await page.goto(sub.url);
      await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
      const loaded = await page.evaluate(() => {
        const g = globalThis as unknown as { htmx?: unknown; uPlot?: unknown };
        return { htmx: typeof g.htmx, uPlot: typeof g.uPlot };
      });
      assert.deepEqual(loaded, { htmx: 'object', uPlot: 'function' });
      const hrefs = await page
        .locator('a[href]')
        .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
      assert.ok(hrefs.length > 5);
      for (const href of hrefs) assert.ok(href.startsWith('/admin/jobs'), href);

      await page.click('nav a:text("Jobs")');
      assert.equal(new URL(page.url()).pathname, '/admin/jobs/jobs');
      await page.click(`a[href="/admin/jobs/jobs/${job.id}"]`);
      assert.equal(new URL(page.url()).pathname, `/admin/jobs/jobs/${job.id}`);
      await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
      await page.click('button[data-action="retry"]');
      await waitForText(page, '#flash', `Job #${job.id} will run again.`);
      await waitUntil(
        'the retried job to complete on the page',
        () => timelineEvents(page),
        (events) => events.filter((e) => e === 'job:completed').length === 2,
      );

      await page.click('nav a:text("Queues")');
      await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
      await page.click('tr[data-queue-row="sub"] button[data-action="pause-queue"]');
      await waitForText(page, '#flash', 'Queue sub paused.');
      await waitForText(page, 'tr[data-queue-row="sub"] th .badge', 'paused');
      await page.click('tr[data-queue-row="sub"] button[data-action="resume-queue"]');
      await waitForText(page, 'tr[data-queue-row="sub"] th .badge', '');

      await page.click('nav a:text("Workers")');
      assert.equal(await page.locator(`tr[data-pool="${fixture.pool.id}"]`).count(), 1);
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await sub.close();
    }
  });

  test('schedules are listed and "Run now" enqueues a job; a job deleted from its page is gone', async () => {
    const { page, problems } = await open();
    await fixture.jobwire.schedules.upsert({
      id: 'nightly <b>',
      cron: '0 3 * * *',
      task: 'echo',
      payload: { s: 1 },
    });
    await page.goto(`${served.url}/schedules`);
    assert.equal(await textAt(page, 'tr[data-schedule="nightly <b>"] td'), 'nightly <b>');
    await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
    await page.click('tr[data-schedule="nightly <b>"] button[data-action="trigger"]');
    const flash = await waitUntil(
      'the trigger to answer',
      () => textAt(page, '#flash'),
      (t) => t.startsWith('Schedule'),
    );
    const id = /enqueued job #(\d+)/.exec(flash)?.[1];
    assert.ok(id, flash);
    const job = await fixture.jobwire.getJob(id);
    assert.equal(job?.metadata.trigger, 'manual');

    await page.goto(`${served.url}/jobs/${id}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button[data-action="delete"]');
    await page.waitForURL(`${served.url}/jobs`);
    assert.equal(await fixture.jobwire.getJob(id), undefined);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('on a phone-sized screen no page is wider than the screen (wide tables scroll inside themselves)', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    const problems = watchProblems(page);
    fixture.setFailing(true);
    const failed = await completed('flaky', { note: 'x'.repeat(300) }, 'default');
    for (const path of ['', '/jobs', `/jobs/${failed.id}`, '/queues', '/schedules', '/workers']) {
      await page.goto(`${served.url}${path}`);
      const width = await page.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document;
        return root.documentElement.scrollWidth;
      });
      assert.ok(width <= 390, `${path || '/'} is ${width}px wide`);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });
});
