#!/usr/bin/env node
// Counts on a large table: `node --import tsx bench/counts.ts [--db postgres://…] [--pending 1000000]
// [--finished 5000000] [--runs 5]`.
//
// Seeds the jobs table (bulk SQL, bench only) with `--pending` pending jobs (99 % in queue `bulk`,
// the rest in `email`, plus 50 in `reports`), 1,000 scheduled jobs and `--finished` finished
// ones (98 % completed, 1 % abandoned, 1 % cancelled, over the three queues), VACUUM ANALYZEs
// PostgreSQL, then times the exact `listQueues()` against the bounded `queueCounts()` (default
// cap 10,000) and prints both readings side by side. The table is bench/large-seed.ts's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createJobwire, JOB_STATES, openDriver, type QueueCounts, type QueueInfo } from '../src/index.js';
import { seedLargeTable } from './large-seed.js';

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
await seedLargeTable({ target, pending: PENDING, finished: FINISHED });
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
