/**
 * `--db` → a driver and a client, through the public API only. The driver comes from the
 * registry by the location's URL scheme (`src/driver/registry.ts`): `postgres://…` and
 * `postgresql://…` open PostgreSQL, a file path (relative to the current directory) or a
 * `sqlite:` / `file:` location opens SQLite, and a driver registered elsewhere opens its own
 * schemes. Each driver is imported on demand, so SQLite users never load `pg`.
 *
 * Where the database is, first match wins (docs/configuration.md): `--db`, then
 * `JOBWIRE_DATABASE_URL`, then `DATABASE_URL` when its scheme names a registered driver, else
 * `./jobwire.db`. The PostgreSQL schema: `--schema`, then `JOBWIRE_SCHEMA`, else `jobwire`.
 */
// The public entry point also registers the built-in drivers (`src/drivers/builtin.ts`).

import { driverFor, schemeOf } from '../driver/registry.js';
import {
  createJobwire,
  DatabaseNotFoundError,
  type Driver,
  describeLocation,
  type Jobwire,
  type JobwireOptions,
  type Logger,
  openDriver as openRegisteredDriver,
  registeredSchemes,
  StorageError,
  UnknownDriverSchemeError,
} from '../index.js';
import { CliError, UsageError } from './args.js';

/** The default SQLite file, relative to the current directory. */
export const DEFAULT_DB = './jobwire.db';

/** Where the data lives: a location the driver registry resolves (URL or file path). */
export interface DatabaseTarget {
  location: string;
  /** The registered driver that opens it (for messages). */
  driver: string;
  /** The PostgreSQL schema (`--schema`, JOBWIRE_SCHEMA); undefined: the driver's default. */
  schema?: string;
}

/**
 * `location` as a target, or an error naming the known schemes: a UsageError for the command
 * line (`--db`), a CliError for the environment.
 */
function targetOf(location: string, source: string): DatabaseTarget {
  try {
    return { location, driver: driverFor(location).name };
  } catch (error) {
    if (error instanceof UnknownDriverSchemeError) {
      const message = `${source} names an unknown kind of database "${error.scheme}:"`;
      const hint =
        `give a URL with one of these schemes: ${error.known.map((s) => `${s}:`).join(', ')}; ` +
        `or a SQLite file path (write a file name with a colon as ./${error.scheme}:…)`;
      if (source === '--db')
        throw new UsageError(`${message}; jobwire opens ${knownKinds(error.known)}`, hint);
      throw new CliError(message, hint, { cause: error });
    }
    throw error;
  }
}

/** What jobwire opens, for the message: "file:, postgres:, … URLs and SQLite file paths". */
function knownKinds(schemes: readonly string[]): string {
  return `${schemes.map((s) => `${s}:`).join(', ')} URLs and SQLite file paths`;
}

/**
 * Decide which database `--db` (or the environment) names. `useEnv: false` ignores the
 * environment (the demo must never write into an application's database by accident).
 */
export function resolveDatabase(
  db: string | undefined,
  options: { env?: NodeJS.ProcessEnv; useEnv?: boolean; schema?: string } = {},
): DatabaseTarget {
  const env = options.env ?? process.env;
  const target = resolveLocation(db, env, options.useEnv !== false);
  const schema = options.schema ?? (options.useEnv === false ? undefined : nonEmpty(env.JOBWIRE_SCHEMA));
  if (schema === undefined) return target;
  const source = options.schema !== undefined ? '--schema' : 'JOBWIRE_SCHEMA';
  if (target.driver !== 'postgres') {
    throw new UsageError(
      `${source} applies to PostgreSQL only; ${describeLocation(target.location)} has no schemas`,
      options.schema !== undefined ? 'drop --schema' : 'unset JOBWIRE_SCHEMA, or point --db at PostgreSQL',
    );
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError(
      `${source} must be a plain PostgreSQL identifier (letters, digits, _; not starting with a digit), got "${schema}"`,
    );
  }
  return { ...target, schema };
}

const nonEmpty = (value: string | undefined) =>
  value === undefined || value.trim() === '' ? undefined : value;

function resolveLocation(db: string | undefined, env: NodeJS.ProcessEnv, useEnv: boolean): DatabaseTarget {
  if (db !== undefined) {
    if (db.trim() === '') throw new UsageError('--db is empty: give a SQLite file path or a postgres:// URL');
    return targetOf(db, '--db');
  }
  if (useEnv) {
    // JOBWIRE_DATABASE_URL is meant for jobwire: any scheme it names must be one jobwire opens.
    const own = nonEmpty(env.JOBWIRE_DATABASE_URL);
    if (own !== undefined) return targetOf(own, 'JOBWIRE_DATABASE_URL');
    // DATABASE_URL often serves an application's own database of another kind (mysql://…): it
    // is used only when a registered driver opens it.
    const fromEnv = nonEmpty(env.DATABASE_URL);
    const envScheme = fromEnv ? schemeOf(fromEnv) : null;
    if (fromEnv && envScheme !== null && registeredSchemes().includes(envScheme)) {
      return targetOf(fromEnv, 'DATABASE_URL');
    }
  }
  return targetOf(DEFAULT_DB, 'the default database');
}

/** For messages: the driver and the location, with any password hidden. */
export function describeDatabase(target: DatabaseTarget): string {
  const where = describeLocation(target.location);
  return target.schema ? `${where} (schema ${target.schema})` : where;
}

/** Create the driver for `target`. `mustExist`: refuse to create a new database (a SQLite file). */
export async function openDriver(
  target: DatabaseTarget,
  options: { mustExist?: boolean } = {},
): Promise<Driver> {
  try {
    if (target.schema !== undefined) {
      // A PostgreSQL-only option the registry does not carry: open the public driver directly.
      const { postgresDriver } = await import('../drivers/postgres/index.js');
      return postgresDriver({ connectionString: target.location, schema: target.schema });
    }
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
  /**
   * `--schema` (PostgreSQL). Required, undefined when not given: a command that forgot to pass
   * it read and wrote the default schema whatever the user said (`jobs purge --schema` deleted
   * in `jobwire`), so leaving it out is a type error.
   */
  schema: string | undefined;
  tasks?: JobwireOptions['tasks'];
  /** False for commands that enqueue or administer by task name without the task code. */
  strictTasks?: boolean;
  /**
   * The database must exist and be initialised (read and admin commands): refuse to create a
   * missing SQLite file, and never create or migrate the schema — say how to instead.
   */
  mustExist?: boolean;
  /** Consult the environment when --db is absent. Default true. */
  useEnv?: boolean;
  logger?: Logger;
  /**
   * `false`: this client's leader never prunes; `{ completed: 'immediately' }`: its pools delete
   * completed jobs as they complete (see `JobwireOptions.retention`).
   */
  retention?: false | { completed: 'immediately' };
  /** Queue-health thresholds: this client's leader runs the health monitor (`JobwireOptions.health`). */
  health?: JobwireOptions['health'];
}

/** A client on the database `--db` names (migrated unless `mustExist`). Close it when done. */
export async function openClient(
  options: OpenClientOptions,
): Promise<{ client: Jobwire; target: DatabaseTarget }> {
  const target = resolveDatabase(options.db, { useEnv: options.useEnv, schema: options.schema });
  const driver = await openDriver(target, { mustExist: options.mustExist });
  let client: Jobwire | undefined;
  try {
    client = await createJobwire({
      driver,
      tasks: options.tasks,
      strictTasks: options.strictTasks,
      migrate: !options.mustExist,
      logger: options.logger,
      retention: options.retention,
      ...(options.health !== undefined && { health: options.health }),
    });
    if (options.mustExist) await assertInitialised(client, target);
    return { client, target };
  } catch (error) {
    if (client) await client.close().catch(() => {});
    else await driver.close().catch(() => {});
    throw error;
  }
}

/**
 * A read command must not create jobwire's tables as a side effect (on PostgreSQL that would
 * leave a schema behind a typo'd URL): probe them, and on a storage failure that is not the
 * connection's, say what the database lacks — no tables (initialise it), or an older schema
 * (upgrade it: it holds jobs, and "not initialised" would alarm its owner for nothing).
 */
async function assertInitialised(client: Jobwire, target: DatabaseTarget): Promise<void> {
  const db = describeDatabase(target);
  const dbFlag = target.location === DEFAULT_DB ? '' : ' --db …';
  const version = await client.schemaVersion();
  if (version.current > version.latest) {
    throw new CliError(
      `${db} has jobwire schema version ${version.current}; this jobwire knows up to ${version.latest}`,
      'a newer jobwire migrated it: upgrade this jobwire (see docs/upgrading.md)',
    );
  }
  try {
    // One row through the primary key: a count would read the whole jobs table on every command.
    await client.listJobs({ limit: 1 });
  } catch (error) {
    if (error instanceof StorageError && error.kind === 'other' && version.current > 0) {
      throw new CliError(
        `${db} has jobwire schema version ${version.current}, older than this jobwire's ${version.latest} (${error.message})`,
        `run "jobwire migrate${dbFlag}" to upgrade it in place (every job, schedule and event is kept; ` +
          'see docs/upgrading.md); this command only reads',
        { cause: error },
      );
    }
    if (error instanceof StorageError && error.kind === 'other') {
      throw new CliError(
        `${describeDatabase(target)} is not initialised for jobwire (${error.message})`,
        `run "jobwire migrate${target.location === DEFAULT_DB ? '' : ' --db …'}" or start a worker ` +
          '(both create the tables); this command only reads',
        { cause: error },
      );
    }
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
