#!/usr/bin/env node
// Claim statements alone, two builds alternating on one PostgreSQL table:
// `node bench/claim-loop.mjs --db postgres://… --dist a/dist --dist b/dist [--claims 80] [--unkeyed]`.
//
// Fills a schema with enough jobs (keyed: 100 concurrency keys under `tenant:*` concurrency 1000,
// a rule that never binds, as bench/flow.mjs), ANALYZEs it, then claims 500 at a time at the
// driver level — builds alternating ABBA, each through its own driver (the flow-claim function's
// name carries a hash of its body, so two builds' functions live side by side) — and finalizes
// the oldest claims as a pool would, keeping about 1,000 jobs running. Prints the median claim
// and finalize time per build. No pool, no handlers: what a change to the claim itself is worth,
// without the drain's noise (bench/results/2026-12-02-s27-keyed-claim.md).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    dist: { type: 'string', multiple: true },
    claims: { type: 'string', default: '80' },
    unkeyed: { type: 'boolean', default: false },
  },
});
const dists = args.dist ?? [
  new URL('../dist', import.meta.url).pathname,
  new URL('../dist', import.meta.url).pathname,
];
if (dists.length !== 2) throw new Error('give two --dist builds (or none: this build against itself)');
const CLAIMS = Number(args.claims);
const KEYED = !args.unkeyed;
const BATCH = 500;
const schema = `jobwire_claimloop_${process.pid}`;

async function load(dist) {
  const base = pathToFileURL(`${resolve(dist)}/`);
  const jobwire = await import(new URL('index.js', base).href);
  const { postgresDriver } = await import(new URL('drivers/postgres/index.js', base).href);
  return { jobwire, driver: postgresDriver({ connectionString: args.db, schema }) };
}

const builds = [await load(dists[0]), await load(dists[1])];
const { createJobwire, defineTask } = builds[0].jobwire;
const task = defineTask({ name: 'noop', handler: async () => {} });
const flow = KEYED ? [{ queue: 'default', key: 'tenant:*', concurrency: 1000 }] : undefined;
const client = await createJobwire({ driver: builds[0].driver, tasks: [task], ...(flow ? { flow } : {}) });
await builds[1].driver.migrate();
const sql = new pg.Client({ connectionString: args.db });
await sql.connect();
try {
  const total = CLAIMS * BATCH + 1000;
  for (let start = 0; start < total; start += 1000) {
    await client.enqueueMany(
      Array.from({ length: 1000 }, (_, k) => ({
        task,
        payload: { i: start + k },
        ...(KEYED ? { options: { concurrencyKey: `tenant:${(start + k) % 100}` } } : {}),
      })),
    );
  }
  await sql.query(`ANALYZE "${schema}".jobs; ANALYZE "${schema}".events; ANALYZE "${schema}".flow_keys`);
  const claimMs = [[], []];
  const finalizeMs = [[], []];
  let running = [];
  for (let i = 0; i < CLAIMS; i++) {
    const which = i % 4 === 0 || i % 4 === 3 ? 0 : 1;
    const { driver } = builds[which];
    const t0 = performance.now();
    const jobs = await driver.jobClaim({
      queues: ['default'],
      limit: BATCH,
      leaseMs: 60_000,
      poolId: 'claim-loop',
      log: true,
    });
    // The first claims of each connection plan the statements: left out.
    if (i >= 4) claimMs[which].push(performance.now() - t0);
    running.push(...jobs);
    if (running.length > 1000) {
      const done = running.slice(0, running.length - 1000);
      running = running.slice(running.length - 1000);
      const t1 = performance.now();
      await driver.jobFinalizeMany({
        items: done.map((j) => ({
          id: j.id,
          leaseToken: j.leaseToken,
          outcome: 'completed',
          resultJson: null,
        })),
      });
      if (i >= 4) finalizeMs[which].push(performance.now() - t1);
    }
    process.stderr.write(`\r${i + 1}/${CLAIMS} claims`);
  }
  process.stderr.write('\n');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| build | median claim of ${BATCH} (ms) | median finalize (ms) | claims |`);
  console.log('| --- | ---: | ---: | ---: |');
  dists.forEach((dist, b) => {
    console.log(
      `| ${dist} | ${median(claimMs[b]).toFixed(2)} | ${median(finalizeMs[b]).toFixed(2)} | ${claimMs[b].length} |`,
    );
  });
} finally {
  await client.close();
  await builds[1].driver.close();
  await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await sql.end();
}
