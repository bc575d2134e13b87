/**
 * Options nobody reads are refused, on every driver: a misspelt field (`concurency`), a foreign
 * one (BullMQ's `attempts`, `retry: { … }`) or a misplaced one (`{ task, payload, priority }`)
 * must be an `InvalidOptionError` naming it and suggesting the known name — never dropped with its
 * default left in force. The filters of bulk admin calls matter most: `cancelJobs({ queues })`
 * read as "no filter" would cancel every job of every queue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import { InvalidOptionError } from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { withClient } from './harness.js';

const task = defineTask({ name: 'typo', handler: async () => {} });

interface Case {
  name: string;
  run: (client: Jobwire) => unknown;
  /** The field the error must name. */
  field: string;
  /** The known name the error must suggest, when one is close. */
  suggests?: string;
}

const CASES: Case[] = [
  {
    name: 'createPool concurency',
    run: (c) => c.createPool({ concurency: 5 } as never),
    field: 'concurency',
    suggests: 'concurrency',
  },
  {
    name: 'createPool queue',
    run: (c) => c.createPool({ queue: 'a' } as never),
    field: 'queue',
    suggests: 'queues',
  },
  {
    name: 'enqueueMany item with an option beside task and payload',
    run: (c) => c.enqueueMany([{ task, payload: {}, priority: 5 } as never]),
    field: 'priority',
  },
  {
    name: 'enqueueMany item with opts',
    run: (c) => c.enqueueMany([{ task, payload: {}, opts: { priority: 5 } } as never]),
    field: 'opts',
  },
  {
    name: 'cancelJobs queues',
    run: (c) => c.cancelJobs({ queues: ['other'] } as never),
    field: 'queues',
    suggests: 'queue',
  },
  {
    name: 'retryJobs states',
    run: (c) => c.retryJobs({ states: ['abandoned'] } as never),
    field: 'states',
    suggests: 'state',
  },
  {
    name: 'deleteJobs older',
    run: (c) => c.deleteJobs({ olderThen: '1d' } as never),
    field: 'olderThen',
    suggests: 'olderThan',
  },
  {
    name: 'listJobs status',
    run: (c) => c.listJobs({ status: 'pending' } as never),
    field: 'status',
    suggests: 'state',
  },
  {
    name: 'countJobs queues',
    run: (c) => c.countJobs({ queues: ['q'] } as never),
    field: 'queues',
    suggests: 'queue',
  },
  { name: 'queueCounts exact', run: (c) => c.queueCounts({ exact: 5 } as never), field: 'exact' },
  {
    name: 'waitForJob timeout',
    run: (c) => c.waitForJob('999999', { timeout: 10 } as never),
    field: 'timeout',
    suggests: 'timeoutMs',
  },
  {
    name: 'events.read filter type',
    run: (c) => c.events.read({ filter: { type: ['job:failed'] } } as never),
    field: 'filter.type',
    suggests: 'types',
  },
  {
    name: 'events.read filter with an event name the log does not hold',
    run: (c) => c.events.read({ filter: { types: ['job:complete'] } } as never),
    field: 'filter.types',
    suggests: 'job:completed',
  },
  { name: 'events.read cursor', run: (c) => c.events.read({ cursor: 'start' } as never), field: 'cursor' },
  {
    name: 'events.subscribe form',
    run: (c) => c.events.subscribe('s', () => {}, { form: 'now' } as never),
    field: 'form',
    suggests: 'from',
  },
  {
    name: 'jobEvents limt',
    run: (c) => c.jobEvents('1', { limt: 5 } as never),
    field: 'limt',
    suggests: 'limit',
  },
  {
    name: 'schedule with an unknown field',
    run: (c) => c.schedules.upsert({ id: 's', every: '1m', task, timezone: 'UTC', jiter: 5 } as never),
    field: 'jiter',
    suggests: 'jitter',
  },
  {
    name: 'schedule job option an enqueue-only one',
    run: (c) => c.schedules.upsert({ id: 's', every: '1m', task, options: { delayMs: 5 } } as never),
    field: 'options.delayMs',
  },
  {
    name: 'flow.remove keys',
    run: (c) => c.flow.remove({ queue: 'q', keys: 'a' } as never),
    field: 'flow.keys',
    suggests: 'key',
  },
  {
    name: 'registerTask with job defaults enqueue refuses',
    run: (c) => c.registerTask(defineTask({ name: 'bad-defaults', handler: async () => {}, maxAttempts: 0 })),
    field: 'tasks.bad-defaults.maxAttempts',
  },
];

/** `error` is the typed refusal of `field`, suggesting `suggests` when given. */
export function assertRefused(error: unknown, field: string, suggests: string | undefined): void {
  assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`);
  assert.equal(error.code, 'JOBWIRE_INVALID_OPTION');
  assert.equal(error.field, field);
  if (suggests !== undefined) assert.match(error.message, new RegExp(`did you mean "${suggests}"\\?`));
}

async function caught(run: () => unknown): Promise<unknown> {
  try {
    // Accepted by mistake: stop what it started (a subscription), so the run ends either way.
    const value = (await run()) as { stop?: () => Promise<void> } | undefined;
    if (typeof value?.stop === 'function') await value.stop();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Register the suite for one driver. */
export function runUnknownOptionsSuite(factory: ConformanceDatabases): void {
  describe(`unknown options (${factory.name})`, () => {
    it('a field nobody reads is refused, named and matched to the known one; nothing changes', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [task] });
      const jobs = await client.enqueueMany([
        { task, payload: { n: 1 } },
        { task, payload: { n: 2 } },
      ]);
      const failures: string[] = [];
      for (const { name, run, field, suggests } of CASES) {
        try {
          assertRefused(await caught(() => run(client)), field, suggests);
        } catch (failure) {
          failures.push(`${name}: ${(failure as Error).message}`);
        }
      }
      assert.deepEqual(failures, []);
      // The refused cancelJobs/deleteJobs/enqueueMany changed nothing: the two jobs still wait.
      const after = await client.listJobs();
      assert.deepEqual(
        after.jobs.map((job) => [job.id, job.state]).sort(),
        jobs.map((job) => [job.id, 'pending']).sort(),
      );
      assert.equal(await client.schedules.get('s'), undefined);
    });
  });
}
