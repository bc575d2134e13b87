/**
 * The overview in Chromium: with more queues than the charted limit (20), the page names the ones
 * left out; the charts' time axis reads 24-hour UTC times like the rest of the page (no 12-hour
 * "11:55pm" and no clipped date under the first tick: the date is said once, in words); and on a
 * phone a very long queue name does not push every count off-screen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createJobwire, defineTask, type Jobwire, type Pool } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { type ServedDashboard, serveDashboard } from './support/dashboard.js';
import { countCell, textAt, waitUntil, watchProblems } from './support/dashboard-fixture.js';
import { sqliteDatabases } from './support/sqlite.js';

const QUEUES = Array.from({ length: 23 }, (_, i) => `q${String(i).padStart(2, '0')}`);
const LONG = `reports-${'very-long-queue-name-'.repeat(5)}end`;

describe('dashboard overview: charts and narrow screens', () => {
  let browser: Browser;
  let jobwire: Jobwire;
  let pool: Pool;
  let served: ServedDashboard;
  let cleanup: () => Promise<void>;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
    pool = jobwire.createPool({ concurrency: 4, queues: QUEUES });
    await pool.start();
    await jobwire.enqueue('echo', {}, { queue: LONG }); // no pool serves it: it stays pending
    served = await serveDashboard(jobwire);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    await jobwire?.close();
    await cleanup?.();
  });

  test('queues left out of the charts are named; the axis is 24-hour UTC with the date said once', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchProblems(page);
    try {
      await page.goto(`${served.url}/`);
      await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
      for (const queue of QUEUES) await jobwire.enqueue('echo', {}, { queue });
      await waitUntil(
        'every job to complete',
        async () => (await jobwire.queueCounts()).reduce((n, q) => n + q.counts.completed, 0),
        (n) => n === QUEUES.length,
      );
      const charted = await waitUntil(
        'the charts to count every charted completion',
        () =>
          page
            .locator('figure.chart')
            .evaluateAll((figures) =>
              figures.map((f) => [f.getAttribute('data-queue'), f.getAttribute('data-completed')]),
            ),
        (figures) => figures.length === 20 && figures.every(([, n]) => n === '1'),
      );
      const left = QUEUES.filter((q) => !charted.some(([name]) => name === q));
      assert.equal(left.length, 3);
      const omitted = await waitUntil(
        'the page to name the queues left out',
        () => textAt(page, '#charts-omitted'),
        (text) => text !== '',
      );
      for (const q of left) assert.match(omitted, new RegExp(`\\b${q}\\b`), `names ${q}`);
      assert.match(omitted, /20/, 'says the limit');

      const ticks = (await page.locator('figure.chart').first().getAttribute('data-x-ticks')) ?? '';
      assert.notEqual(ticks, '', 'the axis labels are known');
      const now = new Date();
      const hours = [now, new Date(now.getTime() - 15 * 60_000)].map((d) =>
        String(d.getUTCHours()).padStart(2, '0'),
      );
      for (const tick of ticks.split(' ')) {
        assert.match(tick, /^\d{2}:\d{2}(:\d{2})?$/, `24-hour time: ${tick}`);
        assert.ok(hours.includes(tick.slice(0, 2)), `UTC hour: ${tick}`);
      }
      const window = await textAt(page, '#charts-window');
      assert.match(window, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?.*UTC/, 'the window with its date, in UTC');
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('on a phone, a very long queue name leaves its counts on screen (and is shown whole)', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await page.goto(`${served.url}/`);
      const cell = page.locator(countCell(LONG, 'blocked'));
      const box = await cell.boundingBox();
      assert.ok(box, 'the count cell is rendered');
      assert.ok(
        box.x + box.width <= 390,
        `the first count is on screen (right edge at ${box.x + box.width} px)`,
      );
      const name = await textAt(page, `#counts tr[data-queue-row="${LONG}"] th`);
      assert.equal(name, LONG, 'the name is not cut');
      const pageWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(pageWidth <= 390, `the page is not wider than the screen (${pageWidth})`);
    } finally {
      await page.close();
    }
  });
});
