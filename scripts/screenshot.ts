/**
 * `npm run screenshot`: regenerate docs/dashboard.png (and docs/dashboard-job.png) from a live run.
 * Starts the demo's tasks on a temporary SQLite database with a pool, serves the dashboard on a
 * free port, opens it in Chromium (found or installed as the browser tests do), enqueues the
 * demo's jobs for a while so counts and charts move, and takes the pictures at 1280 px.
 *
 *   npm run screenshot [-- --seconds 40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoPlan, demoQueues, demoTasks } from '../src/cli/demo/tasks.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire } from '../src/index.js';
import { launchBrowser } from '../test/support/browser.js';
import { serveDashboard } from '../test/support/dashboard.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '35' } } });
const seconds = Number(values.seconds);
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'jobwire-screenshot-'));
const jobwire = await createJobwire({
  driver: sqliteDriver({ path: join(dir, 'demo.db') }),
  tasks: [...demoTasks],
});
const pool = jobwire.createPool({ concurrency: 6, queues: [...demoQueues] });
await pool.start();
const served = await serveDashboard(jobwire, { basePath: '' });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(served.url);
  await page.locator('#live-status.on').waitFor();
  // The demo's plan, a slice every second, so the chart shows throughput over time.
  const plan = demoPlan(seconds * 8, 7);
  const perTick = Math.ceil(plan.length / seconds);
  for (let tick = 0; tick < seconds; tick++) {
    const slice = plan.slice(tick * perTick, (tick + 1) * perTick).filter((job) => !job.duplicate);
    if (slice.length > 0) {
      await jobwire.enqueueMany(
        slice.map((job) => ({ task: job.task, payload: job.payload, options: job.options })),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(root, 'docs/dashboard.png') });
  const { jobs } = await jobwire.listJobs({ state: 'abandoned', limit: 1 });
  if (jobs[0]) {
    await page.goto(`${served.url}/jobs/${jobs[0].id}`);
    await page.screenshot({ path: join(root, 'docs/dashboard-job.png') });
  }
  console.log('wrote docs/dashboard.png and docs/dashboard-job.png');
} finally {
  await browser.close();
  await served.close();
  await jobwire.close();
  rmSync(dir, { recursive: true, force: true });
}
