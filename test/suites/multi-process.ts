/**
 * Real OS processes sharing one database, on every driver that allows several processes:
 * every job runs exactly once (checked against a per-execution record, not a counter), and
 * SIGTERM shuts a worker down gracefully.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createJobwire, defineTask } from '../../src/index.js';
import type { TestDatabaseFactory } from '../support/database.js';
import { until } from '../support/harness.js';
import { killWorkers, readExecutions, startWorker } from '../support/processes.js';

const work = defineTask<{ i: number }>({ name: 'work', handler: async () => {} });

export function runMultiProcessSuite(
  factory: TestDatabaseFactory,
  options: { processes: number; jobs: number },
) {
  describe(`several OS processes on one database (${factory.name})`, () => {
    it(`${options.processes} processes drain ${options.jobs} jobs, each run exactly once`, async (t) => {
      const db = await factory.create();
      const dir = mkdtempSync(join(tmpdir(), 'jobwire-mp-'));
      const client = await createJobwire({ driver: await db.open(), tasks: [work] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });
      for (let start = 0; start < options.jobs; start += 1000) {
        const count = Math.min(1000, options.jobs - start);
        await client.enqueueMany(
          Array.from({ length: count }, (_, k) => ({ task: work, payload: { i: start + k } })),
        );
      }
      const logs = Array.from({ length: options.processes }, (_, i) => join(dir, `exec-${i}.log`));
      const workers = logs.map((log) => startWorker(db.location, log));
      t.after(() => killWorkers(workers));
      await Promise.all(workers.map((w) => w.ready));
      await until(
        async () => (await client.countJobs()).completed === options.jobs,
        120_000,
        'every job completed',
      );
      for (const w of workers) w.child.kill('SIGTERM');
      const exits = await Promise.all(workers.map((w) => w.exited));
      for (const [i, exit] of exits.entries()) {
        assert.ok(
          exit.signal === 'SIGTERM' || exit.code === 0,
          `worker ${i} exit ${JSON.stringify(exit)}\n${workers[i]!.output()}`,
        );
        assert.match(workers[i]!.output(), /stopped/);
      }

      const executions = readExecutions(...logs);
      const perJob = new Map<string, number>();
      for (const e of executions) perJob.set(e.jobId, (perJob.get(e.jobId) ?? 0) + 1);
      const duplicates = [...perJob.entries()].filter(([, n]) => n > 1);
      assert.equal(perJob.size, options.jobs, 'every job ran');
      assert.deepEqual(duplicates, [], 'no job ran twice');
      assert.equal(executions.length, options.jobs);
      const perProcess = new Map<number, number>();
      for (const e of executions) perProcess.set(e.pid, (perProcess.get(e.pid) ?? 0) + 1);
      // The claims contended: every process took part (the job count only has to make sure of that).
      t.diagnostic(`jobs run per process: ${[...perProcess.values()].join(', ')}`);
      assert.equal(perProcess.size, options.processes, 'every process took part');
      const counts = await client.countJobs();
      assert.equal(counts.completed, options.jobs);
      assert.equal(counts.running + counts.pending + counts.scheduled, 0);
    });

    it('SIGTERM lets running jobs finish; a second signal exits at once', async (t) => {
      const db = await factory.create();
      const dir = mkdtempSync(join(tmpdir(), 'jobwire-sig-'));
      const client = await createJobwire({ driver: await db.open(), tasks: [work] });
      t.after(async () => {
        await client.close();
        await db.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });
      // Graceful: four 300 ms jobs are running when SIGTERM arrives; they complete, the rest wait.
      const jobs = await client.enqueueMany(
        Array.from({ length: 6 }, (_, i) => ({ task: work, payload: { i } })),
      );
      const graceful = startWorker(db.location, join(dir, 'a.log'), {
        TASK_MODE: 'sleep:300',
        CONCURRENCY: '4',
      });
      t.after(() => killWorkers([graceful]));
      await graceful.ready;
      await until(() => readExecutions(join(dir, 'a.log')).length === 4, 10_000, 'four jobs running');
      graceful.child.kill('SIGTERM');
      const exit = await graceful.exited;
      assert.equal(exit.signal, 'SIGTERM', graceful.output());
      const states = await Promise.all(jobs.map(async (j) => (await client.getJob(j.id))!.state));
      assert.equal(states.filter((s) => s === 'completed').length, 4);
      assert.equal(states.filter((s) => s === 'pending').length, 2);

      // Forced: a handler that ignores its signal; the second SIGTERM ends the process at once.
      const stubborn = startWorker(db.location, join(dir, 'b.log'), {
        TASK_MODE: 'stubborn',
        GRACE_MS: '60000',
      });
      t.after(() => killWorkers([stubborn]));
      await stubborn.ready;
      await until(() => readExecutions(join(dir, 'b.log')).length >= 1, 10_000, 'a stubborn job running');
      stubborn.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(stubborn.child.exitCode, null, 'still waiting for the grace period');
      stubborn.child.kill('SIGTERM');
      const forced = await stubborn.exited;
      assert.equal(forced.code, 143);
    });
  });
}
