#!/usr/bin/env node
// What the durable event log costs a worker process that has just started, as the peer harness's
// scenario C measures it, and once it has warmed up:
//   npm run build && node bench/log-cost.mjs [--db postgres://…] [--jobs 50000] [--rounds 8] [--warm 2]
//
// Each round, for the log on and off (alternating which goes first, so drift hits both alike): one
// process enqueues a backlog of --jobs no-op jobs (PostgreSQL: its tables are then ANALYZEd, as the
// harness does), and a FRESH process drains it with one pool at concurrency 10, timed at its
// 5,000th job and at its last. Then a process drains --warm backlogs in a row and reports the
// last: the same drain once V8 has compiled the log's code (what a long-running worker sees).
// Prints the medians per variant and the ratios on/off. bench/run.mjs measures warm drains in one
// process; the harness times one fresh drain per variant, so its ratio moves by as much as its
// runs differ (10–20 % here) — this takes the median of many. Even so, sets of 30 rounds of the
// same builds differed by up to 7 points here (bench/results/2026-12-04-s39-log-cost-noise.md):
// compare builds with --rounds 30 or more, and look at the CPU row too (the compiler's threads
// show there, not in wall time, while a core is free).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createJobwire, defineTask } from '../dist/index.js';
import { analyzeSchema, dropSchema } from './pg-schema.mjs';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    jobs: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '8' },
    warm: { type: 'string', default: '2' },
    // Internal: what a child process does (prefill, drain, warm), its target and log setting.
    child: { type: 'string' },
    target: { type: 'string' },
    log: { type: 'string' },
  },
});
const N = Number(args.jobs);
const FIRST = Math.min(5000, N);
const postgres = args.db !== undefined && /^postgres(ql)?:/.test(args.db);
const progress = (message) => process.stderr.write(`${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A client on `target` (a SQLite file, or a PostgreSQL schema of --db), the log on or off. */
async function openClient(target, log, task) {
  const driver = postgres
    ? (await import('../dist/drivers/postgres/index.js')).postgresDriver({
        connectionString: args.db,
        schema: target,
      })
    : (await import('../dist/drivers/sqlite/index.js')).sqliteDriver({ path: target });
  return createJobwire({ driver, tasks: [task], ...(log ? {} : { events: { log: false } }) });
}

/** Enqueue the backlog in batches of 1,000 (as the harness's prefill does). */
async function prefill(target, log) {
  const task = defineTask({ name: 'noop', handler: async () => {} });
  const client = await openClient(target, log, task);
  for (let i = 0; i < N; i += 1000) {
    const n = Math.min(1000, N - i);
    await client.enqueueMany(Array.from({ length: n }, (_, k) => ({ task, payload: { i: i + k } })));
  }
  await client.close();
}

/** Drain the backlog with one pool: ms to the FIRST-th job started and to the last. */
async function drain(target, log) {
  let done = 0;
  let firstMs = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  let t0 = 0;
  const task = defineTask({
    name: 'noop',
    handler: async () => {
      done++;
      if (done === FIRST) firstMs = performance.now() - t0;
      if (done === N) finish(performance.now() - t0);
    },
  });
  const client = await openClient(target, log, task);
  const pool = client.createPool({ concurrency: 10 });
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await pool.start();
  const totalMs = await finished;
  // CPU of every thread of the process (V8's compiler and GC helpers, SQLite's checkpointer too).
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await pool.stop();
  await client.close();
  return { firstMs, totalMs, cpuMs };
}

/** A new target: a SQLite file in a new directory, or a PostgreSQL schema name (created on open). */
function newTarget(label) {
  if (postgres) return { target: `jobwire_logcost_${process.pid}_${label}`, dir: undefined };
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-logcost-'));
  return { target: join(dir, 'bench.db'), dir };
}

async function removeTarget({ target, dir }) {
  if (dir) rmSync(dir, { recursive: true, force: true });
  else await dropSchema(args.db, target);
}

/** Run this script as a child doing `what`; its last stdout line is JSON. */
function child(what, target, log) {
  const run = spawnSync(
    process.execPath,
    [
      new URL(import.meta.url).pathname,
      '--child',
      what,
      '--target',
      target,
      '--log',
      log ? 'on' : 'off',
      '--jobs',
      String(N),
      '--warm',
      args.warm,
      ...(args.db ? ['--db', args.db] : []),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (run.status !== 0)
    throw new Error(`${what} (log ${log ? 'on' : 'off'}) failed with exit code ${run.status}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

/** One fresh drain of a backlog enqueued by another process. */
async function freshDrain(label, log) {
  const t = newTarget(label);
  try {
    child('prefill', t.target, log);
    if (postgres) await analyzeSchema(args.db, t.target);
    return child('drain', t.target, log);
  } finally {
    await removeTarget(t);
  }
}

if (args.child) {
  const log = args.log === 'on';
  let result = {};
  if (args.child === 'prefill') await prefill(args.target, log);
  else if (args.child === 'drain') result = await drain(args.target, log);
  else if (args.child === 'warm') {
    // Backlogs drained in a row by this process; the last one's times are reported.
    for (let i = 0; i < Number(args.warm); i++) {
      const t = newTarget(`${args.target}_${i}`);
      try {
        await prefill(t.target, log);
        if (postgres) await analyzeSchema(args.db, t.target);
        result = await drain(t.target, log);
      } finally {
        await removeTarget(t);
      }
    }
  }
  console.log(JSON.stringify(result));
} else {
  const rounds = Number(args.rounds);
  const samples = { on: [], off: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const log of round % 2 ? [true, false] : [false, true]) {
      const name = log ? 'on' : 'off';
      const fresh = await freshDrain(`r${round}_${name}`, log);
      const warm = Number(args.warm) > 0 ? child('warm', `w${round}_${name}`, log) : undefined;
      samples[name].push({ fresh, warm });
      progress(
        `round ${round}/${rounds} log ${name}: fresh ${fresh.totalMs.toFixed(0)} ms (first ${FIRST}: ${fresh.firstMs.toFixed(0)}, CPU ${fresh.cpuMs.toFixed(0)})` +
          (warm ? `, warm ${warm.totalMs.toFixed(0)} ms` : ''),
      );
    }
  }
  const m = (name, pick) => median(samples[name].map(pick));
  const rows = [
    ['fresh process: whole drain', (s) => s.fresh.totalMs],
    [`fresh process: first ${FIRST} jobs`, (s) => s.fresh.firstMs],
    [`fresh process: jobs after the first ${FIRST}`, (s) => s.fresh.totalMs - s.fresh.firstMs],
    ['fresh process: CPU of the drain (all threads)', (s) => s.fresh.cpuMs],
    ...(Number(args.warm) > 0
      ? [[`warm process (drain ${args.warm} of ${args.warm})`, (s) => s.warm.totalMs]]
      : []),
  ];
  console.log(`\n${postgres ? 'PostgreSQL' : 'SQLite'}, ${N} jobs, ${rounds} rounds: medians, ms`);
  console.log('\n| drain | log on | log off | on − off | off / on |\n| --- | ---: | ---: | ---: | ---: |');
  for (const [label, pick] of rows) {
    const on = m('on', pick);
    const off = m('off', pick);
    console.log(
      `| ${label} | ${on.toFixed(0)} | ${off.toFixed(0)} | ${(on - off).toFixed(0)} | ${((off / on) * 100).toFixed(0)} % |`,
    );
  }
  const perRound = samples.on.map((s, i) => samples.off[i].fresh.totalMs / s.fresh.totalMs);
  console.log(
    `\nfresh drains, off / on within each round: median ${(median(perRound) * 100).toFixed(0)} %, ` +
      `range ${(Math.min(...perRound) * 100).toFixed(0)}–${(Math.max(...perRound) * 100).toFixed(0)} %`,
  );
}
