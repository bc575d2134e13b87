/**
 * How many jobs a pool holds claimed while its outcome writes are behind, on both drivers. The
 * first outcome write is held back (the real driver underneath, its reply delayed until the test
 * lets it go); meanwhile the pool runs what it claimed and should stop claiming once one more
 * finalize batch's worth of outcomes waits. Every job it holds beyond that is a lease other
 * processes cannot run and, on PostgreSQL, one more running row in every fenced write's way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_FINALIZE_BATCH } from '../src/core/pool/finalizer.js';
import type { Driver } from '../src/driver/driver.js';
import { createJobwire, defineTask } from '../src/index.js';
import type { TestDatabaseFactory } from './support/database.js';
import { testPool } from './support/harness.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';

const JOBS = 4000;
const CONCURRENCY = 10;
const PREFETCH = 100;

for (const factory of [sqliteDatabases, postgresDatabases] as TestDatabaseFactory[]) {
  describe(`pool claims while its finalizer is behind (${factory.name})`, () => {
    it('holds at most one finalize batch of unwritten outcomes plus what it runs and buffers', async (t) => {
      const db = await factory.create();
      const real = await db.open();
      let claimed = 0;
      let written = 0;
      let maxHeld = 0;
      let firstBatch = 0;
      let releaseGate!: () => void;
      const gate = new Promise<void>((resolve) => {
        releaseGate = resolve;
      });
      let gated = false;
      // The gate opens once the pool has stopped claiming by itself — every slot idle, no claim
      // in flight and none started for 100 ms (an unthrottled pool claims again within a turn
      // of the event loop) — or once it holds clearly more than the bound below.
      // Jobs running now (the pool, once created). Not worker:idle: a slot held back because
      // storage is behind has work to take, so it does not report itself idle.
      let running = () => 0;
      const bound = MAX_FINALIZE_BATCH + CONCURRENCY + PREFETCH;
      let claimsStarted = 0;
      let claimsInFlight = 0;
      const check = () => {
        if (!gated) return;
        const held = claimed - written;
        if (held > 2 * bound) releaseGate();
        if (running() > 0 || claimsInFlight > 0 || held < MAX_FINALIZE_BATCH) return;
        const seen = claimsStarted;
        setTimeout(() => {
          if (claimsStarted === seen && running() === 0) releaseGate();
        }, 100);
      };
      const driver = new Proxy(real, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'jobClaim') {
            return async (params: Parameters<Driver['jobClaim']>[0]) => {
              claimsStarted++;
              claimsInFlight++;
              const jobs = await target.jobClaim(params).finally(() => claimsInFlight--);
              claimed += jobs.length;
              maxHeld = Math.max(maxHeld, claimed - written);
              check();
              return jobs;
            };
          }
          if (prop === 'jobFinalizeMany') {
            return async (params: Parameters<Driver['jobFinalizeMany']>[0]) => {
              const results = await target.jobFinalizeMany(params);
              if (!gated) {
                gated = true;
                firstBatch = params.items.length;
                await gate;
              }
              written += params.items.length;
              return results;
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const noop = defineTask({ name: 'noop', handler: async () => {} });
      const client = await createJobwire({ driver, tasks: [noop] });
      t.after(async () => {
        releaseGate();
        await client.close();
        await db.cleanup();
      });
      for (let i = 0; i < JOBS; i += 1000) {
        await client.enqueueMany(Array.from({ length: 1000 }, () => ({ task: noop, payload: {} })));
      }
      const pool = client.createPool({ ...testPool, concurrency: CONCURRENCY, prefetch: PREFETCH });
      running = () => pool.runningCount;
      // Look again as attempts end (job events wait for the gated write, so check on a timer).
      const ticker = setInterval(check, 20);
      t.after(() => clearInterval(ticker));
      await pool.start();
      await gate;
      clearInterval(ticker);
      await pool.stop();
      assert.ok(
        maxHeld <= firstBatch + bound,
        `held ${maxHeld} claimed jobs without a written outcome (first batch ${firstBatch}, bound ${firstBatch + bound})`,
      );
    });
  });
}
