/**
 * PostgreSQL event-log ticks under failure: a reader's tick is taken on a connection checked out
 * of the pool, where no pool listens for its errors. A connection killed while the tick waits
 * must fail that read with a StorageError — not crash the process with an unhandled 'error'
 * event (which killed a worker process during a database outage: its leader pruned the log).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorageError } from '../src/core/errors.js';
import { getAdminPool, openTestDriver, waitFor } from './support/postgres.js';

test('a tick whose connection is killed fails the read with StorageError and the process lives on', async (t) => {
  const { driver, schema, cleanup } = await openTestDriver();
  t.after(cleanup);
  const admin = await getAdminPool();
  // Hold the tick lock, so the reader's tick waits on it with its connection checked out.
  const holder = await admin.connect();
  t.after(() => holder.release());
  await holder.query('BEGIN');
  await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('jobwire:event-ticks:${schema}', 0))`);
  const head = driver.eventHead();
  // Handled from the start: the kill below can reject it before `assert.rejects` is reached, and
  // an unhandled rejection in between would fail the test for the wrong reason.
  head.catch(() => {});
  const waiting = await waitFor('the tick to wait for the lock', async () => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%event_ticks%'
       AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.pid;
  });
  await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
  await assert.rejects(head, StorageError);
  await holder.query('ROLLBACK');
  // The driver still works: the next read takes its tick on another connection.
  assert.match(await driver.eventHead(), /^p1\.\d+$/);
});
