/**
 * PostgreSQL: finishing a job that has dependents while another transaction adds one more.
 * The finalize of such a job runs in a transaction that first locks the job's row, so its
 * statement starts after the insert that bumped the job's `dependents` committed. Without that
 * lock (it was skipped for a single job) the statement read the old count, its UPDATE re-checked
 * the new one and refused the item: the pool took the job for lost, and it ran again once its
 * lease expired (seen as "job ran 2 times" in test/dependency-processes.test.ts under load).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import pg from 'pg';
import { claim, jobParams, LEASE_MS, T0, WORKER } from '../src/driver/conformance/harness.js';
import { getAdminPool, openTestDriver, waitFor } from './support/postgres.js';

it('a job finished while a dependent is being added to it in another transaction is finished once', async (t) => {
  const { driver, url, cleanup } = await openTestDriver();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  t.after(async () => {
    await pool.end();
    await cleanup();
  });
  const inserted = async (params: Parameters<typeof driver.jobInsertMany>[0]) => {
    const result = await driver.jobInsertMany(params);
    assert.ok('inserted' in result);
    return result.inserted.map((r) => r.job);
  };
  const [parent] = await inserted({ jobs: [jobParams({ queue: 'race' })], now: T0 });
  await inserted({
    jobs: [jobParams({ queue: 'race', dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' }] })],
    now: T0,
  });
  const [claimed] = await claim(driver, {
    queues: ['race'],
    limit: 1,
    leaseMs: LEASE_MS,
    poolId: WORKER,
    now: T0,
  });
  assert.equal(claimed?.id, parent!.id);
  assert.equal(claimed?.dependents, 1);

  // A caller's open transaction adds a second dependent: it locks the parent and bumps its count.
  const client = await pool.connect();
  await client.query('BEGIN');
  await inserted({
    jobs: [jobParams({ queue: 'race', dependsOn: [{ jobId: parent!.id, onFailure: 'cancel' }] })],
    executor: client,
    now: T0,
  });
  const finishing = driver.jobFinalizeMany({
    items: [
      {
        id: parent!.id,
        leaseToken: claimed!.leaseToken,
        outcome: 'completed',
        resultJson: '{"ok":true}',
        hasDependents: true,
      },
    ],
    now: T0 + 10,
  });
  finishing.catch(() => {});
  // The finalize waits for the caller's lock on the parent; then the caller commits.
  const admin = await getAdminPool();
  await waitFor('the finalize to wait for the row lock', async () => {
    const { rows } = await admin.query(
      `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%jobs%' AND pid <> pg_backend_pid()`,
    );
    return rows.length > 0;
  });
  await client.query('COMMIT');
  client.release();

  const [result] = await finishing;
  assert.equal(result?.applied, true, 'the finalize applied: the job is not taken for lost');
  assert.equal((await driver.jobGet({ id: parent!.id }))?.state, 'completed');
  // Both dependents became due in the finalize's transaction.
  const waiting = (await driver.jobList({ queues: ['race'], limit: 10 })).jobs.filter(
    (j) => j.id !== parent!.id,
  );
  assert.deepEqual(
    waiting.map((j) => j.state),
    ['pending', 'pending'],
  );
});
