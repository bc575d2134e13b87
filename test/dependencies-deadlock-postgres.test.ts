/**
 * Finishing jobs that share dependents, from three clients at once (found by the flows probe,
 * s43): one finalize completes a job whose edges release dependents D1 and D2, another abandons
 * a job whose `run` edges release D2 and whose `cancel` edges then cancel D1. Each statement
 * locked its dependents in id order, but the two transactions took them in different orders
 * across statements, and PostgreSQL broke the cycle with 40P01 after `deadlock_timeout` (1 s):
 * nothing was lost (the batch is written again), but each cost a second and a `pool:error`. The
 * finalize now locks its jobs and their waiting dependents in one id-ordered statement first.
 * A race: before, some runs of this drain saw a deadlock and some did not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobwire, defineTask, type Jobwire, UnrecoverableError } from '../src/index.js';
import { postgresDatabases } from './support/postgres.js';

const step = defineTask({
  name: 'step',
  maxAttempts: 1,
  handler: async (payload: { fail?: boolean }) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (payload.fail) throw new UnrecoverableError('this dependency fails');
    return 'ok';
  },
});

/** Ten failing and ten completing jobs, and thirty dependents of two failing and one completing each. */
function sharedFlow(): Parameters<Jobwire['enqueueFlow']>[0] {
  const graph: Record<string, { task: typeof step; payload: { fail?: boolean }; dependsOn?: unknown[] }> = {};
  for (let k = 0; k < 10; k++) {
    graph[`x${k}`] = { task: step, payload: { fail: true } };
    graph[`y${k}`] = { task: step, payload: {} };
  }
  for (let d = 0; d < 30; d++) {
    const k = d % 10;
    graph[`d${d}`] = {
      task: step,
      payload: {},
      dependsOn: [
        { ref: `x${k}`, onFailure: d % 2 ? 'run' : 'cancel' },
        { ref: `y${(d * 3 + 1) % 10}`, onFailure: 'run' },
        { ref: `x${(k + 5) % 10}`, onFailure: d % 3 ? 'run' : 'cancel' },
      ],
    };
  }
  return graph as Parameters<Jobwire['enqueueFlow']>[0];
}

test('three clients finishing jobs with shared dependents never deadlock, and every job ends', async (t) => {
  const db = await postgresDatabases.create();
  t.after(() => db.cleanup());
  const clients = await Promise.all(
    [0, 1, 2].map(async () => createJobwire({ driver: await db.open(), tasks: [step] })),
  );
  t.after(() => Promise.all(clients.map((client) => client.close())));
  for (let i = 0; i < 20; i++) await clients[0]!.enqueueFlow(sharedFlow());
  const deadlocks: string[] = [];
  for (const client of clients) {
    client.events.on('pool:error', ({ error }) => {
      if (/40P01|deadlock/i.test(error.message)) deadlocks.push(error.message);
    });
  }
  const pools = clients.map((client) =>
    client.createPool({ concurrency: 8, pollIntervalMs: 20, handleSignals: false }),
  );
  await Promise.all(pools.map((pool) => pool.start()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const counts = await clients[0]!.countJobs();
    if (counts.blocked + counts.scheduled + counts.pending + counts.running === 0) break;
    assert.ok(Date.now() < deadline, `not drained within 60 s: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.all(pools.map((pool) => pool.stop()));
  assert.deepEqual(deadlocks, [], 'no finalize deadlocked');
  const counts = await clients[0]!.countJobs();
  assert.equal(counts.completed + counts.abandoned + counts.cancelled, 20 * 50);
});
