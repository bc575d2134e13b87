/**
 * Numbered schema migrations, recorded in `<schema>.migrations`.
 *
 * All of them run in one transaction that first takes a transaction-scoped advisory lock keyed
 * on the schema: processes that start at the same moment queue up behind it, and each later
 * one finds the versions the first recorded and applies nothing.
 *
 * Every known version the schema has not recorded is applied, not only those above its highest:
 * branches merged out of order gave released builds numbered gaps (1–7 and 9 from the dedup
 * merge, then 11 from the counts merge, before flow control's 8 and dependencies' 10 landed), so
 * a schema one of them created lacks 8 and/or 10 while its highest version is 9 or 11. Skipping
 * them failed the upgrade (`relation "flow_keys" does not exist`) or, from 1–9 and 11, recorded
 * 16 with no dependency columns, and every claim failed.
 *
 * After them, `repairSchema` brings a schema up to the migrations as they read now where a
 * released one was edited afterwards; it reads the catalog once and changes nothing after that.
 */
import type pg from 'pg';
import { SchemaVersionError } from '../../../core/errors.js';
import type { MigrationResult, SchemaVersion } from '../../../driver/driver.js';
import { recordedSchemaVersion } from '../../../driver/schema-version.js';
import type { PgContext } from '../context.js';
import { installFlowClaimFunction } from '../flow-claim.js';
import { migration0001Initial } from './0001-initial.js';
import { migration0002Interruptions } from './0002-interruptions.js';
import { migration0003Tasks } from './0003-tasks.js';
import { migration0004Pools } from './0004-pools.js';
import { migration0005Health } from './0005-health.js';
import { migration0006EventLog } from './0006-event-log.js';
import { migration0007Schedules } from './0007-schedules.js';
import { migration0008Flow } from './0008-flow.js';
import { migration0009Dedup } from './0009-dedup.js';
import { migration0010Dependencies } from './0010-dependencies.js';
import { migration0011LargeTables } from './0011-large-tables.js';
import { migration0012FlowHolds } from './0012-flow-holds.js';
import { migration0013BoundedStats } from './0013-bounded-stats.js';
import { migration0014EventStorage } from './0014-event-storage.js';
import { migration0015EventJobIndex } from './0015-event-job-index.js';
import { migration0016JobsFillfactor } from './0016-jobs-fillfactor.js';
import { migration0017DeletedCompletions } from './0017-deleted-completions.js';

/** One schema step. Versions are consecutive from 1 and never edited once released. */
export interface PostgresMigration {
  version: number;
  name: string;
  /** The SQL, given the quoted schema name. */
  sql: (schema: string) => string;
}

/** Every migration this code knows, in order. */
export const MIGRATIONS: readonly PostgresMigration[] = [
  { version: 1, name: 'initial', sql: migration0001Initial },
  { version: 2, name: 'interruptions', sql: migration0002Interruptions },
  { version: 3, name: 'tasks', sql: migration0003Tasks },
  { version: 4, name: 'pools', sql: migration0004Pools },
  { version: 5, name: 'health', sql: migration0005Health },
  { version: 6, name: 'event log', sql: migration0006EventLog },
  { version: 7, name: 'schedules', sql: migration0007Schedules },
  { version: 8, name: 'flow control', sql: migration0008Flow },
  { version: 9, name: 'dedup', sql: migration0009Dedup },
  { version: 10, name: 'dependencies', sql: migration0010Dependencies },
  { version: 11, name: 'counts and pruning on large tables', sql: migration0011LargeTables },
  { version: 12, name: 'flow holds', sql: migration0012FlowHolds },
  { version: 13, name: 'bounded queue stats', sql: migration0013BoundedStats },
  { version: 14, name: 'event log storage', sql: migration0014EventStorage },
  { version: 15, name: 'event log job index', sql: migration0015EventJobIndex },
  { version: 16, name: 'jobs fillfactor', sql: migration0016JobsFillfactor },
  { version: 17, name: 'deleted completions', sql: migration0017DeletedCompletions },
];

/** The schema version this code writes. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Bring the schema up to `LATEST_VERSION`, creating it if needed. Refuses a schema newer than
 * this code, or one whose `jobs` table was not created by jobwire's migrations.
 */
export async function migratePostgres(ctx: PgContext): Promise<MigrationResult> {
  const { s, schema } = ctx;
  return ctx.transaction('migrate', async (client) => {
    const run = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      ctx.query<R>('migrate', text, values, client, false);
    await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`jobwire:migrate:${schema}`]);
    const [found] = await run<{ schema: string | null; migrations: string | null; jobs: string | null }>(
      'SELECT to_regnamespace($1)::text AS schema, to_regclass($2)::text AS migrations, to_regclass($3)::text AS jobs',
      [s, `${s}.migrations`, `${s}.jobs`],
    );
    if (!found?.schema) await run(`CREATE SCHEMA ${s}`);
    if (!found?.migrations) {
      if (found?.jobs) {
        throw new SchemaVersionError(
          `Schema "${schema}" on ${ctx.target} has a jobs table that was not created by jobwire ` +
            '(there is no migrations table). Use another schema (the `schema` option), or rename that table.',
        );
      }
      await run(
        `CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
    }
    const rows = await run<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const recorded = new Set(rows.map((r) => r.version));
    const from = currentVersion(recorded);
    if (from > LATEST_VERSION) {
      throw new SchemaVersionError(
        `Schema "${schema}" on ${ctx.target} is at version ${from}, but this version of jobwire knows only up to ` +
          `version ${LATEST_VERSION}. A newer jobwire migrated it: upgrade jobwire.`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (recorded.has(migration.version)) continue;
      await run(migration.sql(s));
      await run(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await repairSchema(s, run);
    // Not a numbered migration: the claim function is named by its body's hash (flow-claim.ts),
    // so each version of the code installs its own, and a schema shared across a rolling deploy
    // keeps the function of every version still running.
    await installFlowClaimFunction(s, schema, (text, values) => run(text, values));
    return { from, to: currentVersion(new Set([...recorded, ...applied])), applied };
  });
}

/**
 * Released migrations that were edited afterwards, applied to the schemas they had already made
 * (one catalog read; each change only where it is missing):
 *
 * - Schema 6 as first released (2a606e0, 57ff92f) stored `events.entries` as json; it is text
 *   now, and writers send text: on such a schema every write that logs an event (an enqueue, a
 *   retry, a claim) failed with `column "entries" is of type json but expression is of type text`.
 *   The type change rewrites the table once, under its lock, and schema 14's storage settings
 *   are applied again (a changed type loses its column's compression).
 * - Schema 1 as first released (ad188e9) indexed (state, id) and (queue, state), and had no
 *   partial index of failed and cancelled jobs; each extra index is written on every state change.
 */
async function repairSchema(
  s: string,
  run: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>,
): Promise<void> {
  const [found] = await run<{ entries: string | null; stateIndex: boolean; failedIndex: boolean }>(
    `SELECT (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attname = 'entries' AND NOT attisdropped) AS entries,
            to_regclass($2) IS NOT NULL AS "stateIndex", to_regclass($3) IS NOT NULL AS "failedIndex"`,
    [`${s}.events`, `${s}.jobs_state`, `${s}.jobs_failed`],
  );
  if (found?.entries === 'json') {
    await run(`ALTER TABLE ${s}.events ALTER COLUMN entries TYPE text USING entries::text`);
    await run(migration0014EventStorage(s)); // a new type drops the column's compression
  }
  if (found?.stateIndex) await run(`DROP INDEX IF EXISTS ${s}.jobs_state, ${s}.jobs_queue_state`);
  if (found && !found.failedIndex) {
    await run(`CREATE INDEX jobs_failed ON ${s}.jobs (id) WHERE state IN ('abandoned', 'cancelled')`);
  }
}

/** The version `recorded` amounts to (see `recordedSchemaVersion`). */
export function currentVersion(recorded: ReadonlySet<number>): number {
  return recordedSchemaVersion(recorded, MIGRATIONS);
}

/** The stored schema version, read without the migration lock (`Driver.schemaVersion`). */
export async function postgresSchemaVersion(ctx: PgContext): Promise<SchemaVersion> {
  const { s } = ctx;
  const [found] = await ctx.query<{ migrations: string | null }>(
    'schemaVersion',
    'SELECT to_regclass($1)::text AS migrations',
    [`${s}.migrations`],
  );
  if (!found?.migrations) return { current: 0, latest: LATEST_VERSION };
  const rows = await ctx.query<{ version: number }>('schemaVersion', `SELECT version FROM ${s}.migrations`);
  return { current: currentVersion(new Set(rows.map((r) => r.version))), latest: LATEST_VERSION };
}
