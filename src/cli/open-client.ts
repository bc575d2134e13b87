/**
 * `--db` → a driver and a client, through the public API only.
 *
 * - `postgres://…` / `postgresql://…` → the PostgreSQL driver, imported on demand so SQLite users
 *   never load `pg`;
 * - anything else is a SQLite file path (relative to the current directory);
 * - no `--db`: `DATABASE_URL` when it is a PostgreSQL URL, else `./jobwire.db`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type AnyTask, createJobwire, type Driver, type Jobwire } from '../index.js';
import { CliError } from './args.js';

/** The default SQLite file, relative to the current directory. */
export const DEFAULT_DB = './jobwire.db';

/** Where the data lives. */
export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; connectionString: string };

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * Decide which database `--db` (or the environment) names. `useEnv: false` ignores
 * DATABASE_URL (the demo must never write into an application's database by accident).
 */
export function resolveDatabase(
  db: string | undefined,
  options: { env?: NodeJS.ProcessEnv; useEnv?: boolean } = {},
): DatabaseTarget {
  const env = options.env ?? process.env;
  if (db !== undefined) {
    if (db.trim() === '') throw new CliError('--db is empty: give a SQLite file path or a postgres:// URL');
    return POSTGRES_URL.test(db) ? { kind: 'postgres', connectionString: db } : { kind: 'sqlite', path: db };
  }
  const fromEnv = env.DATABASE_URL;
  if (options.useEnv !== false && fromEnv && POSTGRES_URL.test(fromEnv)) {
    return { kind: 'postgres', connectionString: fromEnv };
  }
  return { kind: 'sqlite', path: DEFAULT_DB };
}

/** For messages: the SQLite path, or the URL with its password hidden. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return `sqlite ${target.path}`;
  try {
    const url = new URL(target.connectionString);
    if (url.password) url.password = '***';
    return `postgres ${url.toString()}`;
  } catch {
    return 'postgres (connection string not shown)';
  }
}

interface PostgresModule {
  postgresDriver(options: { connectionString: string }): Driver;
}

/** Create the driver for `target`. `mustExist`: refuse to create a new SQLite file. */
export async function openDriver(
  target: DatabaseTarget,
  options: { mustExist?: boolean } = {},
): Promise<Driver> {
  if (target.kind === 'sqlite') {
    if (options.mustExist && target.path !== ':memory:' && !existsSync(resolve(target.path))) {
      throw new CliError(
        `the database ${target.path} does not exist`,
        `check --db (default ${DEFAULT_DB}), or create it with "jobwire migrate --db ${target.path}"`,
      );
    }
    const { sqliteDriver } = await import('../drivers/sqlite/index.js');
    return sqliteDriver({ path: target.path });
  }
  // A computed specifier: the PostgreSQL driver (and pg) load only when asked for.
  const specifier = '../drivers/postgres/index.js';
  let module: PostgresModule;
  try {
    module = (await import(specifier)) as PostgresModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('drivers/postgres')) {
      throw new CliError(
        'the PostgreSQL driver is not available in this build of jobwire',
        'use a SQLite path for --db',
      );
    }
    throw error;
  }
  if (typeof module.postgresDriver !== 'function') {
    throw new CliError('the PostgreSQL driver module does not export postgresDriver()');
  }
  return module.postgresDriver({ connectionString: target.connectionString });
}

/** Options of `openClient`. */
export interface OpenClientOptions {
  db: string | undefined;
  tasks?: readonly AnyTask[];
  /** False for commands that enqueue or administer by task name without the task code. */
  strictTasks?: boolean;
  /** Refuse to create a missing SQLite file (read and admin commands). */
  mustExist?: boolean;
  /** Consult DATABASE_URL when --db is absent. Default true. */
  useEnv?: boolean;
}

/** A migrated client on the database `--db` names. Close it when done. */
export async function openClient(
  options: OpenClientOptions,
): Promise<{ client: Jobwire; target: DatabaseTarget }> {
  const target = resolveDatabase(options.db, { useEnv: options.useEnv });
  const driver = await openDriver(target, { mustExist: options.mustExist });
  try {
    const client = await createJobwire({
      driver,
      tasks: options.tasks,
      strictTasks: options.strictTasks,
    });
    return { client, target };
  } catch (error) {
    await driver.close().catch(() => {});
    throw error;
  }
}

/** Run `body` with a client and always close it. */
export async function withClient<T>(
  options: OpenClientOptions,
  body: (client: Jobwire) => Promise<T>,
): Promise<T> {
  const { client } = await openClient(options);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
