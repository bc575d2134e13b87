#!/usr/bin/env node
// jobwire's own benchmark: `npm run bench [-- --db postgres://…] [--jobs N] [--concurrency C] [--only insert]`.
//
// Measures, on the built package (dist/), with default settings (`--completed delete`: with
// retention completed: 'immediately', completed jobs deleted as they complete):
//   enqueue one-by-one (awaited, sequential), bulk enqueue (enqueueMany of 1,000),
//   processing throughput at concurrency 10 (a backlog drained by one pool, no-op handler),
//   enqueue→start latency p50/p99 (jobs enqueued at ~200/s into an idle running pool, same process),
//   and while processing: the longest event-loop stall (a 5 ms interval timer's worst gap), the
//   p99 of Node's event-loop delay histogram, and the longest synchronous driver call (the loop
//   held by the database itself, e.g. a SQLite checkpoint inside a commit).
// Processing and latency run with the durable event log on (the default) and off, alternating
// (`--log both`, the default; `--log on` or `--log off` for one), and the table gives the ratio of
// the best rounds and the median of each round's own ratio (`--rounds 5` or more for a steady one).
// On PostgreSQL the backlog's tables are ANALYZEd before processing, as autovacuum would have.
// Prints a table with progress on stderr. Absolute numbers drift on shared machines: compare
// runs side by side (the peer harness in shared/bench/peers does that against other queues).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createJobwire, defineTask } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    jobs: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '10' },
    'one-by-one': { type: 'string', default: '5000' },
    latency: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    log: { type: 'string', default: 'both' },
    rounds: { type: 'string', default: '1' },
    // `delete`: every client deletes completed jobs as they complete (retention completed: 'immediately').
    completed: { type: 'string', default: 'keep' },
    // `insert`: only the enqueue measures, plus enqueues with a unique key and with a throttle
    // key (how much a dedup rule costs next to a plain job; each in a fresh database).
    only: { type: 'string', default: 'all' },
  },
});
if (!['all', 'insert'].includes(args.only)) throw new Error('--only must be all or insert');
if (!['keep', 'delete'].includes(args.completed)) throw new Error('--completed must be keep or delete');
const N = Number(args.jobs);
const ONE_BY_ONE = Number(args['one-by-one']);
const LATENCY_N = Number(args.latency);
const RATE = Number(args.rate);
const CONCURRENCY = Number(args.concurrency);
const LOG_MODES = args.log === 'both' ? ['on', 'off'] : [args.log];
const ROUNDS = Number(args.rounds);
if (LOG_MODES.some((m) => m !== 'on' && m !== 'off')) throw new Error('--log must be on, off or both');
const progress = (message) => process.stderr.write(`${message}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh database for one scenario: a new SQLite file, or a new PostgreSQL schema. */
async function freshDriver(label) {
  if (args.db && /^postgres(ql)?:/.test(args.db)) {
    const { postgresDriver } = await import('../dist/drivers/postgres/index.js');
    const schema = `jobwire_bench_${label}_${process.pid}`;
    const driver = postgresDriver({ connectionString: args.db, schema });
    return { driver, name: 'postgres', cleanup: async () => dropSchema(args.db, schema) };
  }
  const { sqliteDriver } = await import('../dist/drivers/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-bench-'));
  const driver = sqliteDriver({ path: join(dir, 'bench.db') });
  return { driver, name: 'sqlite', cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function dropSchema(url, schema) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

/** Rows per second of `n` awaited single-row INSERTs into a bare table, on the benchmarked database. */
async function plainInsertRate(n) {
  if (args.db && /^postgres(ql)?:/.test(args.db)) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: args.db, max: 10 });
    const table = `jobwire_bench_plain_${process.pid}`;
    await pool.query(
      `CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload json)`,
    );
    try {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await pool.query({
          name: 'plain',
          text: `INSERT INTO ${table} (payload) VALUES ($1)`,
          values: [`{"i":${i}}`],
        });
      }
      return n / ((performance.now() - t0) / 1000);
    } finally {
      await pool.query(`DROP TABLE ${table}`);
      await pool.end();
    }
  }
  const Database = (await import('better-sqlite3')).default;
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-bench-'));
  const db = new Database(join(dir, 'plain.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE plain (id INTEGER PRIMARY KEY, payload TEXT)');
    const insert = db.prepare('INSERT INTO plain (payload) VALUES (?)');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      insert.run(`{"i":${i}}`);
      await undefined; // one await per row, as an async enqueue() has
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The longest gap of a 5 ms timer, and the p99 of Node's event-loop delay histogram. */
function stallMonitor() {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    worst = Math.max(worst, t - last);
    last = t;
  }, 5);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  return () => {
    clearInterval(timer);
    delay.disable();
    return { stall: Math.max(worst, performance.now() - last), p99: delay.percentile(99) / 1e6 };
  };
}

/**
 * Time the synchronous part of every driver call (on SQLite, the whole call: better-sqlite3 runs
 * on this thread). The longest one is the event loop held by the database itself, apart from
 * what a busy machine adds by not scheduling the process.
 */
function timeDriverCalls(driver) {
  const timing = { longest: 0, over20: 0, on: false };
  for (const key of Object.keys(driver)) {
    const method = driver[key];
    if (typeof method !== 'function') continue;
    driver[key] = (...callArgs) => {
      const t0 = performance.now();
      try {
        return method.apply(driver, callArgs);
      } finally {
        const ms = performance.now() - t0;
        if (timing.on) {
          timing.longest = Math.max(timing.longest, ms);
          if (ms > 20) timing.over20++;
        }
      }
    };
  }
  return timing;
}

async function withClient(label, tasks, fn, log = 'on') {
  const { driver, name, cleanup } = await freshDriver(label);
  driver.timing = timeDriverCalls(driver);
  const client = await createJobwire({
    driver,
    tasks,
    events: { log: log === 'on' },
    ...(args.completed === 'delete' ? { retention: { completed: 'immediately' } } : {}),
  });
  try {
    return await fn(client, name, driver);
  } finally {
    await client.close();
    await cleanup();
  }
}

const noop = defineTask({ name: 'noop', handler: async () => {} });
const results = {};

// A: one-by-one
await withClient('a', [noop], async (client, name) => {
  results.driver = name;
  progress(`[1/4] enqueue one-by-one: ${ONE_BY_ONE} jobs (${name})`);
  const t0 = performance.now();
  for (let i = 0; i < ONE_BY_ONE; i++) await client.enqueue(noop, { i });
  results.enqueueOneByOne = ONE_BY_ONE / ((performance.now() - t0) / 1000);
});

// A0: the floor for A — a plain single-row INSERT of the same payload over the same kind of
// connection (a pg.Pool of 10 / a better-sqlite3 statement in WAL, synchronous=NORMAL).
progress(`      baseline: ${ONE_BY_ONE} plain single-row INSERTs`);
results.plainInsert = await plainInsertRate(ONE_BY_ONE);

// B: bulk
await withClient('b', [noop], async (client) => {
  progress(`[2/4] bulk enqueue: ${N} jobs in batches of 1,000`);
  const t0 = performance.now();
  for (let start = 0; start < N; start += 1000) {
    await client.enqueueMany(
      Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({
        task: noop,
        payload: { i: start + k },
      })),
    );
  }
  results.enqueueBulk = N / ((performance.now() - t0) / 1000);
});

// A1: one-by-one with a dedup rule, every key new (the rule's look-up finds nothing).
async function keyedOneByOne(label, options) {
  return withClient(label, [noop], async (client) => {
    const t0 = performance.now();
    for (let i = 0; i < ONE_BY_ONE; i++) await client.enqueue(noop, { i }, options(i));
    return ONE_BY_ONE / ((performance.now() - t0) / 1000);
  });
}
if (args.only === 'insert') {
  progress(`      keyed: ${ONE_BY_ONE} jobs one-by-one with a unique key, then with a throttle key`);
  results.enqueueUniqueKey = await keyedOneByOne('au', (i) => ({ uniqueKey: `k${i}` }));
  // A client without throttle (an older build) refuses the option: reported as n/a.
  results.enqueueThrottle = await keyedOneByOne('at', (i) => ({
    throttle: { key: `k${i}`, window: '1h' },
  })).catch(() => Number.NaN);
}

// C: processing throughput
async function processing(log, round) {
  let done = 0;
  let resolveDrained;
  const drained = new Promise((r) => (resolveDrained = r));
  const counting = defineTask({
    name: 'noop',
    handler: async () => {
      if (++done === N) resolveDrained();
    },
  });
  return withClient(
    `c${log}${round}`,
    [counting],
    async (client, name, driver) => {
      for (let start = 0; start < N; start += 1000) {
        await client.enqueueMany(
          Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({
            task: counting,
            payload: { i: start + k },
          })),
        );
      }
      if (name === 'postgres') await analyze(`jobwire_bench_c${log}${round}_${process.pid}`);
      progress(`[3/4] processing: ${N} queued jobs, concurrency ${CONCURRENCY}, event log ${log}`);
      const pool = client.createPool({ concurrency: CONCURRENCY, handleSignals: false });
      const stopStall = stallMonitor();
      driver.timing.on = true;
      const ticker = setInterval(() => progress(`      ${done}/${N} run`), 1000);
      const t0 = performance.now();
      await pool.start();
      await drained;
      await pool.whenIdle();
      const elapsed = (performance.now() - t0) / 1000;
      clearInterval(ticker);
      const { stall, p99 } = stopStall();
      driver.timing.on = false;
      const { longest: longestCall, over20 } = driver.timing;
      // Each round's figures, so a reader can see the spread behind what the table keeps.
      progress(
        `      processing, event log ${log}, round ${round + 1}: ${Math.round(N / elapsed)} jobs/s, ` +
          `longest stall ${stall.toFixed(1)} ms, event-loop delay p99 ${p99.toFixed(1)} ms, ` +
          `longest driver call ${longestCall.toFixed(1)} ms (${over20} over 20 ms)`,
      );
      const counts = await client.countJobs();
      if (counts.completed !== N) throw new Error(`expected ${N} completed jobs, found ${counts.completed}`);
      await pool.stop();
      return { rate: N / elapsed, stall, p99, longestCall, over20 };
    },
    log,
  );
}

/** ANALYZE a bench schema's tables, as autovacuum would have after the backlog was written. */
async function analyze(schema) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: args.db });
  await client.connect();
  await client.query(`ANALYZE "${schema}".jobs; ANALYZE "${schema}".events`);
  await client.end();
}

// D: enqueue→start latency
async function latency(log, round) {
  const startedAt = new Float64Array(LATENCY_N);
  let started = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  const timed = defineTask({
    name: 'noop',
    handler: async ({ i }) => {
      startedAt[i] = performance.now();
      if (++started === LATENCY_N) resolveAll();
    },
  });
  return withClient(
    `d${log}${round}`,
    [timed],
    async (client) => {
      const pool = client.createPool({ concurrency: CONCURRENCY, handleSignals: false });
      await pool.start();
      await sleep(1000);
      progress(`[4/4] latency: ${LATENCY_N} jobs at ~${RATE}/s into an idle pool, event log ${log}`);
      const enqueuedAt = new Float64Array(LATENCY_N);
      const t0 = performance.now();
      for (let i = 0; i < LATENCY_N; i++) {
        const wait = t0 + (i * 1000) / RATE - performance.now();
        if (wait > 1) await sleep(wait);
        enqueuedAt[i] = performance.now();
        await client.enqueue(timed, { i });
      }
      await all;
      const latencies = Array.from(startedAt, (t, i) => t - enqueuedAt[i]).sort((a, b) => a - b);
      await pool.stop();
      return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    },
    log,
  );
}

// Alternate the modes round by round, so drift on a shared machine hits both alike; keep the best
// processing rate and the median latencies of each mode, and the on/off ratio of every round.
const runs = { on: [], off: [] };
for (let round = 0; round < (args.only === 'insert' ? 0 : ROUNDS); round++) {
  for (const log of round % 2 === 0 ? LOG_MODES : [...LOG_MODES].reverse()) {
    runs[log].push({ c: await processing(log, round), d: await latency(log, round) });
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const log of args.only === 'insert' ? [] : LOG_MODES) {
  const r = runs[log];
  results[`log_${log}`] = {
    processing: Math.max(...r.map((x) => x.c.rate)),
    longestStallMs: Math.max(...r.map((x) => x.c.stall)),
    eventLoopDelayP99: median(r.map((x) => x.c.p99)),
    longestDriverCallMs: Math.max(...r.map((x) => x.c.longestCall)),
    latencyP50: median(r.map((x) => x.d.p50)),
    latencyP99: median(r.map((x) => x.d.p99)),
  };
}
// Each round runs both modes back to back: the ratio within a round is what drift disturbs least.
if (runs.on.length > 0 && runs.off.length > 0) {
  const ratios = runs.on.map((r, i) => r.c.rate / runs.off[i].c.rate);
  results.logRatioPerRound = ratios;
  results.logRatioMedian = median(ratios);
}
const main = results.log_on ?? results.log_off;
Object.assign(results, main);

const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
if (args.json) {
  console.log(JSON.stringify(results));
} else {
  const rows = [
    ['enqueue one-by-one', `${fmt(results.enqueueOneByOne)} jobs/s`],
    [
      '  plain single-row INSERT, same connection kind',
      `${fmt(results.plainInsert)} rows/s (jobwire ${fmt((100 * results.enqueueOneByOne) / results.plainInsert)} %)`,
    ],
    ['enqueue bulk (×1,000)', `${fmt(results.enqueueBulk)} jobs/s`],
  ];
  if (args.only === 'insert') {
    rows.push(
      ['enqueue one-by-one, unique key', `${fmt(results.enqueueUniqueKey)} jobs/s`],
      ['enqueue one-by-one, throttle key', `${fmt(results.enqueueThrottle)} jobs/s`],
    );
  } else {
    rows.push(
      [`processing, concurrency ${CONCURRENCY}`, `${fmt(results.processing)} jobs/s`],
      ['enqueue→start p50', `${fmt(results.latencyP50, 3)} ms`],
      ['enqueue→start p99', `${fmt(results.latencyP99, 3)} ms`],
      ['longest event-loop stall (processing)', `${fmt(results.longestStallMs, 1)} ms`],
      ['event-loop delay p99 (processing, median of rounds)', `${fmt(results.eventLoopDelayP99, 1)} ms`],
      ['longest synchronous driver call (processing)', `${fmt(results.longestDriverCallMs, 1)} ms`],
    );
  }
  if (results.log_on && results.log_off) {
    const on = results.log_on;
    const off = results.log_off;
    rows.push(
      [
        'event log off: processing',
        `${fmt(off.processing)} jobs/s (log on: ${fmt((100 * on.processing) / off.processing)} % of off)`,
      ],
      [
        'log on / off within a round (median, range)',
        `${fmt(100 * results.logRatioMedian)} % (${fmt(100 * Math.min(...results.logRatioPerRound))}–${fmt(100 * Math.max(...results.logRatioPerRound))} %, ${ROUNDS} rounds)`,
      ],
      ['event log off: enqueue→start p50 / p99', `${fmt(off.latencyP50, 3)} / ${fmt(off.latencyP99, 3)} ms`],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(
    `\njobwire benchmark — ${results.driver}, Node ${process.version}; rows above the last three: event log ${LOG_MODES[0]}\n`,
  );
  console.log(`| ${'measure'.padEnd(width)} | result |`);
  console.log(`| ${'-'.repeat(width)} | ---: |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
}
