/**
 * Numbered schema migrations, recorded in `<schema>.migrations`.
 *
 * All of them run in one transaction that first takes a transaction-scoped advisory lock keyed
 * on the schema: processes that start at the same moment queue up behind it, and each later
 * one finds the versions the first recorded and applies nothing.
 */
import type pg from 'pg';
import { SchemaVersionError } from '../../../core/errors.js';
import type { MigrationResult, SchemaVersion } from '../../../driver/driver.js';
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
    const [row] = await run<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.migrations`,
    );
    const from = row?.version ?? 0;
    if (from > LATEST_VERSION) {
      throw new SchemaVersionError(
        `Schema "${schema}" on ${ctx.target} is at version ${from}, but this version of jobwire knows only up to ` +
          `version ${LATEST_VERSION}. A newer jobwire migrated it: upgrade jobwire.`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (migration.version <= from) continue;
      await run(migration.sql(s));
      await run(`INSERT INTO ${s}.migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    // Not a numbered migration: the claim function is named by its body's hash (flow-claim.ts),
    // so each version of the code installs its own, and a schema shared across a rolling deploy
    // keeps the function of every version still running.
    await installFlowClaimFunction(s, schema, (text, values) => run(text, values));
    return { from, to: applied.length ? applied[applied.length - 1]! : from, applied };
  });
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
  const [row] = await ctx.query<{ version: number | null }>(
    'schemaVersion',
    `SELECT max(version) AS version FROM ${s}.migrations`,
  );
  return { current: row?.version ?? 0, latest: LATEST_VERSION };
}
