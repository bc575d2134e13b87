/**
 * Options nobody reads are refused where the client is built and where tasks are defined — the
 * driver-independent half of the conformance suite's "unknown options" (which runs the calls that
 * reach storage on every driver). Each case was silently dropped before, its default in force.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertRefused } from '../src/driver/conformance/client/unknown-options.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import {
  closestName,
  createJobwire,
  declareTask,
  defineTask,
  InvalidOptionError,
  type JobwireOptions,
  LOGGED_EVENT_NAMES,
} from '../src/index.js';

/** `createJobwire` options refused before anything is opened. */
const CLIENT_CASES: { name: string; options: Record<string, unknown>; field: string; suggests?: string }[] = [
  { name: 'evnets', options: { evnets: { log: false } }, field: 'evnets', suggests: 'events' },
  { name: 'events.logs', options: { events: { logs: false } }, field: 'events.logs', suggests: 'log' },
  {
    name: 'events.retention.maxAge',
    options: { events: { retention: { maxAge: 1000 } } },
    field: 'events.retention.maxAge',
    suggests: 'maxAgeMs',
  },
  {
    name: 'maintenance.leaderTTL',
    options: { maintenance: { leaderTTL: 5000 } },
    field: 'maintenance.leaderTTL',
  },
  {
    name: 'retention.complete',
    options: { retention: { complete: '1h' } },
    field: 'retention.complete',
    suggests: 'completed',
  },
  {
    name: 'retention.completed.maxAgeMs',
    options: { retention: { completed: { maxAgeMs: 1000 } } },
    field: 'retention.completed.maxAgeMs',
    suggests: 'maxAge',
  },
  {
    name: 'health.interval',
    options: { health: { interval: 5000 } },
    field: 'health.interval',
    suggests: 'intervalMs',
  },
  {
    name: 'health.default.maxPendng',
    options: { health: { default: { maxPendng: 5 } } },
    field: 'health.default.maxPendng',
    suggests: 'maxPending',
  },
  { name: 'queues.q.max', options: { queues: { q: { max: 5 } } }, field: 'queues.q.max' },
];

async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('createJobwire', () => {
  for (const { name, options, field, suggests } of CLIENT_CASES) {
    test(`refuses ${name} before the driver is used`, async () => {
      // A driver that answers only the constructor's "is this a driver" probe: any other use fails.
      const used: string[] = [];
      const driver = new Proxy(
        {},
        {
          get: (_target, key) => {
            if (key === 'jobClaim') return () => {};
            if (key !== 'then') used.push(String(key));
            return undefined;
          },
        },
      );
      const error = await caught(() => createJobwire({ driver, ...options } as unknown as JobwireOptions));
      assertRefused(error, field, suggests);
      assert.deepEqual(used, []);
    });
  }

  test('refuses a task whose job defaults enqueue would refuse, naming the task', async () => {
    const bad = defineTask({ name: 'resize', handler: async () => {}, queue: 'media files' });
    const error = await caught(() =>
      createJobwire({ driver: sqliteDriver({ path: ':memory:' }), tasks: [bad] }),
    );
    assertRefused(error, 'tasks.resize.queue', undefined);
    assert.match((error as Error).message, /queue names are/);
  });
});

describe('task definitions', () => {
  const handler = async () => {};
  test('defineTask refuses a field of another queue library, naming the task', () => {
    const error = (() => {
      try {
        defineTask({ name: 'resize', handler, retry: { maxAttempts: 2 } } as never);
      } catch (e) {
        return e;
      }
    })();
    assertRefused(error, 'retry', undefined);
    assert.match((error as Error).message, /unknown field of task "resize" \(known: name, schema, backoffFn/);
  });

  test('defineTask suggests the known name for a typo', () => {
    assert.throws(
      () => defineTask({ name: 'resize', handler, maxAttempt: 2 } as never),
      (error) => {
        assertRefused(error, 'maxAttempt', 'maxAttempts');
        return true;
      },
    );
  });

  test('declareTask and implement() refuse the same', () => {
    assert.throws(() => declareTask({ name: 'resize', attempts: 2 } as never), InvalidOptionError);
    const contract = declareTask({ name: 'resize' });
    assert.throws(
      () => contract.implement(handler, { backofFn: () => 1 } as never),
      (error) => {
        assertRefused(error, 'backofFn', 'backoffFn');
        return true;
      },
    );
  });

  test('a valid definition is untouched', () => {
    const task = defineTask({ name: 'resize', handler, queue: 'media', maxAttempts: 2, timeoutMs: 5 });
    assert.equal(task.maxAttempts, 2);
    assert.equal(task.queue, 'media');
  });
});

describe('driver options', () => {
  test('sqliteDriver refuses busyTimout, suggesting busyTimeoutMs', () => {
    assert.throws(
      () => sqliteDriver({ path: ':memory:', busyTimout: 5 } as never),
      (error) => {
        assertRefused(error, 'busyTimout', 'busyTimeoutMs');
        return true;
      },
    );
  });

  test('postgresDriver refuses schem (it used the default schema instead), before connecting', () => {
    assert.throws(
      () =>
        postgresDriver({
          connectionString: 'postgres://nobody@127.0.0.1:1/none',
          schem: 'app_jobs',
        } as never),
      (error) => {
        assertRefused(error, 'schem', 'schema');
        return true;
      },
    );
  });
});

describe('closestName', () => {
  test('finds a typo, ignores case, and stays quiet when nothing is close', () => {
    assert.equal(closestName('concurency', ['queues', 'concurrency']), 'concurrency');
    assert.equal(closestName('LeaseMS', ['leaseMs', 'id']), 'leaseMs');
    assert.equal(closestName('job:complete', LOGGED_EVENT_NAMES), 'job:completed');
    assert.equal(closestName('retry', ['name', 'handler', 'queue']), undefined);
    assert.equal(closestName('x'.repeat(1000), ['x']), undefined);
  });
});
