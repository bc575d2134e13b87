/**
 * Task contracts without a database round trip where none is needed: `declareTask` and
 * `implement`, the registry's rules for contracts, and the resolver's per-name cache of the
 * defaults workers publish (driven by an injected monotonic clock, never by sleeping).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { STORED_DEFAULTS_TTL_MS, TaskResolver, UNPUBLISHED_TTL_MS } from '../src/core/task-defaults.js';
import { TaskRegistry } from '../src/core/task-registry.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { type Driver, declareTask, defineTask, InvalidOptionError, UnknownTaskError } from '../src/index.js';

const isOption = (field: string) => (error: unknown) => {
  assert.ok(error instanceof InvalidOptionError, String(error));
  assert.equal(error.field, field);
  return true;
};

describe('declareTask', () => {
  it('keeps the declaration, frozen, and implement() gives a runnable task with the same defaults', async () => {
    const contract = declareTask<{ n: number }, number>({
      name: 'double',
      queue: 'math',
      maxAttempts: 5,
      backoff: { type: 'fixed', delayMs: 10 },
    });
    assert.equal(contract.name, 'double');
    assert.equal(contract.queue, 'math');
    assert.ok(Object.isFrozen(contract));
    assert.equal('handler' in contract, false);
    const backoffFn = () => 1;
    const task = contract.implement(async ({ n }) => n * 2, { backoffFn });
    assert.equal(task.name, 'double');
    assert.equal(task.queue, 'math');
    assert.equal(task.maxAttempts, 5);
    assert.deepEqual(task.backoff, { type: 'fixed', delayMs: 10 });
    assert.equal(task.backoffFn, backoffFn);
    assert.equal(await task.handler({ n: 4 }, undefined as never), 8);
  });

  it('refuses what defineTask refuses, and a handler', () => {
    assert.throws(() => declareTask({ name: 'bad name' }), isOption('name'));
    assert.throws(() => declareTask({ name: 'x'.repeat(129) }), isOption('name'));
    assert.throws(() => declareTask({ name: 'ok', schema: {} as never }), isOption('schema'));
    assert.throws(() => declareTask({ name: 'ok', handler: async () => {} } as never), isOption('handler'));
    const contract = declareTask({ name: 'ok' });
    assert.throws(() => contract.implement('not a function' as never), isOption('handler'));
  });
});

describe('TaskRegistry with contracts', () => {
  const contract = declareTask({ name: 'mail', queue: 'emails' });
  const task = contract.implement(async () => {});

  it('a contract is looked up but never run; its implementation replaces it', () => {
    const registry = new TaskRegistry();
    registry.register(contract);
    assert.equal(registry.lookup('mail'), contract);
    assert.equal(registry.get('mail'), undefined);
    assert.deepEqual(registry.names(), []);
    registry.register(task);
    assert.equal(registry.get('mail'), task);
    registry.register(contract);
    assert.equal(registry.get('mail'), task, 'a contract never replaces its implementation');
    assert.deepEqual(registry.runnable(), [task]);
  });

  it('refuses two different definitions of a name and objects that are neither task nor contract', () => {
    const registry = new TaskRegistry();
    registry.register(contract);
    assert.throws(() => registry.register(declareTask({ name: 'mail' })), isOption('tasks'));
    assert.throws(() => registry.register({ name: 'plain' } as never), isOption('tasks'));
    registry.register(defineTask({ name: 'run', handler: async () => {} }));
    assert.throws(
      () => registry.register(defineTask({ name: 'run', handler: async () => {} })),
      isOption('tasks'),
    );
  });
});

describe('TaskResolver', () => {
  /** A migrated in-memory driver whose taskGet calls are counted. */
  async function countingDriver(): Promise<{ driver: Driver; reads: () => number }> {
    const inner = sqliteDriver({ path: ':memory:' });
    await inner.migrate();
    let reads = 0;
    const driver: Driver = {
      ...inner,
      taskGet: (params) => {
        reads++;
        return inner.taskGet(params);
      },
    };
    return { driver, reads: () => reads };
  }

  it('reads a published name once per TTL, for every item of a batch, and again after it', async () => {
    const { driver, reads } = await countingDriver();
    await driver.taskUpsertMany({
      tasks: [
        { name: 'report', queue: 'reports', priority: 0, maxAttempts: 7, timeoutMs: null, backoff: null },
      ],
    });
    let now = 0;
    const resolver = new TaskResolver({
      registry: new TaskRegistry(),
      driver,
      strict: true,
      monotonicNow: () => now,
    });
    const batch = await Promise.all(Array.from({ length: 50 }, () => resolver.resolve('report')));
    assert.ok(batch.every((r) => r.source === 'stored' && r.defaults.queue === 'reports'));
    assert.equal(reads(), 1);
    now += STORED_DEFAULTS_TTL_MS - 1;
    await resolver.resolve('report');
    assert.equal(reads(), 1, 'still cached');
    // A worker changes the contract: producers see it once the cached entry expires.
    await driver.taskUpsertMany({
      tasks: [
        { name: 'report', queue: 'reports-v2', priority: 0, maxAttempts: 7, timeoutMs: null, backoff: null },
      ],
    });
    now += 1;
    assert.equal((await resolver.resolve('report')).defaults.queue, 'reports-v2');
    assert.equal(reads(), 2);
    await driver.close();
  });

  it('a name not yet published is re-read soon, so a producer started before its workers picks them up', async () => {
    const { driver, reads } = await countingDriver();
    let now = 0;
    const resolver = new TaskResolver({
      registry: new TaskRegistry(),
      driver,
      strict: false,
      monotonicNow: () => now,
    });
    assert.equal((await resolver.resolve('late')).source, 'none');
    assert.equal((await resolver.resolve('late')).source, 'none');
    assert.equal(reads(), 1);
    await driver.taskUpsertMany({
      tasks: [{ name: 'late', queue: 'q', priority: 0, maxAttempts: 3, timeoutMs: null, backoff: null }],
    });
    now += UNPUBLISHED_TTL_MS;
    assert.equal((await resolver.resolve('late')).defaults.queue, 'q');
    await driver.close();
  });

  it('local definitions never read the database; invalid names are refused without a read', async () => {
    const { driver, reads } = await countingDriver();
    const registry = new TaskRegistry();
    const contract = declareTask({ name: 'local', queue: 'here', schema: z.object({ a: z.number() }) });
    registry.register(contract);
    const strict = new TaskResolver({ registry, driver, strict: true });
    const local = await strict.resolve('local');
    assert.equal(local.source, 'local');
    assert.equal(local.ref, contract);
    await assert.rejects(strict.resolve('bad name'), UnknownTaskError);
    const lax = new TaskResolver({ registry, driver, strict: false });
    await assert.rejects(lax.resolve('bad name'), isOption('task'));
    await assert.rejects(lax.resolve(null as never), isOption('task'));
    assert.equal(reads(), 0);
    await driver.close();
  });

  it('a failed read is not cached', async () => {
    const { driver: inner } = await countingDriver();
    let fail = true;
    const driver: Driver = {
      ...inner,
      taskGet: (params) => (fail ? Promise.reject(new Error('database down')) : inner.taskGet(params)),
    };
    const resolver = new TaskResolver({ registry: new TaskRegistry(), driver, strict: false });
    await assert.rejects(resolver.resolve('x'), /database down/);
    fail = false;
    assert.equal((await resolver.resolve('x')).source, 'none');
    await inner.close();
  });
});
