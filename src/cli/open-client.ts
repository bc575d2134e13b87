/**
 * `--db` → a driver and a client, through the public API only. The driver comes from the
 * registry by the location's URL scheme (`src/driver/registry.ts`): `postgres://…` and
 * `postgresql://…` open PostgreSQL, a file path (relative to the current directory) or a
 * `sqlite:` / `file:` location opens SQLite, and a driver registered elsewhere opens its own
 * schemes. Each driver is imported on demand, so SQLite users never load `pg`.
 *
 * Without `--db`: `DATABASE_URL` when its scheme names a registered driver, else `./jobwire.db`.
 */
// The public entry point also registers the built-in drivers (`src/drivers/builtin.ts`).

import { driverFor, schemeOf } from '../driver/registry.js';
import {
  type AnyTask,
  createJobwire,
  DatabaseNotFoundError,
  type Driver,
  describeLocation,
  type Jobwire,
  openDriver as openRegisteredDriver,
  registeredSchemes,
  UnknownDriverSchemeError,
} from '../index.js';
import { CliError } from './args.js';

/** The default SQLite file, relative to the current directory. */
export const DEFAULT_DB = './jobwire.db';

/** Where the data lives: a location the driver registry resolves (URL or file path). */
export interface DatabaseTarget {
  location: string;
  /** The registered driver that opens it (for messages). */
  driver: string;
}

/** `location` as a target, or a CliError naming the known schemes. */
function targetOf(location: string, source: string): DatabaseTarget {
  try {
    return { location, driver: driverFor(location).name };
  } catch (error) {
    if (error instanceof UnknownDriverSchemeError) {
      throw new CliError(
        `${source} names an unknown kind of database "${error.scheme}:"`,
        `give a URL with one of these schemes: ${error.known.map((s) => `${s}:`).join(', ')}; ` +
          `or a SQLite file path (write a file name with a colon as ./${error.scheme}:…)`,
        { cause: error },
      );
    }
    throw error;
  }
}

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
    return targetOf(db, '--db');
  }
  const fromEnv = env.DATABASE_URL;
  // DATABASE_URL often serves an application's own database of another kind (mysql://…): it
  // is used only when a registered driver opens it.
  const envScheme = fromEnv ? schemeOf(fromEnv) : null;
  if (options.useEnv !== false && fromEnv && envScheme !== null && registeredSchemes().includes(envScheme)) {
    return targetOf(fromEnv, 'DATABASE_URL');
  }
  return targetOf(DEFAULT_DB, 'the default database');
}

/** For messages: the driver and the location, with any password hidden. */
export function describeDatabase(target: DatabaseTarget): string {
  return describeLocation(target.location);
}

/** Create the driver for `target`. `mustExist`: refuse to create a new database (a SQLite file). */
export async function openDriver(
  target: DatabaseTarget,
  options: { mustExist?: boolean } = {},
): Promise<Driver> {
  try {
    return await openRegisteredDriver(target.location, { mustExist: options.mustExist });
  } catch (error) {
    if (error instanceof DatabaseNotFoundError) {
      throw new CliError(
        `the database ${error.location} does not exist`,
        `check --db (default ${DEFAULT_DB}), or create it with "jobwire migrate --db ${target.location}"`,
        { cause: error },
      );
    }
    throw error;
  }
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
  /** `false`: this client's leader never prunes (see `JobwireOptions.retention`). */
  retention?: false;
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
      retention: options.retention,
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
