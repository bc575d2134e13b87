/**
 * Real OS processes, on every driver that allows several: a poison job whose handler kills its
 * process (`process.exit(1)`) runs beside innocent jobs that each have a single attempt. The
 * crashes are interruptions, not failures, so every innocent job caught in one runs again and
 * completes; the poison job is abandoned (reason `lease-expired`) after `maxInterruptions`
 * crashes instead of taking worker processes down forever.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clientInternals } from '../../src/core/internals.js';
import { createJobwire, defineTask, type JobwireEvents } from '../../src/index.js';
import type { TestDatabaseFactory } from '../support/database.js';
import { until } from '../support/harness.js';
import { killWorkers, readExecutions, startWorker, type WorkerProcess } from '../support/processes.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/crash-worker.ts', import.meta.url));
const mixed = defineTask<{ poison: boolean }>({ name: 'mixed', handler: async () => {} });

export function runCrashingNeighbourSuite(factory: TestDatabaseFactory, options: { processes: number }) {
  describe(`a job that kills its process (${factory.name})`, () => {
    it('innocent jobs beside it complete; it is abandoned after maxInterruptions crashes', async (t) => {
      const db = await factory.create();
      const dir = mkdtempSync(join(tmpdir(), 'jobwire-crash-'));
      const maxInterruptions = 3;
      // The parent is the rescuer: elected before any worker starts and never killed, so the
      // rescue outcomes (and their events) are seen here.
      const client = await createJobwire({
        driver: await db.open(),
        tasks: [mixed],
        maxInterruptions,
        maintenance: { rescueIntervalMs: 100, leaderTtlMs: 5000 },
      });
      const workers: WorkerProcess[] = [];
      t.after(async () => {
        await killWorkers(workers);
        await client.close();
        await db.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });
      const rescued: JobwireEvents['job:rescued'][] = [];
      const abandoned: JobwireEvents['job:abandoned'][] = [];
      client.events.on('job:rescued', (e) => rescued.push(e));
      client.events.on('job:abandoned', (e) => abandoned.push(e));
      await clientInternals(client).leader.runOnce();
      assert.ok(clientInternals(client).leader.isLeader, 'the parent leads maintenance');
      clientInternals(client).leader.start();

      const innocents = await client.enqueueMany(
        Array.from({ length: 300 }, () => ({
          task: mixed,
          payload: { poison: false },
          options: { maxAttempts: 1 },
        })),
      );
      // Higher priority: the poison starts at once, beside innocent jobs, and again after each rescue.
      const poison = await client.enqueue(mixed, { poison: true }, { maxAttempts: 1, priority: 1 });

      const env = { LEASE_MS: '1000', CONCURRENCY: '10', INNOCENT_MS: '150', POISON_MS: '400' };
      const spawn = (n: number) => {
        const worker = startWorker(db.location, join(dir, `exec-${n}.log`), env, FIXTURE);
        workers.push(worker);
        return worker;
      };
      const slots = Array.from({ length: options.processes }, (_, i) => spawn(i));
      let crashes = 0;
      const finished = async () => {
        // Restart every worker that died, like a process supervisor would.
        for (const [i, worker] of slots.entries()) {
          if (worker.child.exitCode === null && worker.child.signalCode === null) continue;
          assert.equal(worker.child.exitCode, 1, `only the poison kills a worker:\n${worker.output()}`);
          crashes++;
          slots[i] = spawn(workers.length);
        }
        const counts = await client.countJobs();
        return counts.scheduled + counts.pending + counts.running === 0;
      };
      await until(finished, 120_000, 'every job to finish');
      const counts = await client.countJobs();
      assert.deepEqual(
        [counts.completed, counts.abandoned],
        [innocents.length, 1],
        'every innocent job completed; only the poison job was abandoned',
      );

      const poisonRecord = await client.getJob(poison.id);
      assert.equal(poisonRecord!.state, 'abandoned');
      assert.equal(poisonRecord!.interruptions, maxInterruptions);
      assert.deepEqual(
        poisonRecord!.errors.map((e) => [e.name, e.interrupted]),
        Array.from({ length: maxInterruptions }, () => ['LeaseExpiredError', true]),
      );
      assert.deepEqual(
        abandoned.map((e) => [e.jobId, e.reason]),
        [[poison.id, 'lease-expired']],
      );
      const logs = workers.map((_, n) => join(dir, `exec-${n}.log`));
      const poisonRuns = readExecutions(...logs).filter((e) => e.jobId === poison.id);
      assert.equal(poisonRuns.length, maxInterruptions, 'the poison ran once per crash');
      assert.ok(
        poisonRuns.every((e) => e.attempt === 1),
        'a crash does not use up an attempt',
      );
      assert.ok(crashes >= maxInterruptions - 1, `${crashes} crashes seen`);

      // Innocent jobs caught in a crash ran again, as attempt 1, and completed.
      const interruptedInnocents = new Set(rescued.filter((e) => e.jobId !== poison.id).map((e) => e.jobId));
      assert.ok(interruptedInnocents.size > 0, 'some innocent jobs were running when the poison struck');
      for (const job of innocents) {
        const stored = await client.getJob(job.id);
        assert.equal(stored!.state, 'completed', `innocent job ${job.id}`);
        assert.equal(stored!.attempt, 1);
        assert.equal(stored!.interruptions > 0, interruptedInnocents.has(job.id));
      }
      t.diagnostic(
        `${crashes} crashes, ${interruptedInnocents.size} innocent jobs interrupted and completed anyway`,
      );
    });
  });
}
