/**
 * `jobwire worker` keeps run statistics for its summary. Beside other workers, a job that failed
 * here is often retried by another worker (or snoozed, or its lease lost), and this worker never
 * sees it end: it kept every such job's id for the life of the process. Seen in a soak (session
 * 44): two CLI workers on one SQLite file, 30 jobs/s of which two thirds fail half their attempts,
 * each kept thousands of ids more per hour — a heap that grows for as long as the fleet runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RunStats } from '../src/cli/run-stats.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const attempt = (id: number, n: number) => ({
  jobId: String(id),
  task: 'flaky',
  queue: 'default',
  correlationId: `c${id}`,
  maxAttempts: 3,
  attempt: n,
  poolId: 'p',
  workerId: 'p/0',
  runAt: id,
  startedAt: id,
  waitMs: 0,
});

/** Job `id` fails its first attempt here; its retry is another worker's (never seen again here). */
function failHereRetryElsewhere(stats: RunStats, id: number): void {
  stats.observe('job:started', attempt(id, 1));
  stats.observe('job:failed', {
    ...attempt(id, 1),
    durationMs: 1,
    error: { name: 'Error', message: 'flaky' },
    willRetry: true,
  });
  stats.observe('job:retrying', { ...attempt(id, 1), delayMs: 100, nextRunAt: id + 100, at: id + 1 });
}

test('a worker whose failed jobs are retried by other workers keeps flat memory', () => {
  const stats = new RunStats(Date.now, { countFrom: 'started' });
  const jobs = 200_000;
  // Warm up first, so the measure is the statistics, not the code's first run.
  for (let id = 1; id <= 20_000; id++) failHereRetryElsewhere(stats, id);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let id = 20_001; id <= jobs; id++) failHereRetryElsewhere(stats, id);
  // A few lose their lease here instead, and one snoozes: also not this worker's to see end.
  for (let id = jobs + 1; id <= jobs + 100; id++) {
    stats.observe('job:started', attempt(id, 1));
    stats.observe('job:lease-lost', { ...attempt(id, 1), at: id + 1 });
  }
  gc();
  const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  console.log(`# heap grew ${grownMb.toFixed(1)} MB over ${jobs - 20_000} jobs retried elsewhere`);
  // Keeping every id took ~10 MB per 180k jobs; the cap keeps about 1 MB.
  assert.ok(grownMb < 3, `the statistics grew the heap by ${grownMb.toFixed(1)} MB`);
  const summary = stats.summary();
  assert.equal(summary.jobs, jobs + 100);
  assert.equal(summary.unfinished, jobs);
  assert.equal(summary.lost, 100);
  assert.equal(summary.failedAttempts, jobs);
  assert.equal(
    summary.jobs,
    summary.completed + summary.abandoned + summary.cancelled + summary.lost + summary.unfinished,
  );
});

test('a forgotten job that comes back counts as a new run, and the sum still holds', () => {
  const stats = new RunStats(Date.now, { countFrom: 'started' });
  for (let id = 1; id <= 10_001; id++) failHereRetryElsewhere(stats, id);
  // Job 1 (forgotten by now) and job 10_001 (still known) come back here and complete.
  for (const id of [1, 10_001]) {
    stats.observe('job:started', attempt(id, 2));
    stats.observe('job:completed', { ...attempt(id, 2), completedAt: id + 5, durationMs: 1, result: null });
  }
  const summary = stats.summary();
  assert.equal(summary.completed, 2);
  assert.equal(summary.jobs, 10_002, 'job 1 twice: its first run unfinished, its second done');
  assert.equal(summary.unfinished, 10_000);
  assert.equal(
    summary.jobs,
    summary.completed + summary.abandoned + summary.cancelled + summary.lost + summary.unfinished,
  );
});
