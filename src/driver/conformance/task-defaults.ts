/**
 * Conformance: task contracts (the job defaults workers publish). Upserts write only what
 * changed, reads give back exactly what was stored, and bad records are refused with the same
 * `InvalidOptionError` on every driver, storing nothing.
 */
import assert from 'node:assert/strict';
import { InvalidOptionError } from '../../core/errors.js';
import type { TaskDefaultsRecord } from '../driver.js';
import { MAX_TASK_UPSERT } from '../driver.js';
import { type DefineTest, T0 } from './harness.js';

/** A contract for `name` with any field overridden. */
function contract(name: string, overrides: Partial<TaskDefaultsRecord> = {}): TaskDefaultsRecord {
  return {
    name,
    queue: 'default',
    priority: 0,
    maxAttempts: 3,
    timeoutMs: null,
    backoff: null,
    ...overrides,
  };
}

/** Records every driver must refuse, with the field the error must name. */
const REFUSED: [label: string, tasks: unknown[], field: string][] = [
  ['an empty name', [contract('')], 'tasks[0].name'],
  ['a name with a space', [contract('send email')], 'tasks[0].name'],
  ['a name of 129 characters', [contract('n'.repeat(129))], 'tasks[0].name'],
  ['a megabyte name', [contract('n'.repeat(1 << 20))], 'tasks[0].name'],
  ['NUL in a name', [contract('send\u0000')], 'tasks[0].name'],
  ['an unpaired surrogate in a queue', [contract('t', { queue: 'q\ud800' })], 'tasks[0].queue'],
  ['a non-string name', [{ ...contract('t'), name: 42 }], 'tasks[0].name'],
  ['the same name twice', [contract('t'), contract('t')], 'tasks[1].name'],
  ['zero attempts', [contract('t', { maxAttempts: 0 })], 'tasks[0].maxAttempts'],
  ['a fractional priority', [contract('t', { priority: 1.5 })], 'tasks[0].priority'],
  ['a zero timeout', [contract('t', { timeoutMs: 0 })], 'tasks[0].timeoutMs'],
  ['a timeout past 32 bits', [contract('t', { timeoutMs: 2 ** 31 })], 'tasks[0].timeoutMs'],
  [
    'a backoff of unknown type',
    [contract('t', { backoff: { type: 'linear' } as never })],
    'tasks[0].backoff.type',
  ],
  [
    'a negative fixed delay',
    [contract('t', { backoff: { type: 'fixed', delayMs: -1 } })],
    'tasks[0].backoff.delayMs',
  ],
  ['a null record', [null], 'tasks[0]'],
  [
    'a good record before a bad one',
    [contract('good'), contract('bad', { maxAttempts: -1 })],
    'tasks[1].maxAttempts',
  ],
];

export function taskDefaultsTests(test: DefineTest): void {
  test('a published contract reads back exactly, alone and in the sorted list', async (driver) => {
    assert.equal(await driver.taskGet({ name: 'report' }), undefined);
    assert.deepEqual(await driver.taskList(), []);
    const report = contract('report', {
      queue: 'reports',
      priority: -5,
      maxAttempts: 7,
      timeoutMs: 60_000,
      backoff: { type: 'exponential', baseMs: 500, maxMs: 10_000, jitter: false },
    });
    const mail = contract('mail', { backoff: { type: 'fixed', delayMs: 250 } });
    assert.deepEqual(await driver.taskUpsertMany({ tasks: [report, mail], now: T0 }), ['report', 'mail']);
    assert.deepEqual(await driver.taskGet({ name: 'report' }), { ...report, updatedAt: T0 });
    assert.deepEqual(await driver.taskList(), [
      { ...mail, updatedAt: T0 },
      { ...report, updatedAt: T0 },
    ]);
  });

  test('republishing the same contract writes nothing; a changed one is written with its new time', async (driver) => {
    const report = contract('report', { queue: 'reports', backoff: { type: 'exponential', baseMs: 100 } });
    await driver.taskUpsertMany({ tasks: [report, contract('other')], now: T0 });
    // The same spec with its keys in another order is the same contract.
    const reordered = { ...report, backoff: { baseMs: 100, type: 'exponential' } as const };
    assert.deepEqual(await driver.taskUpsertMany({ tasks: [reordered, contract('other')], now: T0 + 1 }), []);
    assert.equal((await driver.taskGet({ name: 'report' }))?.updatedAt, T0, 'unchanged row keeps its time');
    const changed = { ...report, timeoutMs: 5_000 };
    assert.deepEqual(await driver.taskUpsertMany({ tasks: [contract('other'), changed], now: T0 + 2 }), [
      'report',
    ]);
    assert.deepEqual(await driver.taskGet({ name: 'report' }), { ...changed, updatedAt: T0 + 2 });
    const cleared = { ...changed, backoff: null };
    assert.deepEqual(await driver.taskUpsertMany({ tasks: [cleared], now: T0 + 3 }), ['report']);
    assert.deepEqual(await driver.taskGet({ name: 'report' }), { ...cleared, updatedAt: T0 + 3 });
    assert.deepEqual(await driver.taskUpsertMany({ tasks: [], now: T0 + 4 }), []);
  });

  test('bad contracts are refused naming the field, and nothing of the batch is stored', async (driver) => {
    for (const [label, tasks, field] of REFUSED) {
      await assert.rejects(
        driver.taskUpsertMany({ tasks: tasks as TaskDefaultsRecord[], now: T0 }),
        (err: unknown) => {
          assert.ok(
            err instanceof InvalidOptionError,
            `${label}: expected InvalidOptionError, got ${String(err)}`,
          );
          assert.equal(err.field, field, label);
          assert.ok(err.message.length < 1000, `${label}: a ${err.message.length}-character message`);
          return true;
        },
        label,
      );
    }
    const tooMany = Array.from({ length: MAX_TASK_UPSERT + 1 }, (_, i) => contract(`t${i}`));
    await assert.rejects(driver.taskUpsertMany({ tasks: tooMany, now: T0 }), InvalidOptionError);
    await assert.rejects(driver.taskUpsertMany({ tasks: 'report' as never, now: T0 }), InvalidOptionError);
    assert.deepEqual(await driver.taskList(), []);
  });

  test('names no task can have match nothing when read', async (driver) => {
    await driver.taskUpsertMany({ tasks: [contract('report')], now: T0 });
    for (const name of ['', 'report\u0000', 'q\udfff', 'n'.repeat(1 << 20), "'; DROP TABLE tasks; --", '%']) {
      assert.equal(await driver.taskGet({ name }), undefined, JSON.stringify(name.slice(0, 20)));
    }
    assert.equal((await driver.taskList()).length, 1);
  });
}
