#!/usr/bin/env node
// Large tables (issue 13): `npm run bench:large [-- --db postgres://…] [--jobs 50000]
// [--pending 1000000] [--finished 5000000] [--events 1000000] [--rounds 3] [--backlog same|other]
// [--explain] [--vacuum]`.
//
// Does processing slow down when the tables are big? Measures, on the built package (dist/), with
// default settings (durable event log on, default retention running on the leader):
//   processing throughput at concurrency 10 (no-op handler) until `--jobs` jobs completed, from
//     (a) empty tables holding just those jobs, and
//     (b) large tables: `--pending` pending jobs and `--finished` finished ones (98 % completed,
//         1 % abandoned, 1 % cancelled, finished over days), and `--events` event-log rows.
//         With `--backlog same` (the default, the honest test) the pool serves the queue that
//         holds the backlog and drains `--jobs` of it; `--backlog other` puts the backlog in a
//         queue no pool serves and enqueues `--jobs` fresh ones beside it;
//   the longest event-loop stall while processing (a 5 ms timer's worst gap);
//   enqueue one-by-one, and the bounded `queueCounts()` the dashboard and CLI use, on both;
//   where processing spends its time: each driver method's calls, total and longest time (on
//   SQLite a call's time is the event loop's; on PostgreSQL it is the wait for the server);
//   with `--explain` (PostgreSQL), EXPLAIN (ANALYZE, BUFFERS) of a claim and a finalize on the
//   large tables after the rounds (bench/large-explain.mjs).
// PostgreSQL keeps the index entries of claimed jobs until VACUUM removes them, and each large
// round drains the backlog further, so later rounds claim past the entries of earlier ones (as a
// server does until autovacuum reaches the table: by default after a fifth of it changed).
// `--vacuum` runs VACUUM (INDEX_CLEANUP ON) on jobs before each large round (timed) to tell that
// apart from the size of the tables.
// Empty and large rounds alternate (each empty round in a fresh database, every large round on
// the one large database, which the rounds drain further), so the ratio is taken side by side.
// The large tables are written with SQL (bench/large-fill.mjs; a few minutes, progress on
// stderr), then PostgreSQL is VACUUM ANALYZEd as autovacuum would, SQLite ANALYZEd. Everything it
// created (files, schemas) is removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createJobwire, defineTask } from '../dist/index.js';
import { explainPostgres } from './large-explain.mjs';
import { fillLarge } from './large-fill.mjs';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    jobs: { type: 'string', default: '50000' },
    pending: { type: 'string', default: '1000000' },
    finished: { type: 'string', default: '5000000' },
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    explain: { type: 'boolean', default: false },
    vacuum: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '10' },
    'one-by-one': { type: 'string', default: '2000' },
    backlog: { type: 'string', default: 'same' },
    json: { type: 'boolean', default: false },
  },
});
if (!['same', 'other'].includes(args.backlog)) throw new Error('--backlog must be same or other');
const N = Number(args.jobs);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const ONE_BY_ONE = Number(args['one-by-one']);
const isPg = Boolean(args.db && /^postgres(ql)?:/.test(args.db));
const sizes = {
  pending: Number(args.pending),
  finished: Number(args.finished),
  events: Number(args.events),
  backlogQueue: args.backlog === 'same' ? 'default' : 'backlog',
};
if (args.backlog === 'same' && sizes.pending < N * ROUNDS + 1)
  throw new Error('--pending must hold every round’s --jobs (or use --backlog other)');
const progress = (message) => process.stderr.write(`${message}\n`);
const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A database: `open()` gives a new driver on it (each client closes its own), `drop()` removes it. */
async function database(label) {
  if (isPg) {
    const { postgresDriver } = await import('../dist/drivers/postgres/index.js');
    const schema = `jobwire_large_${label}_${process.pid}`;
    return {
      target: { kind: 'postgres', url: args.db, schema },
      open: () => postgresDriver({ connectionString: args.db, schema }),
      drop: () => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
      analyze: () => pgQuery(`ANALYZE "${schema}".jobs; ANALYZE "${schema}".events`),
      vacuum: () => pgQuery(`VACUUM (INDEX_CLEANUP ON) "${schema}".jobs`),
    };
  }
  const { sqliteDriver } = await import('../dist/drivers/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), `jobwire-large-${label}-`));
  const path = join(dir, 'bench.db');
  return {
    target: { kind: 'sqlite', path },
    open: () => sqliteDriver({ path }),
    drop: async () => rmSync(dir, { recursive: true, force: true }),
    analyze: async () => {},
  };
}

async function pgQuery(text) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: args.db });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Wraps every method of `driver` to add each call's time to `timings` (method → calls, total ms,
 * longest ms): until the returned promise settles, or the call returns for a synchronous one.
 */
function timed(driver, timings) {
  for (const [name, method] of Object.entries(driver)) {
    if (typeof method !== 'function') continue;
    driver[name] = (...callArgs) => {
      const t0 = performance.now();
      const record = () => {
        const ms = performance.now() - t0;
        const entry = timings.get(name) ?? { calls: 0, totalMs: 0, maxMs: 0 };
        entry.calls++;
        entry.totalMs += ms;
        entry.maxMs = Math.max(entry.maxMs, ms);
        timings.set(name, entry);
      };
      const result = method.apply(driver, callArgs);
      if (result && typeof result.then === 'function') result.then(record, record);
      else record();
      return result;
    };
  }
  return driver;
}

function stallMonitor() {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    worst = Math.max(worst, t - last);
    last = t;
  }, 5);
  return () => {
    clearInterval(timer);
    return Math.max(worst, performance.now() - last);
  };
}

const noop = defineTask({ name: 'noop', handler: async () => {} });

async function enqueueBacklog(client, count) {
  for (let start = 0; start < count; start += 1000) {
    await client.enqueueMany(
      Array.from({ length: Math.min(1000, count - start) }, (_, k) => ({
        task: noop,
        payload: { i: start + k },
      })),
    );
  }
}

/**
 * One round on `db`: jobs/s until N jobs completed (from `job:completed`, emitted once the
 * outcome is written), the longest stall, then enqueue one-by-one and timed `queueCounts()`.
 */
async function round(db, kind, index) {
  const timings = new Map();
  const client = await createJobwire({ driver: timed(db.open(), timings), tasks: [noop] });
  try {
    if (kind === 'empty' || args.backlog === 'other') {
      await enqueueBacklog(client, N);
      await db.analyze();
    }
    let done = 0;
    let reached;
    const drained = new Promise((resolve) => (reached = resolve));
    client.events.on('job:completed', () => {
      if (++done === N) reached(performance.now());
    });
    progress(`      ${kind} round ${index + 1}: processing ${fmt(N)} jobs, concurrency ${CONCURRENCY}`);
    const pool = client.createPool({ concurrency: CONCURRENCY, handleSignals: false });
    const stopStall = stallMonitor();
    const ticker = setInterval(() => progress(`      ${done}/${N} completed`), 1000);
    timings.clear();
    const t0 = performance.now();
    await pool.start();
    const t1 = await drained;
    clearInterval(ticker);
    const stall = stopStall();
    const profile = new Map(timings);
    // On the large table the pool would go on with the backlog: stop it once N are done.
    await pool.stop();
    const rate = N / ((t1 - t0) / 1000);
    progress(`      ${kind} round ${index + 1}: ${fmt(rate)} jobs/s, longest stall ${fmt(stall, 1)} ms`);

    const e0 = performance.now();
    for (let i = 0; i < ONE_BY_ONE; i++) await client.enqueue(noop, { i });
    const enqueueRate = ONE_BY_ONE / ((performance.now() - e0) / 1000);

    const countTimes = [];
    let counts;
    for (let i = 0; i < 5; i++) {
      const c0 = performance.now();
      counts = await client.queueCounts();
      countTimes.push(performance.now() - c0);
    }
    return {
      rate,
      stall,
      profile,
      enqueueRate,
      countsMs: median(countTimes),
      countsMaxMs: Math.max(...countTimes),
      counts,
    };
  } finally {
    await client.close();
  }
}

const large = await database('big');
// Interrupted (it runs for minutes): still remove the large database, which holds gigabytes.
process.once('SIGINT', () => large.drop().finally(() => process.exit(130)));
const runs = { empty: [], large: [] };
try {
  const t = performance.now();
  progress(
    `[1/2] filling the large tables (${isPg ? 'postgres' : 'sqlite'}): ${fmt(sizes.pending)} pending in queue ` +
      `'${sizes.backlogQueue}', ${fmt(sizes.finished)} finished, ${fmt(sizes.events)} event rows`,
  );
  await fillLarge(large.open(), large.target, sizes, progress);
  const fillSeconds = (performance.now() - t) / 1000;
  progress(`      filled in ${fmt(fillSeconds, 1)} s`);

  progress(`[2/2] ${ROUNDS} rounds each, empty and large alternating`);
  for (let i = 0; i < ROUNDS; i++) {
    for (const kind of i % 2 === 0 ? ['empty', 'large'] : ['large', 'empty']) {
      if (kind === 'large') {
        if (args.vacuum && large.vacuum) {
          const v0 = performance.now();
          await large.vacuum();
          progress(`      VACUUM (INDEX_CLEANUP ON) jobs: ${fmt((performance.now() - v0) / 1000, 1)} s`);
        }
        runs.large.push(await round(large, 'large', i));
        continue;
      }
      const empty = await database(`e${i}`);
      try {
        runs.empty.push(await round(empty, 'empty', i));
      } finally {
        await empty.drop();
      }
    }
  }
  const plans = args.explain && isPg ? await explainPostgres(args.db, large.target.schema) : undefined;
  report(fillSeconds, plans);
} finally {
  await large.drop();
}

function report(fillSeconds, plans) {
  const summary = (r) => ({
    processing: median(r.map((x) => x.rate)),
    rounds: r.map((x) => x.rate),
    longestStallMs: Math.max(...r.map((x) => x.stall)),
    enqueueOneByOne: median(r.map((x) => x.enqueueRate)),
    queueCountsMs: median(r.map((x) => x.countsMs)),
    queueCountsMaxMs: Math.max(...r.map((x) => x.countsMaxMs)),
    profile: mergeProfiles(r.map((x) => x.profile)),
  });
  const empty = summary(runs.empty);
  const big = summary(runs.large);
  const counts = runs.large.at(-1).counts;
  if (args.json) {
    console.log(
      JSON.stringify({
        driver: isPg ? 'postgres' : 'sqlite',
        sizes,
        fillSeconds,
        empty: { ...empty, profile: Object.fromEntries(empty.profile) },
        large: { ...big, profile: Object.fromEntries(big.profile) },
        counts,
        plans,
      }),
    );
    return;
  }
  const ratio = (a, b) => `${fmt((100 * a) / b)} %`;
  const rows = [
    [
      `processing, concurrency ${CONCURRENCY} (median of ${ROUNDS})`,
      `${fmt(empty.processing)} jobs/s`,
      `${fmt(big.processing)} jobs/s`,
      ratio(big.processing, empty.processing),
    ],
    [
      '  each round',
      empty.rounds.map((r) => fmt(r)).join(', '),
      big.rounds.map((r) => fmt(r)).join(', '),
      '',
    ],
    [
      'longest event-loop stall (processing)',
      `${fmt(empty.longestStallMs, 1)} ms`,
      `${fmt(big.longestStallMs, 1)} ms`,
      '',
    ],
    [
      `enqueue one-by-one (${fmt(ONE_BY_ONE)})`,
      `${fmt(empty.enqueueOneByOne)} jobs/s`,
      `${fmt(big.enqueueOneByOne)} jobs/s`,
      ratio(big.enqueueOneByOne, empty.enqueueOneByOne),
    ],
    [
      'queueCounts() bounded, median (max)',
      `${fmt(empty.queueCountsMs, 1)} (${fmt(empty.queueCountsMaxMs, 1)}) ms`,
      `${fmt(big.queueCountsMs, 1)} (${fmt(big.queueCountsMaxMs, 1)}) ms`,
      '',
    ],
  ];
  console.log(
    `\njobwire large-table benchmark — ${isPg ? 'postgres' : 'sqlite'}, Node ${process.version}; large: ` +
      `${fmt(sizes.pending)} pending (queue '${sizes.backlogQueue}'), ${fmt(sizes.finished)} finished, ` +
      `${fmt(sizes.events)} event rows (filled in ${fmt(fillSeconds)} s); ${fmt(N)} jobs per round` +
      `${args.vacuum && isPg ? '; jobs VACUUMed before each large round' : ''}\n`,
  );
  const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length), 8));
  const line = (r) => `| ${r.map((v, c) => v.padEnd(w[c])).join(' | ')} |`;
  console.log(line(['measure', 'empty', 'large', 'large/empty']));
  console.log(`| ${w.map((n) => '-'.repeat(n)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
  console.log('\nqueueCounts() on the large tables after the last round (≥ lower bound, ~ estimate):');
  for (const q of counts) {
    const cells = Object.entries(q.counts).map(([state, n]) => {
      const mark = { exact: '', atLeast: '≥', estimate: '~' }[q.precision[state]] ?? '?';
      return `${state} ${mark}${fmt(n)}`;
    });
    console.log(`  ${q.name}: ${cells.join(', ')}`);
  }
  console.log('\nDriver calls while processing, all rounds: calls, total ms, longest ms (empty | large):');
  const names = [...new Set([...empty.profile.keys(), ...big.profile.keys()])]
    .map((name) => [name, (empty.profile.get(name)?.totalMs ?? 0) + (big.profile.get(name)?.totalMs ?? 0)])
    .filter(([, total]) => total >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name);
  const cell = (e) => (e ? `${fmt(e.calls)}, ${fmt(e.totalMs)}, ${fmt(e.maxMs, 1)}` : '–');
  for (const name of names)
    console.log(
      `  ${name.padEnd(24)} ${cell(empty.profile.get(name)).padStart(22)} | ${cell(big.profile.get(name))}`,
    );
  if (plans) {
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) on the large tables — claim:\n${plans.claimPlan}`);
    console.log(`\nfinalize of ${plans.finalized} claimed jobs:\n${plans.finalizePlan}`);
  }
}

/** The rounds' driver timings added up, per method. */
function mergeProfiles(profiles) {
  const merged = new Map();
  for (const profile of profiles)
    for (const [name, e] of profile) {
      const m = merged.get(name) ?? { calls: 0, totalMs: 0, maxMs: 0 };
      merged.set(name, {
        calls: m.calls + e.calls,
        totalMs: m.totalMs + e.totalMs,
        maxMs: Math.max(m.maxMs, e.maxMs),
      });
    }
  return merged;
}
