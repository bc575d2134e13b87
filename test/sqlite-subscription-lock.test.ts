/**
 * A durable subscription's stored position on SQLite, while another connection holds the write
 * lock for a moment: the store waits for it like every other write, and a failure is a typed
 * StorageError. It ran bare, so a brief lock (a checkpoint, another process's commit) failed it
 * with a raw `SqliteError: database is locked` and the subscriber handled the batch again (12
 * times in a 38-minute soak, each a duplicate webhook delivery).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

test('advancing a subscription waits for a lock another connection holds briefly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-sub-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'sub.db');
  const driver = sqliteDriver({ path });
  await driver.migrate();
  t.after(() => driver.close());
  const other = new Database(path);
  t.after(() => other.close());
  assert.equal(await driver.eventSubscriptionAdvance({ name: 's', from: null, to: 'a' }), true);

  // The handler's work ends while another connection holds the write lock for 300 ms.
  let released: Promise<void> | undefined;
  const advanced = await driver.eventSubscriptionAdvance({
    name: 's',
    from: 'a',
    to: 'b',
    work: async () => {
      other.prepare('BEGIN IMMEDIATE').run();
      released = new Promise((resolve) =>
        setTimeout(() => {
          other.prepare('COMMIT').run();
          resolve();
        }, 300),
      );
    },
  });
  await released;
  assert.equal(advanced, true);
  assert.equal(await driver.eventSubscriptionGet({ name: 's' }), 'b');
});
