#!/usr/bin/env node
// The driver's finalize cost for jobs WITHOUT dependents, side by side for several builds:
// `node bench/finalize.mjs --dist /path/a/dist --dist /path/b/dist [--db postgres://…] [--rounds 15]`.
//
// Each round and each build: a fresh database with 2,000 pending jobs, claimed in batches of
// 500, then the claimed jobs completed with `jobFinalizeMany` (the call a pool's finalizer
// makes) — only that call is timed. Builds alternate within every round, so drift on a shared
// machine hits them alike; the table gives each build's median and quartiles of µs per job.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    dist: { type: 'string', multiple: true },
    db: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    jobs: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '500' },
  },
});
const dists = args.dist ?? [new URL('../dist', import.meta.url).pathname];
const ROUNDS = Number(args.rounds);
const JOBS = Number(args.jobs);
const BATCH = Number(args.batch);
const postgres = args.db && /^postgres(ql)?:/.test(args.db);

async function openDriver(dist, label) {
  if (postgres) {
    const { postgresDriver } = await import(join(dist, 'drivers/postgres/index.js'));
    const schema = `jobwire_finbench_${label}_${process.pid}`;
    const driver = postgresDriver({ connectionString: args.db, schema });
    return {
      driver,
      async cleanup() {
        await driver.close();
        const pg = (await import('pg')).default;
        const client = new pg.Client({ connectionString: args.db });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    };
  }
  const { sqliteDriver } = await import(join(dist, 'drivers/sqlite/index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-finbench-'));
  const driver = sqliteDriver({ path: join(dir, 'bench.db') });
  return {
    driver,
    async cleanup() {
      await driver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const job = (i) => ({
  task: 'bench',
  queue: 'default',
  payloadJson: `{"i":${i}}`,
  priority: 0,
  maxAttempts: 3,
  delayMs: 0,
  runAt: null,
  uniqueKey: null,
  correlationId: `c${i}`,
  metadataJson: '{}',
  timeoutMs: null,
  backoff: null,
});

/** µs per job of completing JOBS claimed jobs, BATCH per call. */
async function once(dist, label) {
  const { driver, cleanup } = await openDriver(dist, label);
  try {
    await driver.migrate();
    for (let i = 0; i < JOBS; i += 1000) {
      await driver.jobInsertMany({
        jobs: Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => job(i + k)),
      });
    }
    let total = 0;
    for (;;) {
      const claimed = await driver.jobClaim({
        queues: ['default'],
        limit: BATCH,
        leaseMs: 60_000,
        poolId: 'bench',
      });
      if (claimed.length === 0) break;
      const items = claimed.map((c) => ({
        id: c.id,
        leaseToken: c.leaseToken,
        outcome: 'completed',
        resultJson: null,
      }));
      const started = process.hrtime.bigint();
      const results = await driver.jobFinalizeMany({ items });
      total += Number(process.hrtime.bigint() - started) / 1000;
      if (results.some((r) => !r.applied)) throw new Error('a completion was not applied');
    }
    return total / JOBS;
  } finally {
    await cleanup();
  }
}

const samples = dists.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, dist] of dists.entries()) samples[i].push(await once(dist, `${i}`));
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
}
const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
console.log(
  `finalize (completed, no dependents), ${postgres ? 'postgres' : 'sqlite'}, µs per job, ${ROUNDS} rounds of ${JOBS}`,
);
for (const [i, dist] of dists.entries()) {
  const s = [...samples[i]].sort((a, b) => a - b);
  console.log(
    `${dist}: median ${q(s, 0.5).toFixed(1)}  p25 ${q(s, 0.25).toFixed(1)}  p75 ${q(s, 0.75).toFixed(1)}`,
  );
}
