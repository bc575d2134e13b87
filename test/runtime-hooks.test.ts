/**
 * The Runtime's instrumentation hooks (src/core/hooks.ts): what they may add, and that a failing
 * hook never loses, repeats or changes the work it wraps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueFullError } from '../src/core/errors.js';
import type { AttemptHook, EnqueueHook } from '../src/core/hooks.js';
import { clientInternals } from '../src/core/internals.js';
import { defineTask } from '../src/core/task.js';
import { nextEvent, recordEvents, testPool, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: { n: number }) => payload.n });

test("an enqueue hook's metadata is stored with every job, replacing the caller's key of that name", async (t) => {
  const { client } = await withClient(t, sqliteDatabases, { tasks: [echo] });
  const seen: unknown[] = [];
  clientInternals(client).runtime.hooks.add({
    enqueue: {
      async aroundInsert(batch, write) {
        seen.push(batch);
        return write({ $mark: 'hooked' });
      },
    },
  });
  const jobs = await client.enqueueMany([
    { task: echo, payload: { n: 1 }, options: { metadata: { $mark: 'caller', keep: true } } },
    { task: echo, payload: { n: 2 }, options: { queue: 'other' } },
  ]);
  assert.deepEqual(
    jobs.map((job) => job.metadata),
    [{ $mark: 'hooked', keep: true }, { $mark: 'hooked' }],
  );
  const [first] = jobs;
  assert.ok(first);
  assert.deepEqual((await client.getJob(first.id))?.metadata, { $mark: 'hooked', keep: true });
  assert.deepEqual(seen, [
    {
      jobs: [
        { task: 'echo', queue: 'default' },
        { task: 'echo', queue: 'other' },
      ],
      inTransaction: false,
    },
  ]);
});

test('a failing enqueue hook is reported; the jobs are stored once and returned as without it', async (t) => {
  const { client } = await withClient(t, sqliteDatabases, { tasks: [echo] });
  const events = recordEvents(client);
  const before: EnqueueHook = {
    aroundInsert() {
      throw new Error('hook broke before writing');
    },
  };
  const afterWrite: EnqueueHook = {
    async aroundInsert(_batch, write) {
      await write();
      throw new Error('hook broke after writing');
    },
  };
  const hooks = clientInternals(client).runtime.hooks;
  hooks.add({ enqueue: before });
  hooks.add({ enqueue: afterWrite });
  const job = await client.enqueue(echo, { n: 1 });
  assert.equal(job.duplicate, false);
  assert.deepEqual(
    (await client.listJobs()).jobs.map((stored) => stored.id),
    [job.id],
  );
  assert.deepEqual(
    events.of('service:error').map((e) => [e.service, e.error.message]),
    // The outer hook fails first: before anything ran, so the inner one then wraps the write.
    [
      ['enqueue-hook', 'hook broke before writing'],
      ['enqueue-hook', 'hook broke after writing'],
    ],
  );
});

test("the write's own failure passes through a hook unchanged and is not blamed on it", async (t) => {
  const { client } = await withClient(t, sqliteDatabases, {
    tasks: [echo],
    queues: { tight: { maxPending: 0 } },
  });
  const events = recordEvents(client);
  clientInternals(client).runtime.hooks.add({ enqueue: { aroundInsert: (_batch, write) => write() } });
  await assert.rejects(client.enqueue(echo, { n: 1 }, { queue: 'tight' }), QueueFullError);
  assert.deepEqual(events.of('service:error'), []);
});

test('attempt hooks wrap the run; a failing one is reported and the outcome is kept', async (t) => {
  const { client } = await withClient(t, sqliteDatabases, { tasks: [echo] });
  const events = recordEvents(client);
  const wrapped: string[] = [];
  const observer: AttemptHook = {
    async aroundAttempt(attempt, run) {
      const outcome = await run();
      wrapped.push(`${attempt.task}#${attempt.attempt} ${JSON.stringify(attempt.metadata())} ${outcome.ok}`);
      return { ok: false, error: new Error('a hook cannot change the outcome') };
    },
  };
  const failing: AttemptHook = {
    async aroundAttempt(_attempt, run) {
      await run();
      throw new Error('attempt hook broke');
    },
  };
  const hooks = clientInternals(client).runtime.hooks;
  hooks.add({ attempt: observer });
  hooks.add({ attempt: failing });
  const job = await client.enqueue(echo, { n: 5 }, { metadata: { who: 'me' } });
  const completed = nextEvent(client, 'job:completed');
  const pool = client.createPool(testPool);
  await pool.start();
  assert.equal((await completed).result, 5);
  await pool.stop();
  assert.deepEqual(wrapped, ['echo#1 {"who":"me"} true']);
  assert.deepEqual(
    events.of('service:error').map((e) => [e.service, e.error.message]),
    [['attempt-hook', 'attempt hook broke']],
  );
  assert.equal((await client.getJob(job.id))?.state, 'completed');
});
