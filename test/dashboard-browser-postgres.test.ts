/**
 * The dashboard in a real Chromium on PostgreSQL: live counts and the chart while a pool runs
 * jobs, and a failed job's stack and timeline (read through the log's snapshot ticks) with a
 * retry seen to complete. The same scenarios as on SQLite (test/support/dashboard-fixture.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './support/browser.js';
import { type ServedDashboard, serveDashboard } from './support/dashboard.js';
import {
  type DashboardFixture,
  seeCountsChangeLive,
  seeFailedJobThenRetry,
  startFixture,
  watchProblems,
} from './support/dashboard-fixture.js';
import { openTestDriver } from './support/postgres.js';

describe('dashboard in Chromium (PostgreSQL)', () => {
  let browser: Browser;
  let fixture: DashboardFixture;
  let served: ServedDashboard;
  let cleanup: () => Promise<void>;

  before(async () => {
    const opened = await openTestDriver();
    cleanup = opened.cleanup;
    fixture = await startFixture(opened.driver);
    served = await serveDashboard(fixture.jobwire);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    await fixture?.close();
    await cleanup?.();
  });

  test('live counts and chart while jobs run; a failed job page with stack and timeline; retry completes it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchProblems(page);
    assert.equal(await seeCountsChangeLive(page, fixture, served.url, 'pg'), true, 'the page was reloaded');
    const { before: seen, after: done } = await seeFailedJobThenRetry(page, fixture, served.url, 'pg');
    assert.equal(seen.state, 'abandoned');
    assert.match(seen.stack, /^Error: flaky failed/);
    assert.deepEqual(seen.timeline, ['job:queued', 'job:started', 'job:failed', 'job:abandoned']);
    assert.deepEqual(done.timeline.slice(-3), ['job:retried', 'job:started', 'job:completed']);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
