/**
 * SQLite reads unique keys through their partial indexes. Schema 17 wrote the indexes' state
 * conditions as equalities (an IN list of more than two constants cost a temporary index on every
 * claim and finalize of a job with a unique key), and SQLite uses a partial index only for a query
 * that names its condition: these tests read the plans of the exact statements the driver runs.
 * A query left in the IN form would scan the table (or take another index) instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RETRY_JOB_SQL } from '../src/drivers/sqlite/admin.js';
import {
  ACTIVE_BY_UNIQUE_KEY_SQL,
  activeStateSql,
  FINISHED_BY_UNIQUE_KEY_SQL,
  finishedStateSql,
} from '../src/drivers/sqlite/context.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

describe('sqlite: unique keys through their partial indexes', () => {
  let dir: string;
  let db: Database.Database;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobwire-unique-plans-'));
    const driver = sqliteDriver({ path: join(dir, 'plans.db') });
    await driver.migrate();
    await driver.close();
    db = new Database(join(dir, 'plans.db'));
  });

  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (sql: string, ...args: unknown[]): string[] =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);

  it('the indexes are partial on exactly the conditions the queries name', () => {
    const indexSql = (name: string) =>
      db
        .prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`)
        .pluck()
        .get(name) as string;
    assert.ok(indexSql('jobwire_jobs_unique_key').includes(activeStateSql()));
    assert.ok(indexSql('jobwire_jobs_unique_key_finished').includes(finishedStateSql()));
  });

  it('the active holder of a key is found through jobwire_jobs_unique_key', () => {
    const detail = plan(ACTIVE_BY_UNIQUE_KEY_SQL, 'k');
    assert.deepEqual(detail, ['SEARCH jobwire_jobs USING INDEX jobwire_jobs_unique_key (unique_key=?)']);
  });

  it('finished holders are found through jobwire_jobs_unique_key_finished', () => {
    const detail = plan(FINISHED_BY_UNIQUE_KEY_SQL, 'k', 0);
    assert.match(
      detail[0] ?? '',
      /^SEARCH jobwire_jobs USING INDEX jobwire_jobs_unique_key_finished \(unique_key=\? AND finished_at>\?\)/,
      detail.join(' | '),
    );
  });

  it("a retry checks the key's active holder through jobwire_jobs_unique_key", () => {
    const detail = plan(RETRY_JOB_SQL, 0, 1);
    assert.ok(
      detail.some((d) =>
        /^SEARCH other USING (COVERING )?INDEX jobwire_jobs_unique_key \(unique_key=\?\)/.test(d),
      ),
      detail.join(' | '),
    );
  });
});
