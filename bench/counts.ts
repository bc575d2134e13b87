#!/usr/bin/env node
// Counts on a large table: `node --import tsx bench/counts.ts [--db postgres://…] [--pending 1000000]
// [--finished 5000000] [--runs 5]`.
//
// Seeds the jobs table (bulk SQL, bench only) with `--pending` pending jobs (99 % in queue `bulk`,
// the rest in `email`, plus 50 in `reports`), 1,000 scheduled jobs and `--finished` finished
// ones (98 % completed, 1 % abandoned, 1 % cancelled, over the three queues), VACUUM ANALYZEs
// PostgreSQL, then times the exact `listQueues()` against the bounded `queueCounts()` (default
// cap 10,000) and prints both readings side by side.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createJobwire, JOB_STATES, openDriver, type QueueCounts, type QueueInfo } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    pending: { type: 'string', default: '1000000' },
    finished: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '5' },
  },
});
const PENDING = Number(args.pending);
const FINISHED = Number(args.finished);
const RUNS = Number(args.runs);
const dir = mkdtempSync(join(tmpdir(), 'jobwire-counts-'));
const target = args.db ?? join(dir, 'bench.db');
const isPg = target.startsWith('postgres');

// One row per i: its queue and state from i alone, so both databases get the same table.
// Pending: i in [1, PENDING]; scheduled: the next 1,000; finished: the rest.
const QUEUE = (i: string, p: string) =>
  `CASE WHEN ${i} <= ${p} THEN (CASE WHEN ${i} % 100 = 0 THEN 'email' ELSE 'bulk' END)
        WHEN ${i} % 3 = 0 THEN 'email' WHEN ${i} % 3 = 1 THEN 'bulk' ELSE 'reports' END`;
const STATE = (i: string, p: string) =>
  `CASE WHEN ${i} <= ${p} THEN 'pending' WHEN ${i} <= ${p} + 1000 THEN 'scheduled'
        WHEN ${i} % 100 = 7 THEN 'abandoned' WHEN ${i} % 100 = 8 THEN 'cancelled' ELSE 'completed' END`;

async function seed(): Promise<void> {
  const now = Date.now();
  const total = PENDING + 1000 + FINISHED;
  if (isPg) {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    await client.query(
      `INSERT INTO jobwire.jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at,
        correlation_id, attempt)
      SELECT 't', ${QUEUE('g', '$2::int')}, '{}', ${STATE('g', '$2::int')}, 3,
        to_timestamp(($1::float8 + CASE WHEN g > $2::int AND g <= $2::int + 1000 THEN 3600000 ELSE 0 END) / 1000.0),
        to_timestamp($1::float8 / 1000.0),
        CASE WHEN g > $2::int + 1000 THEN to_timestamp(($1::float8 - $3::int + g) / 1000.0) END, 'c', 1
      FROM generate_series(1, $3::int) g`,
      [now, PENDING, total],
    );
    await client.query(
      "INSERT INTO jobwire.jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id) SELECT 't', 'reports', '{}', 'pending', 3, now(), now(), 'c' FROM generate_series(1, 50)",
    );
    // What autovacuum does to a freshly loaded table (PostgreSQL 13+ vacuums after inserts too):
    // statistics, and the visibility map that lets index-only scans skip the heap.
    await client.query('VACUUM ANALYZE jobwire.jobs');
    await client.end();
    return;
  }
  const db = new Database(target);
  db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @total)
    INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, finished_at,
      correlation_id, attempt)
    SELECT 't', ${QUEUE('i', '@p')}, '{}', ${STATE('i', '@p')}, 3,
      @now + CASE WHEN i > @p AND i <= @p + 1000 THEN 3600000 ELSE 0 END, @now,
      CASE WHEN i > @p + 1000 THEN @now - @total + i END, 'c', 1 FROM n`).run({
    total,
    p: PENDING,
    now,
  });
  db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
    INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
    SELECT 't', 'reports', '{}', 'pending', 3, @now, @now, 'c' FROM n`).run({ now });
  db.close();
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number[]; value: T }> {
  const ms: number[] = [];
  let value: T | undefined;
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    value = await fn();
    ms.push(performance.now() - start);
  }
  return { ms: ms.sort((a, b) => a - b), value: value as T };
}

const fmt = (ms: number[]) =>
  `median ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} ms, min ${ms[0]!.toFixed(1)}, max ${ms.at(-1)!.toFixed(1)}`;
const mark = { exact: '', atLeast: '≥', estimate: '~' } as const;

const driver = await openDriver(target);
await driver.migrate();
await driver.close();
console.log(
  `counts bench · ${isPg ? 'postgres' : 'sqlite'} · ${PENDING} pending + 1000 scheduled + ${FINISHED} finished rows · ${RUNS} runs each`,
);
const t0 = Date.now();
await seed();
console.log(`seeded${isPg ? ' and vacuum-analyzed' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const client = await createJobwire({ driver: await openDriver(target), retention: false });
const exact = await time(() => client.listQueues());
const bounded = await time(() => client.queueCounts());
console.log(`\nlistQueues()  (exact, GROUP BY over the table): ${fmt(exact.ms)}`);
console.log(`queueCounts() (bounded, exactUpTo 10000):       ${fmt(bounded.ms)}`);
console.log('\nqueue     state        exact      bounded');
const truth = new Map<string, QueueInfo>(exact.value.map((q) => [q.name, q]));
for (const queue of bounded.value as QueueCounts[]) {
  for (const state of JOB_STATES) {
    const real = truth.get(queue.name)?.counts[state] ?? 0;
    if (real === 0 && queue.counts[state] === 0) continue;
    console.log(
      `${queue.name.padEnd(9)} ${state.padEnd(10)} ${String(real).padStart(9)}  ${`${mark[queue.precision[state]]}${queue.counts[state]}`.padStart(11)}`,
    );
  }
}
await client.close();
rmSync(dir, { recursive: true, force: true });
