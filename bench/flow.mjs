#!/usr/bin/env node
// Flow control's cost on processing: `npm run build && node bench/flow.mjs [--db postgres://…]
// [--jobs N] [--rounds R] [--dist path/to/dist] [--scenarios unkeyed,keyed]`.
//
// Drains a backlog of N no-op jobs with one pool (concurrency 10, event log on), per scenario:
//   unkeyed — no key, no rules (the hot path flow control must not slow down);
//   keyed   — every job has a concurrencyKey (100 keys) under a rule that never binds
//             (`tenant:*` concurrency 1000), so every claim takes the flow path;
//   bound   — every job has one of 5 keys under `tenant:*` concurrency 1, fewer keys than
//             workers: every claim passes over keys at their limit, and with flow:held /
//             flow:unheld every start ends a hold and the next claim begins one (the most
//             hold events per job there can be).
// Scenarios alternate within each round, so drift on a shared machine hits them alike; the
// keyed / unkeyed figure is the median of the rounds' own ratios. `--dist`
// runs another build (e.g. the commit before flow control) for a before/after of `unkeyed`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    jobs: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: 'unkeyed,keyed' },
  },
});
const dist = pathToFileURL(`${resolve(args.dist)}/`);
const { createJobwire, defineTask } = await import(new URL('index.js', dist).href);
const N = Number(args.jobs);
const CONCURRENCY = Number(args.concurrency);
const KEYS = 100;
const BOUND_KEYS = 5;
const progress = (message) => process.stderr.write(`${message}\n`);

async function freshDriver(label) {
  if (args.db && /^postgres(ql)?:/.test(args.db)) {
    const { postgresDriver } = await import(new URL('drivers/postgres/index.js', dist).href);
    const schema = `jobwire_flowbench_${label}_${process.pid}`;
    const driver = postgresDriver({ connectionString: args.db, schema });
    return { driver, schema, cleanup: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
  }
  const { sqliteDriver } = await import(new URL('drivers/sqlite/index.js', dist).href);
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-flowbench-'));
  const driver = sqliteDriver({ path: join(dir, 'bench.db') });
  return { driver, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function sql(text) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: args.db });
  await client.connect();
  await client.query(text);
  await client.end();
}

async function processing(scenario, round) {
  let done = 0;
  let drained;
  const all = new Promise((r) => (drained = r));
  const task = defineTask({
    name: 'noop',
    handler: async () => {
      if (++done === N) drained();
    },
  });
  const { driver, schema, cleanup } = await freshDriver(`${scenario}${round}`);
  const flow =
    scenario === 'unkeyed'
      ? undefined
      : [{ queue: 'default', key: 'tenant:*', concurrency: scenario === 'bound' ? 1 : 1000 }];
  const keys = scenario === 'bound' ? BOUND_KEYS : KEYS;
  const client = await createJobwire({ driver, tasks: [task], ...(flow ? { flow } : {}) });
  try {
    for (let start = 0; start < N; start += 1000) {
      await client.enqueueMany(
        Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({
          task,
          payload: { i: start + k },
          ...(flow ? { options: { concurrencyKey: `tenant:${(start + k) % keys}` } } : {}),
        })),
      );
    }
    if (schema)
      await sql(
        `ANALYZE "${schema}".jobs; ANALYZE "${schema}".events; ANALYZE "${schema}".flow_keys; ANALYZE "${schema}".flow_rules`,
      );
    // `bound` claims come up short by design (every key is at its limit), so the pool would wait
    // a poll interval (1 s) between them: poll every 1 ms to measure the claims, not the wait.
    const pool = client.createPool({
      concurrency: CONCURRENCY,
      handleSignals: false,
      ...(scenario === 'bound' ? { pollIntervalMs: 1 } : {}),
    });
    const t0 = performance.now();
    await pool.start();
    await all;
    await pool.whenIdle();
    const rate = N / ((performance.now() - t0) / 1000);
    await pool.stop();
    return rate;
  } finally {
    await client.close();
    await cleanup();
  }
}

const scenarios = args.scenarios.split(',');
const rates = Object.fromEntries(scenarios.map((s) => [s, []]));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const scenario of round % 2 === 0 ? scenarios : [...scenarios].reverse()) {
    const rate = await processing(scenario, round);
    rates[scenario].push(rate);
    progress(`round ${round + 1}: ${scenario} ${Math.round(rate)} jobs/s`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| scenario | jobs/s per round | median |`);
console.log(`|---|---|---|`);
for (const s of scenarios) {
  console.log(
    `| ${s} | ${rates[s].map((r) => Math.round(r)).join(', ')} | ${Math.round(median(rates[s]))} |`,
  );
}
if (rates.unkeyed && rates.keyed) {
  // Each round's two drains ran back to back, so their ratio is spared most of the machine's
  // drift (speed here changes by ±20 % within minutes); the median of those ratios is the figure
  // to quote, the ratio of the two medians is printed beside it.
  const paired = rates.keyed.map((k, i) => k / rates.unkeyed[i]);
  console.log(
    `\nkeyed / unkeyed per round: ${paired.map((r) => `${(100 * r).toFixed(0)} %`).join(', ')}` +
      `\nkeyed / unkeyed: median of the rounds' ratios ${(100 * median(paired)).toFixed(0)} %, ` +
      `ratio of the medians ${((100 * median(rates.keyed)) / median(rates.unkeyed)).toFixed(0)} %`,
  );
}
