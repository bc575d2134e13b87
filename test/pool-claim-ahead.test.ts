/**
 * A pool of sub-millisecond jobs claims its next batch while the last one still runs, where claims
 * run beside the jobs (PostgreSQL: a claim of 500 takes about as long as the slots take to run
 * them, and the slots idled through every claim). Where a claim runs on the pool's own thread
 * (SQLite) it would stop the slots anyway: there the pool claims when its buffer runs out. Both
 * drivers, each with the behaviour its `blocksEventLoop` capability calls for (prefetch.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TINY_JOB_BATCH } from '../src/core/pool/prefetch.js';
import { createJobwire, defineTask } from '../src/index.js';
import type { TestDatabaseFactory } from './support/database.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';

const CONCURRENCY = 10;

/** Drains `total` no-op jobs with one pool; per claim, the jobs it held unstarted and the limit. */
async function drain(factory: TestDatabaseFactory, total: number) {
  const database = await factory.create();
  const driver = await database.open();
  let started = 0;
  let claimedSoFar = 0;
  const claims: { unstarted: number; limit: number }[] = [];
  const claim = driver.jobClaim.bind(driver);
  driver.jobClaim = async (params) => {
    claims.push({ unstarted: claimedSoFar - started, limit: params.limit });
    const jobs = await claim(params);
    claimedSoFar += jobs.length;
    return jobs;
  };
  let drained!: () => void;
  const done = new Promise<void>((resolve) => {
    drained = resolve;
  });
  const task = defineTask({
    name: 'noop',
    handler: async () => {
      if (++started === total) drained();
    },
  });
  const client = await createJobwire({ driver, tasks: [task] });
  try {
    for (let i = 0; i < total; i += 1000) {
      await client.enqueueMany(Array.from({ length: 1000 }, (_, k) => ({ task, payload: { i: i + k } })));
    }
    const pool = client.createPool({ concurrency: CONCURRENCY, handleSignals: false });
    await pool.start();
    await done;
    await pool.stop();
    return { claims, blocks: driver.capabilities.blocksEventLoop };
  } finally {
    await client.close();
    await database.cleanup();
  }
}

for (const factory of [sqliteDatabases, postgresDatabases]) {
  describe(`claiming ahead (${factory.name})`, () => {
    it('no-op jobs are claimed a batch at a time, ahead of the slots where claims run beside them', {
      timeout: 120_000,
    }, async () => {
      const { claims, blocks } = await drain(factory, 8 * TINY_JOB_BATCH);
      const shown = JSON.stringify(claims);
      // Once the pool knows its jobs are tiny it claims whole batches.
      const batches = claims.filter((c) => c.limit === TINY_JOB_BATCH);
      assert.ok(batches.length >= 3, `claims: ${shown}`);
      assert.ok(
        claims.every((c) => c.limit <= TINY_JOB_BATCH),
        `a claim is at most one batch: ${shown}`,
      );
      if (blocks) {
        // The claim stops the slots: it goes out when they have nothing left to take.
        assert.ok(
          claims.every((c) => c.unstarted <= CONCURRENCY),
          `a claim went out ahead: ${shown}`,
        );
      } else {
        // The next batch is asked for while most of one is still to run (before this change:
        // only once every claimed job had started).
        assert.ok(
          batches.some((c) => c.unstarted >= TINY_JOB_BATCH / 2),
          `no claim went out ahead: ${shown}`,
        );
      }
    });
  });
}
