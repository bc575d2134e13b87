#!/usr/bin/env node
// Where an enqueue→start goes: `npm run build && node bench/latency-parts.mjs [--db postgres://…]
// [--jobs 1000] [--gap-ms 3] [--log off] [--dist path/to/dist]`.
//
// One pool (concurrency 10) waits idle; every --gap-ms one job is enqueued and the time until its
// handler starts is split at the driver calls it makes: the client's own work before the insert,
// the insert (`jobInsertMany`), the wait before the claim, the claim (`jobClaim`) and the
// dispatch to the handler. The driver's methods are wrapped, so the split is what a caller of
// the driver sees (a promise's settling included). The slowest starts are listed with their
// parts and any garbage collection during them. The first 200 jobs warm up and are not counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    jobs: { type: 'string', default: '1000' },
    'gap-ms': { type: 'string', default: '3' },
    log: { type: 'string', default: 'on' },
  },
});
const WARM_UP = 200;
const dist = pathToFileURL(`${resolve(args.dist)}/`);
const { createJobwire, defineTask } = await import(new URL('index.js', dist).href);
const onPostgres = args.db !== undefined && /^postgres(ql)?:/.test(args.db);
const schema = `jobwire_latency_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'jobwire-latency-'));
const driver = onPostgres
  ? (await import(new URL('drivers/postgres/index.js', dist).href)).postgresDriver({
      connectionString: args.db,
      schema,
    })
  : (await import(new URL('drivers/sqlite/index.js', dist).href)).sqliteDriver({
      path: join(dir, 'bench.db'),
    });

/** [start, end] of each call of the wrapped methods since the last reset. */
const calls = { jobInsertMany: [], jobClaim: [] };
for (const name of Object.keys(calls)) {
  const method = driver[name].bind(driver);
  driver[name] = (params) => {
    const start = performance.now();
    return method(params).then((result) => {
      calls[name].push([start, performance.now()]);
      return result;
    });
  };
}
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
}).observe({ entryTypes: ['gc'] });

let started;
const task = defineTask({ name: 'noop', handler: async () => started(performance.now()) });
const client = await createJobwire({
  driver,
  tasks: [task],
  ...(args.log === 'off' ? { events: { log: false } } : {}),
});
const pool = client.createPool({ concurrency: 10, handleSignals: false });
await pool.start();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
const total = WARM_UP + Number(args.jobs);
for (let i = 0; i < total; i++) {
  await sleep(Number(args['gap-ms']));
  calls.jobInsertMany = [];
  calls.jobClaim = [];
  const startedAt = new Promise((r) => (started = r));
  const t0 = performance.now();
  await client.enqueue(task, { i });
  const t1 = await startedAt;
  if (i < WARM_UP) continue;
  const [insert] = calls.jobInsertMany;
  // The claim that started it: the last one to begin before the handler did.
  // None when the insert itself started the job for the idle pool (a direct start).
  const claim = calls.jobClaim.filter(([s]) => s < t1).at(-1);
  const [claimStart, claimEnd] = claim ?? [insert[1], insert[1]];
  rows.push({
    total: t1 - t0,
    direct: claim === undefined,
    parts: [
      insert[0] - t0,
      insert[1] - insert[0],
      claimStart - insert[1],
      claimEnd - claimStart,
      t1 - claimEnd,
    ],
    gc: gcs.filter(([s, e]) => e > t0 && s < t1).reduce((sum, [s, e]) => sum + e - s, 0),
  });
}
await pool.stop();
await client.close();
if (onPostgres) {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: args.db });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
rmSync(dir, { recursive: true, force: true });

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))].toFixed(3);
const totals = rows.map((r) => r.total);
console.log(
  `${onPostgres ? 'PostgreSQL' : 'SQLite'}, log ${args.log}, ${rows.length} jobs, one every ${args['gap-ms']} ms`,
);
console.log(`enqueue→start ms: p50 ${pct(totals, 0.5)}, p90 ${pct(totals, 0.9)}, p99 ${pct(totals, 0.99)}`);
console.log(
  `started by the insert itself (no claim): ${rows.filter((r) => r.direct).length} of ${rows.length}`,
);
console.log('| part | p50 ms | p90 ms |\n| --- | ---: | ---: |');
['before the insert', 'insert', 'insert → claim', 'claim', 'claim → handler'].forEach((name, k) => {
  const xs = rows.map((r) => r.parts[k]);
  console.log(`| ${name} | ${pct(xs, 0.5)} | ${pct(xs, 0.9)} |`);
});
console.log('\nslowest starts (ms): total = parts as above; gc');
for (const r of [...rows].sort((a, b) => b.total - a.total).slice(0, 8)) {
  console.log(
    `${r.total.toFixed(3)} = ${r.parts.map((x) => x.toFixed(3)).join(' + ')}; gc ${r.gc.toFixed(2)}`,
  );
}
