/**
 * Deduplication rules through the whole client: what `enqueue` returns, the events (in process
 * and in the durable log), option validation, a debounced job running once with the last
 * payload, and enqueues inside a caller's transaction that commits or rolls back. Part of
 * `runClientConformance`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../../core/errors.js';
import { clientInternals } from '../../../core/internals.js';
import type { EnqueueOptions } from '../../../core/options.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { recordEvents, testPool, withClient } from './harness.js';

const task = defineTask({ name: 'dedup-task', handler: async (p: { n: number }) => p.n });

/** Bad rule options and the field each error must name. */
const BAD_OPTIONS: [string, Record<string, unknown>, string][] = [
  ['two rules at once', { uniqueKey: 'a', throttle: { key: 'a', window: 1000 } }, 'throttle'],
  ['unique without key', { unique: { states: ['pending'] } }, 'unique.key'],
  ['unique not an object', { unique: 'k' }, 'unique'],
  ['unique states without the active ones', { unique: { key: 'k', states: ['completed'] } }, 'unique.states'],
  [
    'unique with an unknown state',
    { unique: { key: 'k', states: ['scheduled', 'pending', 'running', 'done'] } },
    'unique.states',
  ],
  ['unique.for without finished states', { unique: { key: 'k', for: '1h' } }, 'unique.for'],
  [
    'unique.for zero',
    { unique: { key: 'k', states: ['scheduled', 'pending', 'running', 'completed'], for: 0 } },
    'unique.for',
  ],
  ['unique with an unknown option', { unique: { key: 'k', period: 5 } }, 'unique.period'],
  ['throttle without window', { throttle: { key: 'k' } }, 'throttle.window'],
  ['throttle window zero', { throttle: { key: 'k', window: 0 } }, 'throttle.window'],
  ['throttle window not a duration', { throttle: { key: 'k', window: 'soon' } }, 'throttle.window'],
  ['throttle key empty', { throttle: { key: '', window: 1000 } }, 'throttle.key'],
  ['throttle key with NUL', { throttle: { key: 'k\u0000', window: 1000 } }, 'throttle.key'],
  [
    'debounce maxWait shorter than window',
    { debounce: { key: 'k', window: '1m', maxWait: '30s' } },
    'debounce.maxWait',
  ],
  ['debounce with delayMs', { debounce: { key: 'k', window: 1000 }, delayMs: 5 }, 'delayMs'],
  ['debounce with runAt', { debounce: { key: 'k', window: 1000 }, runAt: new Date() }, 'runAt'],
  ['debounce key of 513 characters', { debounce: { key: 'k'.repeat(513), window: 1000 } }, 'debounce.key'],
];

export function runDedupSuite(factory: ConformanceDatabases): void {
  describe(`dedup rules through the client (${factory.name})`, () => {
    it('enqueue says which rule matched; job:deduplicated and job:debounced reach the bus and the log', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const first = await client.enqueue(task, { n: 1 }, { throttle: { key: 'th', window: '1h' } });
      const again = await client.enqueue(task, { n: 2 }, { throttle: { key: 'th', window: '1h' } });
      assert.deepEqual([first.duplicate, first.matchedBy], [false, null]);
      assert.deepEqual([again.duplicate, again.matchedBy, again.id], [true, 'throttle', first.id]);
      assert.deepEqual(again.dedup, { rule: 'throttle', key: 'th', windowMs: 3_600_000 });

      const plain = await client.enqueue(task, { n: 3 }, { uniqueKey: 'u' });
      const viaRule = await client.enqueue(task, { n: 4 }, { unique: { key: 'u' } });
      assert.deepEqual([viaRule.duplicate, viaRule.matchedBy, viaRule.id], [true, 'unique', plain.id]);

      const waiting = await client.enqueue(task, { n: 5 }, { debounce: { key: 'db', window: '1h' } });
      const replaced = await client.enqueue(task, { n: 6 }, { debounce: { key: 'db', window: '1h' } });
      assert.deepEqual([replaced.duplicate, replaced.matchedBy, replaced.id], [true, 'debounce', waiting.id]);
      assert.deepEqual(replaced.payload, { n: 6 });
      assert.ok(replaced.runAt.getTime() >= waiting.runAt.getTime());

      assert.deepEqual(
        recorded.of('job:deduplicated').map((e) => [e.jobId, e.rule, e.key]),
        [
          [first.id, 'throttle', 'th'],
          [plain.id, 'unique', 'u'],
        ],
      );
      const [debounced] = recorded.of('job:debounced');
      assert.deepEqual(
        [debounced?.jobId, debounced?.key, debounced?.runAt],
        [waiting.id, 'db', replaced.runAt.getTime()],
      );
      assert.equal(debounced?.previousRunAt, waiting.runAt.getTime());

      const logged = (await client.jobEvents(waiting.id)).map((e) => e.type);
      assert.deepEqual(logged, ['job:queued', 'job:debounced']);
      assert.deepEqual(
        (await client.jobEvents(first.id)).map((e) => e.type),
        ['job:queued', 'job:deduplicated'],
      );
    });

    it('enqueueMany with repeated keys: each item says what happened to it, in order', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [task] });
      const recorded = recordEvents(client);
      const debounce = { debounce: { key: 'batch-d', window: '1h' } };
      const throttle = { throttle: { key: 'batch-t', window: '1h' } };
      const results = await client.enqueueMany([
        { task, payload: { n: 1 }, options: debounce },
        { task, payload: { n: 2 }, options: throttle },
        { task, payload: { n: 3 }, options: debounce },
        { task, payload: { n: 4 }, options: throttle },
        { task, payload: { n: 5 } },
      ]);
      assert.deepEqual(
        results.map((r) => [r.duplicate, r.matchedBy]),
        [
          [false, null],
          [false, null],
          [true, 'debounce'],
          [true, 'throttle'],
          [false, null],
        ],
      );
      assert.deepEqual([results[2]!.id, results[3]!.id], [results[0]!.id, results[1]!.id]);
      assert.deepEqual(
        (await client.getJob(results[0]!.id))?.payload,
        { n: 3 },
        'the last debounce payload wins',
      );
      assert.deepEqual(
        recorded.names().filter((n) => n.startsWith('job:')),
        ['job:queued', 'job:queued', 'job:queued', 'job:debounced', 'job:deduplicated'],
      );
    });

    it('bad rule options are refused with InvalidOptionError naming the field; nothing is stored', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [task] });
      for (const [name, options, field] of BAD_OPTIONS) {
        await assert.rejects(
          client.enqueue(task, { n: 1 }, options as EnqueueOptions),
          (error: unknown) => error instanceof InvalidOptionError && error.field === field,
          name,
        );
        await assert.rejects(
          client.enqueueMany([
            { task, payload: { n: 0 } },
            { task, payload: { n: 1 }, options: options as EnqueueOptions },
          ]),
          (error: unknown) => error instanceof InvalidOptionError && error.field === field,
          `${name} (enqueueMany)`,
        );
      }
      const counts = await client.countJobs();
      assert.equal(
        Object.values(counts).reduce((a, b) => a + b, 0),
        0,
      );
    });

    it('a debounced burst runs once, with the last payload', async (t) => {
      const ran: number[] = [];
      const recordRun = defineTask({
        name: 'debounced',
        handler: async (p: { n: number }) => {
          ran.push(p.n);
          return p.n;
        },
      });
      const { client } = await withClient(t, factory, { tasks: [recordRun] });
      const pool = client.createPool({ ...testPool, concurrency: 2 });
      await pool.start();
      // The window only has to outlast three enqueues; a loaded machine gets generous room.
      const options = { debounce: { key: 'burst', window: '3s' } };
      const first = await client.enqueue(recordRun, { n: 1 }, options);
      await client.enqueue(recordRun, { n: 2 }, options);
      const last = await client.enqueue(recordRun, { n: 3 }, options);
      assert.equal(last.id, first.id);
      assert.equal(await client.waitForJob(first.id, { timeoutMs: 30_000 }), 3);
      await pool.stop();
      assert.deepEqual(ran, [3]);
      const after = await client.enqueue(recordRun, { n: 4 }, options);
      assert.notEqual(after.id, first.id, 'a finished job is never debounced again');
    });

    it('in a caller transaction: a rollback leaves nothing and frees the key; a waiting enqueue gets the committed job', async (t) => {
      const { client, db } = await withClient(t, factory, { tasks: [task] });
      if (!clientInternals(client).runtime.driver.capabilities.callerTransactions) return;
      const recorded = recordEvents(client);
      const connection = await db.connect!();
      try {
        const throttle = { throttle: { key: 'tx', window: '1h' } };
        await connection.query('BEGIN');
        const rolledBack = await client.enqueue(
          task,
          { n: 1 },
          { ...throttle, transaction: connection.transaction },
        );
        // Another enqueue of the key waits for the transaction's outcome.
        const waiting = client.enqueue(task, { n: 2 }, throttle);
        await connection.query('ROLLBACK');
        const afterRollback = await waiting;
        assert.equal(afterRollback.duplicate, false, 'the rolled-back job did not hold the key');
        assert.notEqual(afterRollback.id, rolledBack.id);
        assert.equal(await client.getJob(rolledBack.id), undefined);

        const debounce = { debounce: { key: 'tx-d', window: '1h' } };
        await connection.query('BEGIN');
        const inTx = await client.enqueue(
          task,
          { n: 3 },
          { ...debounce, transaction: connection.transaction },
        );
        const blocked = client.enqueue(task, { n: 4 }, debounce);
        await connection.query('COMMIT');
        const matched = await blocked;
        assert.deepEqual([matched.duplicate, matched.matchedBy, matched.id], [true, 'debounce', inTx.id]);
        assert.deepEqual((await client.getJob(inTx.id))?.payload, { n: 4 });

        // A match inside a transaction that rolls back announces nothing and changes nothing.
        await connection.query('BEGIN');
        const replacedInTx = await client.enqueue(
          task,
          { n: 5 },
          { ...debounce, transaction: connection.transaction },
        );
        assert.equal(replacedInTx.id, inTx.id);
        await connection.query('ROLLBACK');
        assert.deepEqual((await client.getJob(inTx.id))?.payload, { n: 4 });
        assert.deepEqual(
          recorded.of('job:debounced').map((e) => e.jobId),
          [inTx.id],
          'only the committed debounce was announced',
        );
        const counts = await client.countJobs();
        assert.equal(counts.pending + counts.scheduled, 2);
      } finally {
        await connection.release();
      }
    });
  });
}
