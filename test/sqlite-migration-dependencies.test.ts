/**
 * Schema 10 on a SQLite file that already holds jobs: the table rebuild that adds the `blocked`
 * state keeps every row, column, index and the AUTOINCREMENT high-water mark (a deleted newest
 * job's id is never handed out again).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrateSqlite } from '../src/drivers/sqlite/migrations/index.js';

test('migration 10 rebuilds jobwire_jobs without losing rows, indexes or the id high-water mark', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-mig10-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'old.db'));
  t.after(() => db.close());
  // The schema as it was before 10.
  db.exec(
    'CREATE TABLE jobwire_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
  );
  for (const m of MIGRATIONS.filter((m) => m.version < 10)) {
    db.exec(m.sql as string);
    db.prepare('INSERT INTO jobwire_migrations VALUES (?, 0)').run(m.version);
  }
  const insert = db.prepare(
    `INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
     VALUES ('t', 'q', '{"n":1}', ?, 3, 0, 0, 'c') RETURNING id`,
  );
  for (const state of ['pending', 'completed', 'scheduled', 'cancelled']) insert.run(state);
  db.prepare('DELETE FROM jobwire_jobs WHERE id = 4').run();
  const indexes = () =>
    (
      db
        .prepare(
          `SELECT name, sql FROM sqlite_master WHERE tbl_name = 'jobwire_jobs' AND type = 'index' ORDER BY name`,
        )
        .all() as {
        name: string;
        sql: string | null;
      }[]
    ).filter((i) => i.sql !== null);
  const before = indexes();
  const triggersBefore = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE tbl_name = 'jobwire_jobs' AND type = 'trigger' ORDER BY name`,
    )
    .all();
  assert.ok(triggersBefore.length > 0, 'migration 8 made triggers on jobwire_jobs');
  const rowsBefore = db.prepare('SELECT * FROM jobwire_jobs ORDER BY id').all();

  const result = migrateSqlite(db, 'old.db', () => 0);
  // 11 runs after it and rebuilds the finished-jobs index with a new key (state first); 12 adds
  // columns to the flow tables only; 13 adds the waiting-jobs indexes of queueStats; 14 adds
  // columns to the event log's tables only; 15 drops flow control's triggers (the writes that make
  // a job wait mark its key themselves); 16 rebuilds the table again with the state CHECK written
  // as equalities; 17 creates the unique-key indexes again with their conditions so written; 18
  // rebuilds the event log's table only; 19 adds the deleted completions' counts.
  assert.deepEqual(result.applied, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const changedBy11 = 'jobwire_jobs_finished';
  const addedBy13 = /^jobwire_jobs_waiting/;
  const after = indexes();
  const changedBy17 = ['jobwire_jobs_unique_key', 'jobwire_jobs_unique_key_finished'];
  const unchanged = (i: { name: string }) => i.name !== changedBy11 && !changedBy17.includes(i.name);
  assert.deepEqual(
    after.filter((i) => unchanged(i) && !addedBy13.test(i.name)),
    before.filter(unchanged),
    'every index is back, with the same definition',
  );
  for (const name of changedBy17) {
    const sql = after.find((i) => i.name === name)?.sql ?? '';
    assert.match(
      sql,
      /WHERE unique_key IS NOT NULL AND \(state = '\w+' OR state = '\w+' OR state = '\w+'\)$/,
    );
  }
  assert.deepEqual(
    after.filter((i) => addedBy13.test(i.name)).map((i) => i.name),
    ['jobwire_jobs_waiting', 'jobwire_jobs_waiting_failed', 'jobwire_jobs_waiting_interrupted'],
  );
  assert.match(after.find((i) => i.name === changedBy11)?.sql ?? '', /\(state, finished_at, queue\)/);
  const triggers = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE tbl_name = 'jobwire_jobs' AND type = 'trigger' ORDER BY name`,
    )
    .all();
  assert.deepEqual(triggers, [], "15 dropped flow control's triggers; the rebuild kept no other");
  const rowsAfter = db.prepare('SELECT * FROM jobwire_jobs ORDER BY id').all() as Record<string, unknown>[];
  assert.deepEqual(
    rowsAfter.map(({ dependencies_waiting, dependents, ...rest }) => {
      assert.equal(dependencies_waiting, 0);
      assert.equal(dependents, 0);
      return rest;
    }),
    rowsBefore,
  );
  insert.run('blocked');
  const newest = db.prepare('SELECT max(id) AS id FROM jobwire_jobs').get() as { id: number };
  assert.equal(newest.id, 5, 'id 4 (deleted before the rebuild) is not reused');
  assert.throws(() => insert.run('nonsense'), /CHECK constraint failed/);
  // 16: the same states, as equalities (an IN list of constants built a temporary index per row).
  const ddl = db
    .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobwire_jobs'`)
    .pluck()
    .get() as string;
  assert.doesNotMatch(ddl, /state\s+IN\s*\(/i);
  assert.match(
    ddl,
    /CHECK \(state = 'blocked' OR state = 'scheduled' OR state = 'pending' OR state = 'running'/,
  );
  for (const state of ['scheduled', 'pending', 'running', 'completed', 'abandoned', 'cancelled'])
    insert.run(state);
  // Running it again changes nothing.
  assert.deepEqual(migrateSqlite(db, 'old.db', () => 0).applied, []);
});
