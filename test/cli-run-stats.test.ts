/**
 * The run statistics behind the summaries of `jobwire worker` and `jobwire dev`: they must
 * survive a long run (no stack overflow, flat memory) and stay consistent when a job is retried
 * by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { painter } from '../src/cli/format.js';
import { DurationHistogram } from '../src/cli/histogram.js';
import { RunStats, renderSummary } from '../src/cli/run-stats.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The events of one job that completes at its first attempt. */
function completeJob(stats: RunStats, id: number, task = 'noop'): void {
  const base = { jobId: String(id), task, queue: 'default', correlationId: `c${id}`, maxAttempts: 3 };
  const attempt = {
    ...base,
    attempt: 1,
    poolId: 'p',
    workerId: 'w/0',
    runAt: id,
    startedAt: id,
    waitMs: id % 7,
  };
  stats.observe('job:queued', { ...base, attempt: 0 });
  stats.observe('job:started', attempt);
  stats.observe('job:completed', {
    ...attempt,
    completedAt: id + 2,
    durationMs: 2 + (id % 100),
    result: null,
  });
}

test('a summary after 200k jobs of one task neither overflows the stack nor keeps every job', () => {
  const stats = new RunStats();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let id = 1; id <= 200_000; id++) completeJob(stats, id);
  gc();
  const after = process.memoryUsage().heapUsed;
  const grownMb = (after - before) / 2 ** 20;
  console.log(
    `# heap before ${(before / 2 ** 20).toFixed(1)} MB, after 200k jobs ${(after / 2 ** 20).toFixed(1)} MB`,
  );
  // Keeping the ids and durations of 200k jobs took ~20 MB; counters and histograms take none.
  assert.ok(grownMb < 3, `the statistics grew the heap by ${grownMb.toFixed(1)} MB`);
  const summary = stats.summary(); // spread 200k durations into push() here once overflowed
  assert.equal(summary.jobs, 200_000);
  assert.equal(summary.completed, 200_000);
  assert.equal(summary.unfinished, 0);
  assert.equal(summary.meanRunMs, Math.round(2 + 49.5));
  assert.ok(summary.p95RunMs! >= 96 && summary.p95RunMs! <= 101, `p95 ${summary.p95RunMs}`);
});

test('a job retried by hand counts as a second run: jobs = done + abandoned + cancelled + unfinished', () => {
  const stats = new RunStats();
  completeJob(stats, 1);
  stats.observe('job:retried', {
    jobId: '1',
    task: 'noop',
    queue: 'default',
    correlationId: 'c1',
    attempt: 0,
    maxAttempts: 3,
    previousState: 'completed',
    runAt: 5,
    at: 5,
  });
  const attempt = {
    jobId: '1',
    task: 'noop',
    queue: 'default',
    correlationId: 'c1',
    attempt: 1,
    maxAttempts: 3,
    poolId: 'p',
    workerId: 'w/0',
    runAt: 5,
    startedAt: 6,
    waitMs: 1,
  };
  stats.observe('job:started', attempt);
  stats.observe('job:completed', { ...attempt, completedAt: 8, durationMs: 2, result: null });
  // A job finished elsewhere and started here again without a job:retried seen: a new run too.
  stats.observe('job:started', { ...attempt, startedAt: 10 });
  const summary = stats.summary();
  assert.equal(summary.completed, 2);
  assert.equal(summary.retriedByHand, 1);
  assert.equal(summary.unfinished, 1);
  assert.equal(summary.jobs, summary.completed + summary.abandoned + summary.cancelled + summary.unfinished);
  assert.equal(summary.busyTimeMs, 8 - 1, 'from the first start to the last finish');
});

test('the histogram: percentiles within 5 %, never above the largest sample', () => {
  const h = new DurationHistogram();
  assert.equal(h.percentile(95), null);
  assert.equal(h.mean(), null);
  for (let ms = 1; ms <= 1000; ms++) h.record(ms);
  const p95 = h.percentile(95)!;
  assert.ok(p95 >= 950 && p95 <= 950 * 1.05, `p95 ${p95}`);
  assert.equal(h.percentile(100), 1000);
  assert.equal(h.mean(), 501);
  h.record(-5);
  h.record(Number.NaN);
  assert.equal(h.percentile(0.1), 1, '0 and bad samples land in the first bucket, [0, 1] ms');
});

/** The summary's rate line after `count` jobs spread evenly over `busyMs` of busy time. */
function rateLine(count: number, busyMs: number): string {
  const stats = new RunStats(() => 0);
  for (let i = 0; i < count; i++) {
    const startedAt = count === 1 ? 0 : Math.round((i * busyMs) / count);
    const completedAt = count === 1 ? busyMs : Math.round(((i + 1) * busyMs) / count);
    const attempt = {
      jobId: String(i),
      task: 'noop',
      queue: 'default',
      correlationId: `c${i}`,
      attempt: 1,
      maxAttempts: 3,
      poolId: 'p',
      workerId: 'w/0',
      runAt: startedAt,
      startedAt,
      waitMs: 0,
    };
    stats.observe('job:started', attempt);
    stats.observe('job:completed', {
      ...attempt,
      completedAt,
      durationMs: completedAt - startedAt,
      result: null,
    });
  }
  const line = renderSummary(stats.summary(), painter(false))
    .split('\n')
    .find((text) => text.startsWith('busy '));
  return /· (.+) · wall/.exec(line ?? '')?.[1] ?? `no rate in ${line}`;
}

test('the rate reads as jobs/s at normal speeds and in jobs/min or jobs/h when slower', () => {
  assert.equal(rateLine(200, 8000), '25.0 jobs/s', 'normal rates look as before');
  assert.equal(rateLine(3, 2000), '1.5 jobs/s');
  assert.equal(rateLine(1, 60_000), '1.0 jobs/min', 'the probe: 1 job over 60 s is not 0.0 jobs/s');
  assert.equal(rateLine(3, 20_000), '9.0 jobs/min');
  assert.equal(rateLine(1, 2 * 3_600_000), '0.5 jobs/h');
  assert.equal(rateLine(1, 30 * 86_400_000), '0.0014 jobs/h', 'never 0.0');
  assert.equal(rateLine(0, 0), '– jobs/s', 'nothing finished yet');
});

test("a worker's summary counts the jobs it started, not those its process only enqueued, cancelled or rescued", () => {
  const stats = new RunStats(Date.now, { countFrom: 'started' });
  const job = (id: string) => ({
    jobId: id,
    task: 'report',
    queue: 'default',
    correlationId: id,
    maxAttempts: 3,
  });
  // Its scheduler (this process leads) enqueued two ticks; another worker ran them.
  stats.observe('job:queued', { ...job('1'), attempt: 0 });
  stats.observe('job:queued', { ...job('2'), attempt: 0 });
  // Its rescuer abandoned a job of a vanished worker; a schedule edit cancelled a waiting job.
  stats.observe('job:abandoned', { ...job('3'), attempt: 3, reason: 'attempts-exhausted', at: 5 });
  stats.observe('job:cancelled', { ...job('4'), attempt: 0, at: 6 });
  // The one job it ran.
  const attempt = {
    ...job('5'),
    attempt: 1,
    poolId: 'p',
    workerId: 'p/0',
    runAt: 1,
    startedAt: 2,
    waitMs: 1,
  };
  stats.observe('job:started', attempt);
  stats.observe('job:completed', { ...attempt, completedAt: 3, durationMs: 1, result: null });
  const summary = stats.summary();
  // Before, it reported 5 jobs: 1 completed, 1 abandoned, 1 cancelled and 2 unfinished.
  assert.equal(summary.jobs, 1);
  assert.equal(summary.completed, 1);
  assert.equal(summary.abandoned, 0);
  assert.equal(summary.cancelled, 0);
  assert.equal(summary.unfinished, 0);
  // The demo's summary (it enqueues and runs its own jobs) still counts from the enqueue.
  const demo = new RunStats();
  demo.observe('job:queued', { ...job('9'), attempt: 0 });
  assert.equal(demo.summary().unfinished, 1);
});

test('a job whose lease was lost here (cancelled elsewhere) counts as lost, not unfinished, until it is seen again', () => {
  const stats = new RunStats(Date.now, { countFrom: 'started' });
  const attempt = (id: string, n: number) => ({
    jobId: id,
    task: 'stubborn',
    queue: 'default',
    correlationId: id,
    maxAttempts: 3,
    attempt: n,
    poolId: 'p',
    workerId: 'p/0',
    runAt: 1,
    startedAt: 2,
    waitMs: 1,
  });
  stats.observe('job:started', attempt('1', 1));
  stats.observe('job:started', attempt('2', 1));
  // Another process cancelled job 1 and rescued job 2 while their handlers ran here.
  stats.observe('job:lease-lost', { ...attempt('1', 1), at: 3 });
  stats.observe('job:lease-lost', { ...attempt('2', 1), at: 3 });
  let summary = stats.summary();
  // Before, both showed as unfinished work of this worker.
  assert.equal(summary.jobs, 2);
  assert.equal(summary.lost, 2);
  assert.equal(summary.unfinished, 0);
  assert.match(
    renderSummary(summary, painter(false)),
    /2 jobs: 0 done, 0 abandoned, 0 cancelled, 2 lost to another process or a cancel \(lease lost\), 0 unfinished/,
  );
  // Job 2 came back to this worker after its rescue and completed: one job, done.
  stats.observe('job:started', attempt('2', 2));
  stats.observe('job:completed', { ...attempt('2', 2), completedAt: 4, durationMs: 1, result: null });
  summary = stats.summary();
  assert.deepEqual([summary.jobs, summary.completed, summary.lost, summary.unfinished], [2, 1, 1, 0]);
});
