/**
 * Numbered schema migrations, recorded in `jobwire_migrations`.
 *
 * They run inside one IMMEDIATE transaction: a second process migrating at the same moment waits
 * for the write lock, then sees the versions the first one recorded and applies nothing.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { SchemaVersionError } from '../../../core/errors.js';
import type { MigrationResult, SchemaVersion } from '../../../driver/driver.js';
import { MIGRATION_0001_INITIAL } from './0001-initial.js';
import { MIGRATION_0002_INTERRUPTIONS_AND_LIVENESS } from './0002-interruptions-and-liveness.js';
import { MIGRATION_0003_TASKS } from './0003-tasks.js';
import { MIGRATION_0004_POOLS } from './0004-pools.js';
import { MIGRATION_0005_HEALTH } from './0005-health.js';
import { MIGRATION_0006_EVENT_LOG } from './0006-event-log.js';
import { MIGRATION_0007_SCHEDULES } from './0007-schedules.js';
import { MIGRATION_0008_FLOW } from './0008-flow.js';
import { MIGRATION_0009_DEDUP } from './0009-dedup.js';
import { migration0010Dependencies } from './0010-dependencies.js';
import { MIGRATION_0011_FINISHED_BY_STATE } from './0011-finished-by-state.js';
import { MIGRATION_0012_FLOW_HOLDS } from './0012-flow-holds.js';
import { MIGRATION_0013_BOUNDED_STATS } from './0013-bounded-stats.js';
import { MIGRATION_0014_EVENT_INDEX_BATCHES } from './0014-event-index-batches.js';
import { MIGRATION_0015_FLOW_KEY_MARKS } from './0015-flow-key-marks.js';
import { migration0016StateCheck } from './0016-state-check.js';
import { MIGRATION_0017_UNIQUE_KEY_PREDICATES } from './0017-unique-key-predicates.js';
import { MIGRATION_0018_EVENT_IDS_WITHOUT_AUTOINCREMENT } from './0018-event-ids-without-autoincrement.js';

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
  { version: 10, name: 'dependencies', sql: migration0010Dependencies },
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
];

/** The schema version this code writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

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
    const row = db.prepare('SELECT max(version) AS v FROM jobwire_migrations').get() as { v: number | null };
    const from = row.v ?? 0;
    if (from > LATEST_VERSION) {
      throw new SchemaVersionError(
        `The database ${path} has schema version ${from}, but this version of jobwire knows only up to ` +
          `version ${LATEST_VERSION}. A newer jobwire migrated it: upgrade jobwire.`,
      );
    }
    const record = db.prepare('INSERT INTO jobwire_migrations (version, applied_at) VALUES (?, ?)');
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      db.exec(typeof migration.sql === 'string' ? migration.sql : migration.sql(db));
      record.run(migration.version, now());
      applied.push(migration.version);
    }
    return { from, to: applied.length ? applied[applied.length - 1]! : from, applied };
  });
  return run.immediate();
}

/** The stored schema version, read without a write lock (`Driver.schemaVersion`). */
export function sqliteSchemaVersion(db: BetterSqlite3.Database): SchemaVersion {
  if (!tableExists(db, 'jobwire_migrations')) return { current: 0, latest: LATEST_VERSION };
  const row = db.prepare('SELECT max(version) AS v FROM jobwire_migrations').get() as { v: number | null };
  return { current: row.v ?? 0, latest: LATEST_VERSION };
}
