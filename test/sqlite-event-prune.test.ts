/**
 * SQLite's event-log prune by age on a long log. The log's `at` has no index (it would be one more
 * write per transaction on the hot path), and a prune used to find its end with
 * `max(id) WHERE at < ?` — a read of the whole log on the event loop's thread, every minute,
 * even with nothing to remove (~0.5 s at a million rows, bench/results/2026-12-01-large-tables.md).
 * It now looks only at the oldest `limit` rows, the most one call may remove, and stops at the
 * first row still inside the retention. These tests check what that means for what is removed
 * and for the pruning mark (which says which cursors are expired), never time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Driver } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;
const OLD = NOW - 10 * DAY;
const YOUNG = NOW - DAY;
/** What the pruner asks for with a 7-day retention. */
const BEFORE = NOW - 7 * DAY;

describe('sqlite event-log prune by age', () => {
  let dir: string;
  let driver: Driver;
  let db: Database.Database;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwire-event-prune-'));
    driver = sqliteDriver({ path: join(dir, 'log.db') });
    await driver.migrate();
    db = new Database(join(dir, 'log.db'));
  });

  after(async () => {
    db?.close();
    await driver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    db.exec('DELETE FROM jobwire_events; UPDATE jobwire_event_state SET pruned_through = 0');
  });

  /** Appends rows written at the given times, in this order (ids grow); returns their ids. */
  function write(...times: number[]): number[] {
    const insert = db.prepare("INSERT INTO jobwire_events (at, entries) VALUES (?, '[]') RETURNING id");
    return times.map((at) => (insert.get(at) as { id: number }).id);
  }
  const ids = () =>
    (db.prepare('SELECT id FROM jobwire_events ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  const mark = () =>
    (db.prepare('SELECT pruned_through AS n FROM jobwire_event_state').get() as { n: number }).n;

  it('one call looks no further than the rows it may remove: the mark moves by at most `limit` rows', async () => {
    const old = write(...Array.from({ length: 30 }, () => OLD));
    const young = write(YOUNG, YOUNG, YOUNG);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 10 }), 10);
    assert.equal(mark(), old[9], 'the mark names the last row removed, not the last old row of the log');
    assert.deepEqual(ids(), [...old.slice(10), ...young]);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 10 }), 10);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 10 }), 10);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 10 }), 0);
    assert.deepEqual(ids(), young);
    assert.equal(mark(), old[29]);
  });

  it('nothing old enough: nothing removed and the mark stays', async () => {
    const young = write(YOUNG, YOUNG, YOUNG, NOW);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 5000 }), 0);
    assert.deepEqual(ids(), young);
    assert.equal(mark(), 0);
  });

  it('a row stamped by a clock running behind does not take the younger rows before it along', async () => {
    const old = write(OLD, OLD);
    const rest = write(YOUNG, YOUNG, OLD, YOUNG);
    assert.equal(await driver.eventPrune({ before: BEFORE, limit: 5000 }), 2);
    assert.deepEqual(ids(), rest);
    assert.equal(mark(), old[1]);
  });

  it('maxRows still removes the oldest rows beyond the count, whatever their age', async () => {
    const rows = write(YOUNG, YOUNG, YOUNG, YOUNG, YOUNG);
    assert.equal(await driver.eventPrune({ before: BEFORE, maxRows: 2, limit: 5000 }), 3);
    assert.deepEqual(ids(), rows.slice(3));
  });
});
