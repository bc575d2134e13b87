#!/usr/bin/env node
// Retention under load: `node --import tsx bench/retention.ts [--db postgres://…] [--rows 1000000]
// [--kept 300000]`.
//
// 1. Backlog: the jobs table is seeded with `--rows` completed jobs finished two days ago (bulk
//    SQL, bench only), then a pool processes jobs enqueued at `--rate`/s while the leader's
//    pruner deletes the backlog in its time-boxed batches. `--kept` adds abandoned jobs that
//    finished before all of them and that the default retention keeps (30 days). Every second:
//    rows left (bounded counts: estimated above 1,000; on PostgreSQL from planner statistics,
//    which see deletions only after VACUUM/ANALYZE), jobs completed, the event loop's delay
//    (p50/p99/max, from perf_hooks), and the pruner's last run: rows deleted, delete
//    statements, largest batch, longest statement. A baseline phase without pruning gives the figures to compare with.
// 2. Steady state: with `completed: '10s'` (pruned every 2 s) the table stays bounded while
//    jobs keep completing (rows over time).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { clientInternals } from '../src/core/internals.js';
import type { Pruner } from '../src/core/leader/pruner.js';
import { createJobwire, defineTask, type Jobwire, openDriver } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    rows: { type: 'string', default: '1000000' },
    kept: { type: 'string', default: '0' },
    rate: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '20' },
  },
});
const ROWS = Number(args.rows);
// Abandoned jobs that finished 10 days ago, before every completed one: the default retention
// keeps them (30 days), and a prune of completed jobs must not read them again and again.
const KEPT = Number(args.kept);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const dir = mkdtempSync(join(tmpdir(), 'jobwire-retention-'));
const target = args.db ?? join(dir, 'bench.db');
const isPg = target.startsWith('postgres');

async function seed(): Promise<void> {
  const old = Date.now() - 2 * 86_400_000;
  if (isPg) {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    await client.query(
      `INSERT INTO jobwire.jobs (task, queue, payload, state, max_attempts, run_at, created_at,
        started_at, finished_at, correlation_id, attempt)
      SELECT 'old', 'default', '{}', 'completed', 3, to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0),
        to_timestamp($1 / 1000.0), to_timestamp(($1 + g) / 1000.0), 'c', 1 FROM generate_series(1, $2) g`,
      [old, ROWS],
    );
    await client.query(
      `INSERT INTO jobwire.jobs (task, queue, payload, state, max_attempts, run_at, created_at,
        started_at, finished_at, correlation_id, attempt)
      SELECT 'old', 'default', '{}', 'abandoned', 3, to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0),
        to_timestamp($1 / 1000.0), to_timestamp(($1 + g) / 1000.0), 'c', 1 FROM generate_series(1, $2) g`,
      [old - 8 * 86_400_000, KEPT],
    );
    await client.query('ANALYZE jobwire.jobs');
    await client.end();
    return;
  }
  const db = new Database(target);
  db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, started_at, finished_at,
      correlation_id, attempt)
    SELECT 'old', 'default', '{}', 'completed', 3, ?, ?, ?, ? + i, 'c', 1 FROM n`).run(
    ROWS,
    old,
    old,
    old,
    old,
  );
  db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, started_at, finished_at,
      correlation_id, attempt)
    SELECT 'old', 'default', '{}', 'abandoned', 3, ?, ?, ?, ? + i, 'c', 1 FROM n WHERE ? > 0`).run(
    KEPT,
    old - 8 * 86_400_000,
    old - 8 * 86_400_000,
    old - 8 * 86_400_000,
    old - 8 * 86_400_000,
    KEPT,
  );
  db.close();
}

const noop = defineTask({ name: 'bench.noop', handler: async () => 'ok' });

async function phase(client: Jobwire, label: string, seconds: number): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let completed = 0;
  const off = client.events.on('job:completed', () => {
    completed++;
  });
  const pool = client.createPool({ concurrency: 8, handleSignals: false, pollIntervalMs: 50 });
  await pool.start();
  let owed = 0;
  const producer = setInterval(() => {
    owed += RATE / 20;
    const n = Math.floor(owed);
    owed -= n;
    if (n > 0)
      void client.enqueueMany(Array.from({ length: n }, () => ({ task: noop, payload: {} }))).catch(() => {});
  }, 50);
  console.log(`\n${label}`);
  // The pruner's last run: how many statements, the largest batch and the longest statement.
  const pruner = clientInternals(client).leader.services.find((s) => s.name === 'pruner') as
    | Pruner
    | undefined;
  console.log(
    '  s   rows(total)  completed/s  loop p50  loop p99  loop max   pruned  batches  largest  longest ms',
  );
  for (let s = 1; s <= seconds; s++) {
    delay.enable();
    const before = completed;
    await new Promise((r) => setTimeout(r, 1000));
    delay.disable();
    const report = pruner?.lastReport;
    // Bounded counts (exact up to 1,000, estimated above): an exact count of a million rows
    // would block SQLite's (synchronous) event loop itself and show up in the loop figures.
    const queues = await client.queueCounts({ exactUpTo: 1000 });
    const rows = queues.reduce((sum, q) => sum + Object.values(q.counts).reduce((a, b) => a + b, 0), 0);
    const ms = (ns: number) => (ns / 1e6).toFixed(1).padStart(7);
    console.log(
      `${String(s).padStart(3)}  ${String(rows).padStart(11)}  ${String(completed - before).padStart(11)}  ${ms(delay.percentile(50))}  ${ms(delay.percentile(99))}  ${ms(delay.max)}` +
        (report ? `  ${String(Object.values(report.deleted).reduce((a, b) => a + b, 0)).padStart(7)}` : '') +
        (report?.batches !== undefined
          ? `  ${String(report.batches).padStart(7)}  ${String(report.largestBatch).padStart(7)}  ${report.longestBatchMs.toFixed(1).padStart(10)}`
          : ''),
    );
    delay.reset();
  }
  clearInterval(producer);
  await pool.stop();
  off();
}

const driver = await openDriver(target);
await driver.migrate();
await driver.close();
console.log(
  `retention bench · ${isPg ? 'postgres' : 'sqlite'} · ${ROWS} old completed rows · ${KEPT} kept abandoned rows · ${RATE} jobs/s enqueued`,
);
const t0 = Date.now();
await seed();
console.log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const baseline = await createJobwire({ driver: await openDriver(target), tasks: [noop], retention: false });
await phase(baseline, 'baseline: no pruning', Math.min(5, SECONDS));
await baseline.close();

const pruning = await createJobwire({
  driver: await openDriver(target),
  tasks: [noop],
  // Pruning every 2 s: the table holds at most rate × (10 s + 2 s) completed jobs.
  retention: { completed: '10s', intervalMs: '2s' },
});
await phase(pruning, 'pruning the backlog (completed: 10s) while processing', SECONDS);
await phase(pruning, 'steady state: rows stay bounded', 15);
await pruning.close();
rmSync(dir, { recursive: true, force: true });
