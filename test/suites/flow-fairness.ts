/**
 * Fairness (docs/flow-control.md): 100,000 waiting jobs of tenant A and 10 of tenant B, limit 1
 * per key. Claims serve keys least recently started first, and A's backlog waits in its own index
 * (never scanned), so B is served as soon as its previous job ends, whatever A's backlog.
 *
 * The bound: a key that is ready (a due job, a free slot) is never passed over for one that
 * started more recently, so each of B's jobs starts in the first claim after its predecessor
 * ends. With limit 1 per key, A then starts at most ⌈B's job time / A's job time⌉ + 1 jobs per job
 * of B — here about one (equal job times). The test allows three per job of B for timer jitter on
 * a loaded machine: B's ten jobs finish after at most 33 starts of A, not after A's 100,000.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJobwire, defineTask } from '../../src/index.js';
import type { TestDatabaseFactory } from '../support/database.js';
import { until } from '../support/harness.js';

const BIG = 100_000;
const SMALL = 10;

export function runFlowFairnessSuite(factory: TestDatabaseFactory) {
  describe(`flow fairness (${factory.name})`, () => {
    it(`${SMALL} jobs of one tenant finish while another has ${BIG} waiting (limit 1 per key)`, async (t) => {
      const db = await factory.create();
      // Measured in the handler, not from events: a job's completion event follows its write,
      // which another connection's claim of the key's next job can overtake on a loaded machine,
      // so counting by events once saw three "running" jobs of two tenants at limit 1 each.
      const runningNow = new Map<string, number>();
      let mostRunning = 0;
      const task = defineTask<{ tenant: string }>({
        name: 'tenant-work',
        handler: async ({ tenant }) => {
          const now = (runningNow.get(tenant) ?? 0) + 1;
          runningNow.set(tenant, now);
          mostRunning = Math.max(mostRunning, now);
          try {
            await new Promise((resolve) => setTimeout(resolve, 5));
          } finally {
            runningNow.set(tenant, runningNow.get(tenant)! - 1);
          }
        },
      });
      const client = await createJobwire({
        driver: await db.open(),
        tasks: [task],
        flow: [{ queue: 'default', key: 'tenant:*', concurrency: 1 }],
      });
      t.after(async () => {
        await client.close();
        await db.cleanup();
      });
      for (let start = 0; start < BIG; start += 10_000) {
        await client.enqueueMany(
          Array.from({ length: 10_000 }, () => ({
            task,
            payload: { tenant: 'A' },
            options: { concurrencyKey: 'tenant:A' },
          })),
        );
      }
      const small = await client.enqueueMany(
        Array.from({ length: SMALL }, () => ({
          task,
          payload: { tenant: 'B' },
          options: { concurrencyKey: 'tenant:B' },
        })),
      );
      const smallIds = new Set(small.map((j) => j.id));
      const starts: string[] = [];
      let smallDone = 0;
      client.events.on('job:started', (e) => {
        starts.push(smallIds.has(e.jobId) ? 'B' : 'A');
      });
      client.events.on('job:completed', (e) => {
        if (smallIds.has(e.jobId)) smallDone++;
      });
      const began = Date.now();
      const pool = client.createPool({ concurrency: 8, pollIntervalMs: 20, handleSignals: false });
      await pool.start();
      await until(() => smallDone === SMALL, 60_000, 'every job of tenant B completed');
      const tookMs = Date.now() - began;
      const aStarts = starts.slice(0, starts.lastIndexOf('B') + 1).filter((k) => k === 'A').length;
      await pool.stop();
      t.diagnostic(
        `tenant B done after ${aStarts} starts of tenant A, in ${tookMs} ms; most running of one tenant ${mostRunning}`,
      );
      assert.ok(
        aStarts <= 3 * SMALL + 3,
        `A started ${aStarts} jobs before B's last (bound ${3 * SMALL + 3})`,
      );
      assert.equal(mostRunning, 1, 'one job per tenant at a time');
    });
  });
}
