/**
 * Numbered schema migrations, recorded in `jobwire_migrations`.
 *
 * They run inside one IMMEDIATE transaction: a second process migrating at the same moment waits
 * for the write lock, then sees the versions the first one recorded and applies nothing.
 *
 * Every known version the file has not recorded is applied, not only those above its highest:
 * branches merged out of order gave released builds numbered gaps (1–7 and 9 from the dedup
 * merge, then 11 from the counts merge, before flow control's 8 and dependencies' 10 landed), so
 * a file one of them created lacks 8 and/or 10 while its highest version is 9 or 11. Skipping them
 * failed the upgrade (`no such table: jobwire_flow_keys`) or, from 1–9 and 11, recorded 18 with
 * no dependency columns, and every claim failed.
 *
 * After them, `REPAIRS` bring a file up to the migrations as they read now where a released one
 * was edited afterwards; each looks at the catalog and does nothing once its change is there.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { SchemaVersionError } from '../../../core/errors.js';
import type { MigrationResult, SchemaVersion } from '../../../driver/driver.js';
import { recordedSchemaVersion } from '../../../driver/schema-version.js';
import { MIGRATION_0001_INITIAL } from './0001-initial.js';
import { MIGRATION_0002_INTERRUPTIONS_AND_LIVENESS } from './0002-interruptions-and-liveness.js';
import { MIGRATION_0003_TASKS } from './0003-tasks.js';
import { MIGRATION_0004_POOLS } from './0004-pools.js';
import { MIGRATION_0005_HEALTH } from './0005-health.js';
import { MIGRATION_0006_EVENT_LOG } from './0006-event-log.js';
import { MIGRATION_0007_SCHEDULES } from './0007-schedules.js';
import { MIGRATION_0008_FLOW } from './0008-flow.js';
import { MIGRATION_0009_DEDUP } from './0009-dedup.js';
import { migration0010Dependencies, STATE_CHECK } from './0010-dependencies.js';
import { MIGRATION_0011_FINISHED_BY_STATE } from './0011-finished-by-state.js';
import { MIGRATION_0012_FLOW_HOLDS } from './0012-flow-holds.js';
import { MIGRATION_0013_BOUNDED_STATS } from './0013-bounded-stats.js';
import { MIGRATION_0014_EVENT_INDEX_BATCHES } from './0014-event-index-batches.js';
import { MIGRATION_0015_FLOW_KEY_MARKS } from './0015-flow-key-marks.js';
import { migration0016StateCheck } from './0016-state-check.js';
import { MIGRATION_0017_UNIQUE_KEY_PREDICATES } from './0017-unique-key-predicates.js';
import { MIGRATION_0018_EVENT_IDS_WITHOUT_AUTOINCREMENT } from './0018-event-ids-without-autoincrement.js';
import { MIGRATION_0019_DELETED_COMPLETIONS } from './0019-deleted-completions.js';
import { rebuildJobsTableSql } from './rebuild-jobs.js';

/**
 * One schema step. Versions are consecutive from 1 and never edited once released. `sql` is
 * the SQL, or a function building it from the database as it is (a table rebuild that must
 * keep what other migrations added).
 */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string | ((db: BetterSqlite3.Database) => string);
}

/** Every migration this code knows, in order. */
export const MIGRATIONS: readonly SqliteMigration[] = [
  { version: 1, name: 'initial', sql: MIGRATION_0001_INITIAL },
  { version: 2, name: 'interruptions and liveness', sql: MIGRATION_0002_INTERRUPTIONS_AND_LIVENESS },
  { version: 3, name: 'tasks', sql: MIGRATION_0003_TASKS },
  { version: 4, name: 'pools', sql: MIGRATION_0004_POOLS },
  { version: 5, name: 'health', sql: MIGRATION_0005_HEALTH },
  { version: 6, name: 'event log', sql: MIGRATION_0006_EVENT_LOG },
  { version: 7, name: 'schedules', sql: MIGRATION_0007_SCHEDULES },
  { version: 8, name: 'flow control', sql: MIGRATION_0008_FLOW },
  { version: 9, name: 'dedup', sql: MIGRATION_0009_DEDUP },
  { version: 10, name: 'dependencies', sql: dependenciesAfterAnyGap },
  { version: 11, name: 'finished jobs by state', sql: MIGRATION_0011_FINISHED_BY_STATE },
  { version: 12, name: 'flow holds', sql: MIGRATION_0012_FLOW_HOLDS },
  { version: 13, name: 'bounded queue stats', sql: MIGRATION_0013_BOUNDED_STATS },
  { version: 14, name: 'event index in batches', sql: MIGRATION_0014_EVENT_INDEX_BATCHES },
  { version: 15, name: 'flow key marks without triggers', sql: MIGRATION_0015_FLOW_KEY_MARKS },
  { version: 16, name: 'state check without an IN list', sql: migration0016StateCheck },
  {
    version: 17,
    name: 'unique-key index conditions without IN lists',
    sql: MIGRATION_0017_UNIQUE_KEY_PREDICATES,
  },
  {
    version: 18,
    name: 'event ids without AUTOINCREMENT',
    sql: MIGRATION_0018_EVENT_IDS_WITHOUT_AUTOINCREMENT,
  },
  { version: 19, name: 'deleted completions', sql: MIGRATION_0019_DELETED_COMPLETIONS },
];

/** The schema version this code writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Schema 16's state CHECK, a chain of equalities (`state = 'a' OR state = 'b' …`). */
const STATE_CHAIN = /CHECK\s*\(\s*(state\s*=\s*'[a-z]+'(?:\s+OR\s+state\s*=\s*'[a-z]+')*)\s*\)/i;

/**
 * Schema 10 (0010-dependencies.ts), also on a file that already has 16: a build that skipped
 * gaps migrated a 1–9-and-11 file to 18 without it, and 16 had turned the state list that 10
 * extends into a chain. There the list is put back, 10 applied, and 16's rewrite made again (three
 * rebuilds of jobwire_jobs, once, on such a file only).
 */
function dependenciesAfterAnyGap(db: BetterSqlite3.Database): string {
  const table = db
    .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobwire_jobs'`)
    .pluck()
    .get() as string;
  if (STATE_CHECK.test(table) || !STATE_CHAIN.test(table)) return migration0010Dependencies(db);
  db.exec(
    rebuildJobsTableSql(db, (sql) =>
      sql.replace(
        STATE_CHAIN,
        (_, chain: string) => `CHECK (state IN (${chain.match(/'[a-z]+'/g)!.join(', ')}))`,
      ),
    ),
  );
  db.exec(migration0010Dependencies(db));
  return migration0016StateCheck(db);
}

/**
 * A released migration that was edited afterwards, as a change to the files it had already
 * made: `needed` reads the catalog, `sql` makes the change. Run after the numbered migrations,
 * in the same transaction.
 */
interface SqliteRepair {
  name: string;
  needed: (db: BetterSqlite3.Database) => boolean;
  sql: string;
}

function schemaObjectExists(db: BetterSqlite3.Database, type: 'index' | 'trigger', name: string): boolean {
  return db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get(type, name) !== undefined;
}

export const REPAIRS: readonly SqliteRepair[] = [
  {
    // Schema 1 as first released (b3f950b) indexed (state, queue, id); it now creates the partial
    // index of running jobs instead, which listing, counts and health name in INDEXED BY: on a
    // file without it they failed with `no such index: jobwire_jobs_running`.
    name: 'schema 1: running-jobs index instead of the state index',
    needed: (db) => !schemaObjectExists(db, 'index', 'jobwire_jobs_running'),
    sql: `DROP INDEX IF EXISTS jobwire_jobs_state;
CREATE INDEX jobwire_jobs_running ON jobwire_jobs (lease_expires_at) WHERE state = 'running';`,
  },
  {
    // Schema 15 as first released (77f877e) dropped only the update trigger of schema 8; it now
    // drops the insert trigger too (inserts mark their key themselves).
    name: 'schema 15: flow-key insert trigger dropped',
    needed: (db) => schemaObjectExists(db, 'trigger', 'jobwire_flow_key_inserted'),
    sql: 'DROP TRIGGER jobwire_flow_key_inserted;',
  },
];

function tableExists(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/**
 * Bring the schema up to `LATEST_VERSION`. Refuses a database whose schema is newer than this
 * code, or whose jobwire tables were not created by jobwire's migrations.
 */
export function migrateSqlite(db: BetterSqlite3.Database, path: string, now: () => number): MigrationResult {
  const run = db.transaction((): MigrationResult => {
    if (!tableExists(db, 'jobwire_migrations')) {
      if (tableExists(db, 'jobwire_jobs')) {
        throw new SchemaVersionError(
          `The database ${path} has a jobwire_jobs table that was not created by jobwire ` +
            '(there is no jobwire_migrations table). Use another file, or rename that table.',
        );
      }
      db.exec(
        'CREATE TABLE jobwire_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
      );
    }
    const recorded = new Set(db.prepare('SELECT version FROM jobwire_migrations').pluck().all() as number[]);
    const from = currentVersion(recorded);
    if (from > LATEST_VERSION) {
      throw new SchemaVersionError(
        `The database ${path} has schema version ${from}, but this version of jobwire knows only up to ` +
          `version ${LATEST_VERSION}. A newer jobwire migrated it: upgrade jobwire.`,
      );
    }
    const record = db.prepare('INSERT INTO jobwire_migrations (version, applied_at) VALUES (?, ?)');
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (recorded.has(migration.version)) continue;
      db.exec(typeof migration.sql === 'string' ? migration.sql : migration.sql(db));
      record.run(migration.version, now());
      applied.push(migration.version);
    }
    for (const repair of REPAIRS) if (repair.needed(db)) db.exec(repair.sql);
    return { from, to: currentVersion(new Set([...recorded, ...applied])), applied };
  });
  return run.immediate();
}

/** The version `recorded` amounts to (see `recordedSchemaVersion`). */
export function currentVersion(recorded: ReadonlySet<number>): number {
  return recordedSchemaVersion(recorded, MIGRATIONS);
}

/** The stored schema version, read without a write lock (`Driver.schemaVersion`). */
export function sqliteSchemaVersion(db: BetterSqlite3.Database): SchemaVersion {
  if (!tableExists(db, 'jobwire_migrations')) return { current: 0, latest: LATEST_VERSION };
  const recorded = new Set(db.prepare('SELECT version FROM jobwire_migrations').pluck().all() as number[]);
  return { current: currentVersion(recorded), latest: LATEST_VERSION };
}
