/** PostgreSQL driver: enqueue inside the caller's transaction (`executor`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { InvalidOptionError, StorageError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import { CHANNELS, type Driver, type JobInsertParams } from '../src/driver/driver.js';
import { createJobwire, defineTask } from '../src/index.js';
import { watchCalls } from './support/harness.js';
import { openTestDriver, waitFor } from './support/postgres.js';

const job = (overrides: Partial<JobInsertParams> = {}): JobInsertParams => jobParams(overrides);

async function insertedIds(
  driver: Driver,
  params: Parameters<Driver['jobInsertMany']>[0],
): Promise<string[]> {
  const result = await driver.jobInsertMany(params);
  assert.ok('inserted' in result, 'insert was refused');
  return result.inserted.map((r) => r.job.id);
}

/** Everything published on jobAvailable, and a way to wait for one payload. */
function recordWakeUps(driver: Driver) {
  const heard: string[] = [];
  const unsubscribe = driver.notifier.listen(CHANNELS.jobAvailable, (queue) => heard.push(queue));
  return {
    heard,
    unsubscribe,
    until: (queue: string) => waitFor(`a wake-up for ${queue}`, () => heard.includes(queue)),
  };
}

describe('postgres enqueue in the caller transaction', () => {
  it('a committed transaction makes the job exist and wakes pools only at commit', async (t) => {
    const { driver, url, cleanup } = await openTestDriver();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    t.after(async () => {
      await pool.end();
      await cleanup();
    });
    const wakeUps = recordWakeUps(driver);
    await waitFor('the LISTEN connection', () => (driver.notifier as { connected?: boolean }).connected);

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const [id] = await insertedIds(driver, { jobs: [job({ queue: 'tx-commit' })], executor: client });
      // Not visible to anyone else before commit, and nobody has been woken yet.
      assert.equal(await driver.jobGet({ id: id! }), undefined);
      const { rows } = await client.query('SELECT 1');
      assert.equal(rows.length, 1, 'the caller transaction is still usable');
      assert.deepEqual(wakeUps.heard, []);
      await client.query('COMMIT');
      assert.equal((await driver.jobGet({ id: id! }))?.state, 'pending');
      await wakeUps.until('tx-commit');
    } finally {
      client.release();
    }
  });

  it('a rolled-back transaction leaves no job and wakes nobody', async (t) => {
    const { driver, url, cleanup } = await openTestDriver();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    t.after(async () => {
      await pool.end();
      await cleanup();
    });
    const wakeUps = recordWakeUps(driver);
    const client = await pool.connect();
    let ids: string[];
    try {
      await client.query('BEGIN');
      ids = await insertedIds(driver, {
        jobs: [job({ queue: 'tx-rollback' }), job({ queue: 'tx-rollback', uniqueKey: 'k' })],
        executor: client,
      });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    for (const id of ids) assert.equal(await driver.jobGet({ id }), undefined);
    assert.equal((await driver.jobCountByState({})).pending, 0);
    // The unique key was never taken.
    const again = await driver.jobInsertMany({ jobs: [job({ uniqueKey: 'k', queue: 'after' })] });
    assert.ok('inserted' in again && again.inserted[0]!.duplicate === false);
    // Notifications arrive in commit order: once the later one is heard, the rolled-back one never will be.
    await wakeUps.until('after');
    assert.deepEqual(wakeUps.heard, ['after']);
  });

  it('a full queue inside the caller transaction undoes only the refused batch', async (t) => {
    const { driver, url, cleanup } = await openTestDriver();
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    t.after(async () => {
      await pool.end();
      await cleanup();
    });
    const limits = new Map([['limited', 1]]);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const [kept] = await insertedIds(driver, {
        jobs: [job({ queue: 'limited' })],
        maxPendingByQueue: limits,
        executor: client,
      });
      const refused = await driver.jobInsertMany({
        jobs: [job({ queue: 'other' }), job({ queue: 'limited' })],
        maxPendingByQueue: limits,
        executor: client,
      });
      assert.deepEqual(refused, { queueFull: { queue: 'limited', maxPending: 1, pending: 1, adding: 1 } });
      await client.query('COMMIT');
      assert.equal((await driver.jobGet({ id: kept! }))?.state, 'pending');
      assert.deepEqual(await driver.jobCountByState({ queues: ['other'] }), {
        blocked: 0,
        scheduled: 0,
        pending: 0,
        running: 0,
        completed: 0,
        abandoned: 0,
        cancelled: 0,
      });
    } finally {
      client.release();
    }
  });

  it('a limited insert on a client outside any transaction says to BEGIN first', async (t) => {
    const { driver, url, cleanup } = await openTestDriver();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    t.after(async () => {
      await client.end();
      await cleanup();
    });
    await assert.rejects(
      driver.jobInsertMany({ jobs: [job()], maxPendingByQueue: new Map([['default', 5]]), executor: client }),
      (err: unknown) => err instanceof StorageError && /BEGIN/.test(err.message),
    );
  });

  it('refuses a pool or a non-client as the transaction (the option named as callers write it)', async (t) => {
    const { driver, url, cleanup } = await openTestDriver();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    t.after(async () => {
      await pool.end();
      await cleanup();
    });
    for (const executor of [pool, {}, 'BEGIN']) {
      await assert.rejects(
        driver.jobInsertMany({ jobs: [job()], executor }),
        (err: unknown) => err instanceof InvalidOptionError && err.field === 'transaction',
      );
    }
  });

  it('through the client API, with a pool running: a committed job runs, a rolled-back one never exists', async (t) => {
    const opened = await openTestDriver();
    const { url, cleanup } = opened;
    const claims = watchCalls(opened.driver, 'jobClaim');
    const driver = claims.driver;
    const ran: string[] = [];
    const charge = defineTask<{ order: string }>({
      name: 'charge',
      handler: async ({ order }) => {
        ran.push(order);
        return `charged ${order}`;
      },
    });
    const jobwire = await createJobwire({ driver, tasks: [charge], migrate: false });
    const appPool = new pg.Pool({ connectionString: url, max: 2 });
    t.after(async () => {
      await workers.stop();
      await jobwire.close();
      await appPool.end();
      await cleanup();
    });
    const workers = jobwire.createPool({ concurrency: 2, handleSignals: false, pollIntervalMs: 20 });
    await workers.start();

    // The application's own write and the job commit together.
    const db = await appPool.connect();
    await db.query('CREATE TEMP TABLE orders (id text)');
    await db.query('BEGIN');
    await db.query("INSERT INTO orders VALUES ('o-1')");
    const committed = await jobwire.enqueue(charge, { order: 'o-1' }, { executor: db });
    await db.query('COMMIT');
    assert.equal(await jobwire.waitForJob(committed.id, { timeoutMs: 10_000 }), 'charged o-1');

    // Rolled back: the job never existed, and nothing runs it.
    await db.query('BEGIN');
    await db.query("INSERT INTO orders VALUES ('o-2')");
    const [rolledBack] = await jobwire.enqueueMany([{ task: charge, payload: { order: 'o-2' } }], {
      executor: db,
    });
    await db.query('ROLLBACK');
    db.release();
    assert.equal(await jobwire.getJob(rolledBack!.id), undefined);
    await workers.whenIdle();
    // A claim round that began after the rollback finds nothing to run.
    assert.deepEqual(await claims.nextCall(), []);
    await workers.whenIdle();
    assert.deepEqual(ran, ['o-1']);
    assert.equal((await jobwire.countJobs()).completed, 1);
  });
});
