/**
 * The bad-input matrix: one table of hostile values — NUL, unpaired surrogates, huge strings,
 * BigInt, cycles, out-of-range dates and numbers, SQL and LIKE metacharacters — sent through
 * every entry point of the client, each with its expected outcome. A refused value must give
 * the named JobwireError class, code and field and store nothing; an accepted one must read back
 * exactly. The same table runs on every driver, so both give the same outcome.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Jobwire } from '../../../core/client.js';
import {
  InvalidOptionError,
  InvalidPayloadError,
  JobNotFoundError,
  type JobwireError,
  PayloadTooLargeError,
  UnknownTaskError,
} from '../../../core/errors.js';
import { defineTask } from '../../../core/task.js';
import type { ConformanceDatabases } from './databases.js';
import { withClient } from './harness.js';

type ErrorClass = abstract new (...args: never[]) => JobwireError;

/** What a case must do: be refused (class, code, field) or succeed and pass `check`. */
type Outcome =
  | { refused: ErrorClass; code: string; field?: string; message?: RegExp }
  | { accepted: (value: unknown, client: Jobwire) => void | Promise<void> };

interface Case {
  name: string;
  run: (client: Jobwire) => Promise<unknown>;
  outcome: Outcome;
}

const task = defineTask({ name: 'matrix', handler: async () => {} });

const cycle: Record<string, unknown> = { name: 'cycle' };
cycle.self = cycle;
const SQL = "'; DROP TABLE jobs; --";
const LIKE = '%_\\';
const HOSTILE_TEXT = { nul: 'a\u0000b', high: 'x\ud800', low: '\udc00y', sql: SQL, like: LIKE, emoji: '😀' };
const HUGE = `${'x'.repeat(1 << 20)}\u0000`;
const LATEST = new Date('9999-12-31T23:59:59.999Z');
const EARLIEST = new Date('0001-01-01T00:00:00.000Z');

const option = (field: string, message?: RegExp): Outcome => ({
  refused: InvalidOptionError,
  code: 'JOBWIRE_INVALID_OPTION',
  field,
  message,
});
const payloadError: Outcome = { refused: InvalidPayloadError, code: 'JOBWIRE_INVALID_PAYLOAD' };
const notFound: Outcome = { refused: JobNotFoundError, code: 'JOBWIRE_JOB_NOT_FOUND' };
const returns = (expected: unknown): Outcome => ({
  accepted: (value) => assert.deepEqual(value, expected),
});
/** The same page as `listJobs()` with no filter and no cursor (every job so far). */
const firstPage: Outcome = {
  accepted: async (value, client) => {
    const page = await client.listJobs();
    assert.ok(page.jobs.length > 0, 'the accepted cases above stored jobs');
    assert.deepEqual(value, page);
  },
};

/** Enqueue with these options; the job read back must match `expected` field by field. */
const enqueued = (options: Record<string, unknown>, payload: unknown = {}) => ({
  run: (client: Jobwire) => client.enqueue(task, payload, options as never),
});
const storedExactly = (expected: Record<string, unknown>): Outcome => ({
  accepted: async (value, client) => {
    const stored = await client.getJob((value as { id: string }).id);
    assert.ok(stored);
    for (const [key, want] of Object.entries(expected)) {
      assert.deepEqual(stored[key as keyof typeof stored], want, `stored ${key}`);
    }
  },
});

const CASES: Case[] = [
  // -- enqueue options --------------------------------------------------------------------------
  {
    name: 'uniqueKey with NUL',
    ...enqueued({ uniqueKey: 'k\u0000' }),
    outcome: option('uniqueKey', /NUL.*index 1/),
  },
  {
    name: 'uniqueKey with a lone high surrogate',
    ...enqueued({ uniqueKey: 'k\ud800' }),
    outcome: option('uniqueKey'),
  },
  {
    name: 'uniqueKey with a lone low surrogate',
    ...enqueued({ uniqueKey: '\udc00' }),
    outcome: option('uniqueKey'),
  },
  {
    name: 'uniqueKey of 513 characters',
    ...enqueued({ uniqueKey: 'k'.repeat(513) }),
    outcome: option('uniqueKey'),
  },
  { name: 'uniqueKey a number', ...enqueued({ uniqueKey: 42 }), outcome: option('uniqueKey') },
  {
    name: 'uniqueKey with SQL and LIKE metacharacters',
    ...enqueued({ uniqueKey: `${SQL}${LIKE}` }),
    outcome: storedExactly({ uniqueKey: `${SQL}${LIKE}` }),
  },
  {
    name: 'correlationId with NUL',
    ...enqueued({ correlationId: '\u0000' }),
    outcome: option('correlationId'),
  },
  {
    name: 'correlationId with a lone surrogate',
    ...enqueued({ correlationId: 'c\udfff' }),
    outcome: option('correlationId'),
  },
  {
    name: 'correlationId of 257 characters',
    ...enqueued({ correlationId: 'c'.repeat(257) }),
    outcome: option('correlationId'),
  },
  {
    name: 'correlationId with SQL',
    ...enqueued({ correlationId: SQL }),
    outcome: storedExactly({ correlationId: SQL }),
  },
  { name: 'runAt one past the largest Date', ...enqueued({ runAt: 8.64e15 + 1 }), outcome: option('runAt') },
  { name: 'runAt 1e20', ...enqueued({ runAt: 1e20 }), outcome: option('runAt') },
  { name: 'runAt -1e20', ...enqueued({ runAt: -1e20 }), outcome: option('runAt') },
  {
    name: 'runAt a valid Date past year 9999',
    ...enqueued({ runAt: new Date(8.64e15) }),
    outcome: option('runAt'),
  },
  { name: 'runAt an invalid Date', ...enqueued({ runAt: new Date('nope') }), outcome: option('runAt') },
  { name: 'runAt NaN', ...enqueued({ runAt: Number.NaN }), outcome: option('runAt') },
  { name: 'runAt Infinity', ...enqueued({ runAt: Number.POSITIVE_INFINITY }), outcome: option('runAt') },
  { name: 'runAt a string', ...enqueued({ runAt: '2030-01-01' }), outcome: option('runAt') },
  {
    name: 'runAt the last ms of 9999',
    ...enqueued({ runAt: LATEST }),
    outcome: storedExactly({ runAt: LATEST, state: 'scheduled' }),
  },
  {
    name: 'runAt the first ms of year 1',
    ...enqueued({ runAt: EARLIEST }),
    outcome: storedExactly({ runAt: EARLIEST, state: 'pending' }),
  },
  { name: 'priority fractional', ...enqueued({ priority: -1.5 }), outcome: option('priority') },
  { name: 'priority 1e20', ...enqueued({ priority: 1e20 }), outcome: option('priority') },
  { name: 'priority NaN', ...enqueued({ priority: Number.NaN }), outcome: option('priority') },
  { name: 'priority a string', ...enqueued({ priority: '1' }), outcome: option('priority') },
  { name: 'priority a BigInt', ...enqueued({ priority: 1n }), outcome: option('priority') },
  { name: 'maxAttempts negative', ...enqueued({ maxAttempts: -1 }), outcome: option('maxAttempts') },
  { name: 'maxAttempts fractional', ...enqueued({ maxAttempts: 2.5 }), outcome: option('maxAttempts') },
  { name: 'maxAttempts huge', ...enqueued({ maxAttempts: 2 ** 53 }), outcome: option('maxAttempts') },
  { name: 'delayMs negative', ...enqueued({ delayMs: -1 }), outcome: option('delayMs') },
  { name: 'delayMs 1e20', ...enqueued({ delayMs: 1e20 }), outcome: option('delayMs') },
  { name: 'timeoutMs past 32 bits', ...enqueued({ timeoutMs: 2 ** 31 }), outcome: option('timeoutMs') },
  { name: 'queue with SQL', ...enqueued({ queue: SQL }), outcome: option('queue') },
  { name: 'queue with LIKE metacharacters', ...enqueued({ queue: LIKE }), outcome: option('queue') },
  { name: 'queue with NUL', ...enqueued({ queue: 'q\u0000' }), outcome: option('queue') },
  { name: 'queue of 129 characters', ...enqueued({ queue: 'q'.repeat(129) }), outcome: option('queue') },
  { name: 'uniqueKey of a megabyte', ...enqueued({ uniqueKey: HUGE }), outcome: option('uniqueKey') },
  {
    name: 'correlationId of a megabyte',
    ...enqueued({ correlationId: HUGE }),
    outcome: option('correlationId'),
  },
  { name: 'queue of a megabyte', ...enqueued({ queue: HUGE }), outcome: option('queue') },
  { name: 'priority a megabyte string', ...enqueued({ priority: HUGE }), outcome: option('priority') },
  {
    name: 'an unknown option named by a megabyte',
    ...enqueued({ [HUGE]: 1 }),
    outcome: {
      refused: InvalidOptionError,
      code: 'JOBWIRE_INVALID_OPTION',
      message: /unknown enqueue option/,
    },
  },
  // -- metadata --------------------------------------------------------------------------------
  {
    name: 'metadata with a BigInt',
    ...enqueued({ metadata: { n: 10n } }),
    outcome: option('metadata', /BigInt/),
  },
  {
    name: 'metadata with a cycle',
    ...enqueued({ metadata: cycle }),
    outcome: option('metadata', /circular/),
  },
  {
    name: 'metadata whose toJSON throws',
    ...enqueued({
      metadata: {
        toJSON() {
          throw new Error('no');
        },
      },
    }),
    outcome: option('metadata'),
  },
  {
    name: 'metadata that encodes as a number',
    ...enqueued({ metadata: { toJSON: () => 5 } }),
    outcome: option('metadata'),
  },
  { name: 'metadata an array', ...enqueued({ metadata: [1] }), outcome: option('metadata') },
  { name: 'metadata a string', ...enqueued({ metadata: 'tenant' }), outcome: option('metadata') },
  {
    name: 'metadata over the size limit',
    ...enqueued({ metadata: { s: 'x'.repeat(5000) } }),
    outcome: option('metadata', /bytes/),
  },
  {
    name: 'metadata with NUL, surrogates and SQL in keys and values',
    ...enqueued({ metadata: { ...HOSTILE_TEXT, 'k\u0000\ud800': SQL } }),
    outcome: storedExactly({ metadata: { ...HOSTILE_TEXT, 'k\u0000\ud800': SQL } }),
  },
  // -- payload ---------------------------------------------------------------------------------
  { name: 'payload with a BigInt', ...enqueued({}, { n: 1n }), outcome: payloadError },
  { name: 'payload with a cycle', ...enqueued({}, cycle), outcome: payloadError },
  { name: 'payload a symbol', ...enqueued({}, Symbol('s')), outcome: payloadError },
  {
    name: 'payload over the size limit',
    ...enqueued({}, { s: 'é'.repeat(3000) }),
    outcome: { refused: PayloadTooLargeError, code: 'JOBWIRE_PAYLOAD_TOO_LARGE' },
  },
  {
    name: 'payload with NUL, surrogates and SQL in keys and values',
    ...enqueued({}, { ...HOSTILE_TEXT, nested: [HOSTILE_TEXT], '\u0000': 1 }),
    outcome: storedExactly({ payload: { ...HOSTILE_TEXT, nested: [HOSTILE_TEXT], '\u0000': 1 } }),
  },
  // -- task names ------------------------------------------------------------------------------
  {
    name: 'an unknown task name with SQL',
    run: (client) => client.enqueue(SQL, {}),
    outcome: { refused: UnknownTaskError, code: 'JOBWIRE_UNKNOWN_TASK' },
  },
  {
    name: 'a task object whose name has NUL',
    run: (c) => c.enqueue({ ...task, name: 't\u0000' }, {}),
    outcome: option('tasks'),
  },
  {
    name: 'an unknown task name of a megabyte',
    run: (client) => client.enqueue(HUGE, {}),
    outcome: { refused: UnknownTaskError, code: 'JOBWIRE_UNKNOWN_TASK' },
  },
  {
    name: 'a task object named by a megabyte',
    run: (c) => c.enqueue({ ...task, name: HUGE }, {}),
    outcome: option('tasks'),
  },
  { name: 'a null task', run: (client) => client.enqueue(null as never, {}), outcome: option('task') },
  // -- enqueueMany -----------------------------------------------------------------------------
  {
    name: 'enqueueMany of [null]',
    run: (c) => c.enqueueMany([null as never]),
    outcome: option('items', /item 0/),
  },
  {
    name: 'enqueueMany with one bad item after a good one',
    run: (c) =>
      c.enqueueMany([
        { task, payload: {} },
        { task, payload: {}, options: { uniqueKey: 'k\ud800' } },
      ]),
    outcome: option('uniqueKey', /item 1/),
  },
  {
    name: 'enqueueMany over 10,000 jobs',
    run: (c) => c.enqueueMany(Array.from({ length: 10_001 }, () => ({ task, payload: {} }))),
    outcome: option('items', /at most 10000/),
  },
  { name: 'enqueueMany of a non-array', run: (c) => c.enqueueMany({} as never), outcome: option('items') },
  // -- listing, counting -----------------------------------------------------------------------
  {
    name: 'listJobs with an unknown state',
    run: (c) => c.listJobs({ state: 'bogus' as never }),
    outcome: option('state'),
  },
  {
    name: 'listJobs with a state with SQL',
    run: (c) => c.listJobs({ state: ['pending', `pending${SQL}` as never] }),
    outcome: option('state'),
  },
  {
    name: 'listJobs with a queue with SQL',
    run: (c) => c.listJobs({ queue: SQL }),
    outcome: option('queue'),
  },
  {
    name: 'listJobs with a queue with NUL',
    run: (c) => c.listJobs({ queue: ['default', 'q\u0000'] }),
    outcome: option('queue'),
  },
  {
    name: 'listJobs with a numeric queue',
    run: (c) => c.listJobs({ queue: 5 as never }),
    outcome: option('queue'),
  },
  {
    name: 'listJobs with a task with LIKE metacharacters',
    run: (c) => c.listJobs({ task: LIKE }),
    outcome: option('task'),
  },
  {
    name: 'listJobs with a task with a surrogate',
    run: (c) => c.listJobs({ task: 't\ud800' }),
    outcome: option('task'),
  },
  {
    name: 'listJobs with an empty state list',
    run: (c) => c.listJobs({ state: [] }),
    outcome: firstPage,
  },
  ...['abc', '1e3', '-1', '0', '', '01', '99999999999999999999', `1${SQL}`].map((cursor) => ({
    name: `listJobs with cursor ${JSON.stringify(cursor)}`,
    run: (c: Jobwire) => c.listJobs({ cursor }),
    outcome: option('cursor'),
  })),
  {
    name: 'listJobs with a numeric cursor',
    run: (c) => c.listJobs({ cursor: 5 as never }),
    outcome: option('cursor'),
  },
  {
    name: 'listJobs with a cursor past 2^53',
    run: (c) => c.listJobs({ cursor: '9007199254740993' }),
    outcome: firstPage,
  },
  { name: 'listJobs with limit 0', run: (c) => c.listJobs({ limit: 0 }), outcome: option('limit') },
  { name: 'listJobs with limit 1.5', run: (c) => c.listJobs({ limit: 1.5 }), outcome: option('limit') },
  {
    name: 'countJobs with a queue with NUL',
    run: (c) => c.countJobs({ queue: '\u0000' }),
    outcome: option('queue'),
  },
  {
    name: 'countJobs with a queue with SQL',
    run: (c) => c.countJobs({ queue: [SQL] }),
    outcome: option('queue'),
  },
  {
    name: 'countJobs with a state that does not exist',
    run: (c) => c.countJobs({ state: 'done' as never }),
    outcome: option('state'),
  },
  {
    name: 'countJobs with a state with SQL',
    run: (c) => c.countJobs({ state: ['pending', SQL as never] }),
    outcome: option('state'),
  },
  { name: 'pauseQueue with SQL', run: (c) => c.pauseQueue(SQL), outcome: option('queue') },
  // A bad timeout rejected at once as a timeout, hiding the mistake; one past 2^31 ms too (Node's
  // timers fire such a delay after 1 ms).
  ...[-5, '5s', Number.NaN, 2 ** 31].map((timeoutMs) => ({
    name: `waitForJob with timeoutMs ${String(timeoutMs)}`,
    run: (c: Jobwire) => c.waitForJob('1', { timeoutMs: timeoutMs as never }),
    outcome: option('timeoutMs'),
  })),
  ...[0, -1, 1.5, '10', 1e9].map((limit) => ({
    name: `jobEvents with limit ${String(limit)}`,
    run: (c: Jobwire) => c.jobEvents('1', { limit: limit as never }),
    outcome: option('limit'),
  })),
  // -- ids -------------------------------------------------------------------------------------
  ...['abc', '1e3', '-1', '0', '', '01', '99999999999999999999', 'a\u0000', SQL].flatMap((id) => [
    { name: `getJob(${JSON.stringify(id)})`, run: (c: Jobwire) => c.getJob(id), outcome: returns(undefined) },
    { name: `cancelJob(${JSON.stringify(id)})`, run: (c: Jobwire) => c.cancelJob(id), outcome: notFound },
    { name: `retryJob(${JSON.stringify(id)})`, run: (c: Jobwire) => c.retryJob(id), outcome: notFound },
    {
      name: `deleteJob(${JSON.stringify(id)})`,
      run: (c: Jobwire) => c.deleteJob(id),
      outcome: returns(false),
    },
    { name: `waitForJob(${JSON.stringify(id)})`, run: (c: Jobwire) => c.waitForJob(id), outcome: notFound },
  ]),
  ...[{}, null, undefined, 1.5, 10n].flatMap((id) => [
    { name: `getJob(${String(id)})`, run: (c: Jobwire) => c.getJob(id as never), outcome: option('id') },
    {
      name: `cancelJob(${String(id)})`,
      run: (c: Jobwire) => c.cancelJob(id as never),
      outcome: option('id'),
    },
    {
      name: `deleteJob(${String(id)})`,
      run: (c: Jobwire) => c.deleteJob(id as never),
      outcome: option('id'),
    },
  ]),
];

async function totalJobs(client: Jobwire): Promise<number> {
  return Object.values(await client.countJobs()).reduce((a, b) => a + b, 0);
}

/** Register the matrix for one driver. */
export function runBadInputMatrix(factory: ConformanceDatabases): void {
  describe(`bad-input matrix (${factory.name})`, () => {
    it('every hostile value gets its expected typed outcome; refused input stores nothing', async (t) => {
      const { client } = await withClient(t, factory, { tasks: [task], maxPayloadBytes: 4096 });
      const failures: string[] = [];
      for (const { name, run, outcome } of CASES) {
        const before = await totalJobs(client);
        let value: unknown;
        let error: unknown;
        try {
          value = await run(client);
        } catch (err) {
          error = err;
        }
        try {
          if ('refused' in outcome) {
            assert.ok(
              error instanceof outcome.refused,
              `expected ${outcome.refused.name}, got ${String(error ?? value)}`,
            );
            assert.equal(error.code, outcome.code);
            if (outcome.field !== undefined) assert.equal((error as InvalidOptionError).field, outcome.field);
            if (outcome.message) assert.match(error.message, outcome.message);
            // A megabyte of hostile input must not come back as a megabyte of error message.
            assert.ok(error.message.length < 1000, `a ${error.message.length}-character message`);
            assert.equal(await totalJobs(client), before, 'a refused call stored something');
          } else {
            assert.equal(error, undefined, `expected success, got ${String(error)}`);
            await outcome.accepted(value, client);
          }
        } catch (failure) {
          failures.push(`${name}: ${failure instanceof Error ? failure.message : String(failure)}`);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${CASES.length} cases failed`);
    });
  });
}
