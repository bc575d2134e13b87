/**
 * The jobs list refreshes itself while jobs change (every 200 ms here, 500 ms by default). A
 * person using the list must keep their place: keyboard focus stays on the job link it was on,
 * and the rows do not move while the pointer or the focus is in the list; the held refresh comes
 * as soon as they leave it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { type ServedDashboard, serveDashboard } from './support/dashboard.js';
import { waitUntil, watchProblems } from './support/dashboard-fixture.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('the live jobs list keeps the user’s place', () => {
  let browser: Browser;
  let jobwire: Jobwire;
  let served: ServedDashboard;
  let cleanup: () => Promise<void>;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    // No pool: the jobs stay pending, and every enqueue is news for the list.
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
    for (let i = 0; i < 5; i++) await jobwire.enqueue('echo', { i }, { queue: 'focus' });
    served = await serveDashboard(jobwire);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    await jobwire?.close();
    await cleanup?.();
  });

  const firstRowId = (page: Page) =>
    page.locator('#job-list tbody tr').first().getAttribute('data-job-id', { timeout: 5000 });

  /** Enqueue `count` jobs a little apart (each its own live update); the id of the last one. */
  async function trickle(count: number): Promise<string> {
    let id = '';
    for (let i = 0; i < count; i++) {
      id = (await jobwire.enqueue('echo', { more: i }, { queue: 'focus' })).id;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    return id;
  }

  async function openList(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchProblems(page);
    await page.goto(`${served.url}/jobs`);
    await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
    return { page, problems };
  }

  test('keyboard focus stays on the job link, and the rows hold still while focus is in the list', async () => {
    const { page, problems } = await openList();
    try {
      const focusedId = (await firstRowId(page)) ?? '';
      // Keyboard users reach the link with Tab; focusing it is the same state.
      await page.locator(`#job-list a[href$="/jobs/${focusedId}"]`).focus();
      const newest = await trickle(4);
      await page.waitForTimeout(1000); // several live updates' worth
      const active = await page.evaluate<string>('document.activeElement?.getAttribute("href") ?? "BODY"');
      assert.equal(active, `/jobs/${focusedId}`, 'focus stayed on the job link');
      assert.equal(await firstRowId(page), focusedId, 'the rows did not move under the focus');
      assert.equal(await page.locator('#job-list-held').isVisible(), true, 'the page says updates wait');

      // Focus leaves the list: the held refresh comes.
      await page.locator('#filters input[name="task"]').focus();
      await waitUntil(
        'the list to show the jobs added meanwhile',
        () => firstRowId(page),
        (id) => id === newest,
        10_000,
      );
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('the rows do not move under the mouse; they refresh once it leaves the list', async () => {
    const { page, problems } = await openList();
    try {
      const before = await firstRowId(page);
      await page.locator('#job-list tbody tr').nth(2).hover();
      const newest = await trickle(3);
      await page.waitForTimeout(1000);
      assert.equal(await firstRowId(page), before, 'the rows did not move under the pointer');

      await page.mouse.move(5, 5); // over the header, away from the list
      await waitUntil(
        'the list to show the jobs added meanwhile',
        () => firstRowId(page),
        (id) => id === newest,
        10_000,
      );
      assert.equal(await page.locator('#job-list-held').isVisible(), false);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
