/**
 * SQLite's event-log row ids without AUTOINCREMENT (schema 18): SQLite then draws max(id) + 1, so
 * the ids must keep growing through a rebuild of the table and through pruning, or a reader whose
 * cursor is past a pruned row would silently skip the next rows (their ids at or below its
 * cursor). The migration keeps every row and the highest id drawn; the prune empties the newest
 * row instead of deleting it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { MIGRATIONS, migrateSqlite } from '../src/drivers/sqlite/migrations/index.js';

const NOW = Date.UTC(2030, 0, 1);
const OLD = NOW - 10 * 86_400_000;

/** A database at schema 17 (the log's ids drawn with AUTOINCREMENT). */
function schema17(path: string): Database.Database {
  const db = new Database(path);
  db.exec(
    'CREATE TABLE jobwire_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
  );
  for (const m of MIGRATIONS.filter((m) => m.version <= 17)) {
    db.exec(typeof m.sql === 'string' ? m.sql : m.sql(db));
    db.prepare('INSERT INTO jobwire_migrations VALUES (?, 0)').run(m.version);
  }
  return db;
}

const tableSql = (db: Database.Database) =>
  (db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'jobwire_events'`).get() as { sql: string }).sql;
const rows = (db: Database.Database) => db.prepare('SELECT * FROM jobwire_events ORDER BY id').all();
const append = (db: Database.Database) =>
  (
    db.prepare(`INSERT INTO jobwire_events (at, entries) VALUES (${NOW}, '[]') RETURNING id`).get() as {
      id: number;
    }
  ).id;

test('migration 18 keeps every event row and id, and the next id is above all of them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-mig18-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = schema17(join(dir, 'log.db'));
  t.after(() => db.close());
  assert.match(tableSql(db), /AUTOINCREMENT/);
  const insert = db.prepare('INSERT INTO jobwire_events (at, entries, job_lo, job_hi) VALUES (?, ?, ?, ?)');
  insert.run(OLD, '[{"type":"a","data":{}}]', 1, 3);
  insert.run(OLD, '[{"type":"b","data":{}}]', null, null);
  insert.run(NOW, '[{"type":"c","data":{}}]', 4, 4);
  db.prepare('DELETE FROM jobwire_events WHERE id = 1').run();
  const before = rows(db);

  assert.deepEqual(migrateSqlite(db, 'log.db', () => 0).applied, [18, 19]);
  assert.doesNotMatch(tableSql(db), /AUTOINCREMENT/);
  assert.deepEqual(rows(db), before, 'the same rows, ids and columns');
  assert.equal(append(db), 4);
});

test('migration 18 of a log pruned empty keeps its highest id as an empty row', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-mig18-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = schema17(join(dir, 'log.db'));
  t.after(() => db.close());
  for (let i = 0; i < 5; i++) append(db);
  db.exec('DELETE FROM jobwire_events; UPDATE jobwire_event_state SET pruned_through = 5');

  migrateSqlite(db, 'log.db', () => 0);
  assert.deepEqual(rows(db), [{ id: 5, at: 0, entries: '[]', job_lo: null, job_hi: null }]);
  assert.equal(append(db), 6, 'without that row SQLite would draw 1, behind every cursor');
});

test('a prune that reaches the newest row empties it, and the next event still comes after every cursor', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-eventids-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const driver = sqliteDriver({ path: join(dir, 'log.db') });
  t.after(() => driver.close());
  await driver.migrate();
  const entry = (n: number) => ({ type: 'test:event', data: { n } });
  for (let n = 1; n <= 3; n++) await driver.eventAppend({ entries: [entry(n)] });
  const { cursor } = await driver.eventRead({ after: null, limit: 10 });

  // Everything is old enough: all rows go, the newest by being emptied (it counts as removed).
  assert.equal(await driver.eventPrune({ before: Date.now() + 60_000, limit: 100 }), 3);
  assert.equal(await driver.eventPrune({ before: Date.now() + 60_000, limit: 100 }), 0, 'emptied once');
  assert.deepEqual((await driver.eventRead({ after: cursor, limit: 10 })).events, []);

  await driver.eventAppend({ entries: [entry(4)] });
  const read = await driver.eventRead({ after: cursor, limit: 10 });
  assert.deepEqual(
    read.events.map((e) => e.data),
    [{ n: 4 }],
    'the event written after the prune is read from the cursor taken before it',
  );
});

test('a prune limited to fewer rows than are old leaves the newest row to a later call', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-eventids-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const driver = sqliteDriver({ path: join(dir, 'log.db') });
  t.after(() => driver.close());
  await driver.migrate();
  for (let n = 1; n <= 3; n++) await driver.eventAppend({ entries: [{ type: 'test:event', data: { n } }] });
  const before = Date.now() + 60_000;
  assert.equal(await driver.eventPrune({ before, limit: 2 }), 2);
  assert.equal(await driver.eventPrune({ before, limit: 2 }), 1);
  assert.equal(await driver.eventPrune({ before, limit: 2 }), 0);
});
