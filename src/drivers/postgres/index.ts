/**
 * The PostgreSQL driver (`jobwire/postgres`): many worker processes on many machines share one
 * database. Claims use `FOR UPDATE SKIP LOCKED`, wake-ups travel with LISTEN/NOTIFY, enqueue can
 * join the caller's transaction, and leadership is a row with an expiry.
 *
 * ```ts
 * const driver = postgresDriver({ connectionString: process.env.DATABASE_URL });
 * await driver.migrate();
 * ```
 */
import pg from 'pg';
import { InvalidOptionError } from '../../core/errors.js';
import { assertKnownOptions, optionNames } from '../../core/known-options.js';
import { checkQueueCounts } from '../../driver/bounded-counts.js';
import type { Driver, DriverCapabilities } from '../../driver/driver.js';
import { assertInsertable } from '../../driver/guards.js';
import { checkPoolReap, checkPoolRemove, checkPoolUpsert } from '../../driver/pool-guards.js';
import {
  checkDeletedCompletionsPrune,
  checkDeleteFinished,
  checkFinishedCutoff,
} from '../../driver/retention-guards.js';
import { checkScheduleWrite } from '../../driver/schedule-guards.js';
import { checkTaskUpserts } from '../../driver/task-guards.js';
import { jobClaim } from './claim.js';
import { followPoolConnections } from './connection-end.js';
import { PgContext } from './context.js';
import { queueCounts } from './counts.js';
import { jobDependencies } from './dependencies.js';
import { describeTarget } from './errors.js';
import {
  eventAppend,
  eventHead,
  eventListForJob,
  eventPrune,
  eventRead,
  eventSubscriptionAdvance,
  eventSubscriptionDelete,
  eventSubscriptionGet,
  inTransaction,
  withLog,
} from './events.js';
import { flowChanged, flowRuleList, flowRuleRemove, flowRuleSet } from './flow.js';
import { alertFire, alertList, alertResolve, queueStats } from './health.js';
import { jobCancel, jobCountByState, jobDelete, jobGet, jobRetry } from './jobs-admin.js';
import { jobInsertMany } from './jobs-insert.js';
import { jobFinalizeMany, jobHeartbeatMany, jobRelease } from './jobs-lease.js';
import { jobList } from './jobs-list.js';
import { jobRescueExpired } from './jobs-rescue.js';
import { leaderAttemptElect, leaderResign } from './leader.js';
import { LATEST_VERSION, migratePostgres, postgresSchemaVersion } from './migrations/index.js';
import { PostgresNotifier } from './notifier.js';
import { poolList, poolReapStale, poolRemove, poolUpsert } from './pools.js';
import { queueList, queuePause, queueResume } from './queues.js';
import { deletedCompletionsPrune, jobDeleteFinished, jobFinishedCutoff } from './retention.js';
import { scheduleGet, scheduleList, scheduleListDue, scheduleWrite } from './schedules.js';
import { taskGet, taskList, taskUpsertMany } from './tasks.js';
import { warmConnection } from './warm-connection.js';

/** The schema version this driver migrates to. */
// A constant of its own, so the published types need nothing from the migrations (and pg).
export const POSTGRES_SCHEMA_VERSION: number = LATEST_VERSION;

/**
 * A `pg.Pool`, as far as the `pool` option has to say. Declared here rather than imported from
 * @types/pg, so the published types compile without that package and the option never silently
 * becomes `any`; every pg.Pool is one.
 */
export interface PostgresPool {
  /** The pool's connection settings; the LISTEN connection is opened with them. */
  readonly options: object;
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Defaults for `PostgresDriverOptions`. */
export const POSTGRES_DEFAULTS = {
  schema: 'jobwire',
  poolSize: 10,
  connectTimeoutMs: 10_000,
  queryTimeoutMs: 30_000,
} as const;

/** Schema names jobwire accepts: plain lower-case identifiers that need no quoting. */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options of `postgresDriver`. Give `connectionString` or `pool`, not both. */
export interface PostgresDriverOptions {
  /** `postgres://user:password@host:5432/database`. Give this or `pool`. */
  connectionString?: string;
  /**
   * A pool you own (a `pg.Pool`). The driver borrows its connections (and opens one more,
   * outside it and with the pool's settings, for LISTEN) and does not end it on `close()`.
   */
  pool?: PostgresPool;
  /** Where jobwire's tables live; created by `migrate()`. Default `jobwire`. */
  schema?: string;
  /** Connections in the pool the driver creates. Default 10. Ignored with `pool`. */
  poolSize?: number;
  /** How long to wait for a new connection before failing, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * How long a statement may go unanswered on a connection of the driver's pool before the call
   * fails with a `StorageError` (kind `unavailable`) and the connection is dropped, in ms; 0 for
   * no limit. Default 30 000. A connection the network cut without closing it (a partition, a
   * host that vanished, a firewall dropping the flow) otherwise holds a claim, an outcome write or
   * an election for as long as the kernel keeps retrying (about 15 minutes on Linux). jobwire's
   * statements take milliseconds; a longer one waits for a lock another session holds (or scans
   * a very large table: exact counts). Migrations and a caller's own transaction are not limited.
   */
  queryTimeoutMs?: number;
  /**
   * Each new connection of the pool the driver creates first has its server process allocate
   * and free one 1 MB block, so that (on glibc-based servers, most Linux builds) the process keeps
   * up to ~2 MB of freed memory instead of giving it back after every statement and taking page
   * faults to get it again (warm-connection.ts: 0.5 fewer faults per job with the log on). Costs
   * one round trip per new connection and that memory per idle server process. Default true.
   * Ignored with `pool`.
   */
  warmConnections?: boolean;
}

const CAPABILITIES: DriverCapabilities = Object.freeze({
  crossProcessNotify: true,
  callerTransactions: true,
  blocksEventLoop: false,
});

const OPTION_NAMES = optionNames<PostgresDriverOptions>({
  connectionString: true,
  pool: true,
  schema: true,
  poolSize: true,
  connectTimeoutMs: true,
  queryTimeoutMs: true,
  warmConnections: true,
});

function validate(
  options: PostgresDriverOptions,
): Required<
  Pick<
    PostgresDriverOptions,
    'schema' | 'poolSize' | 'connectTimeoutMs' | 'queryTimeoutMs' | 'warmConnections'
  >
> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'pass an object with connectionString or pool');
  }
  // A misspelt `schema` would migrate and use the default schema instead, without a word.
  assertKnownOptions('', options, OPTION_NAMES, 'postgresDriver option');
  const { connectionString, pool } = options;
  if (connectionString !== undefined && pool !== undefined) {
    throw new InvalidOptionError('connectionString', 'give either connectionString or pool, not both');
  }
  if (pool === undefined) {
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      throw new InvalidOptionError(
        'connectionString',
        'must be a PostgreSQL URL such as postgres://user:password@localhost:5432/app (or pass an existing pg.Pool as pool)',
      );
    }
  } else if (
    typeof (pool as { query?: unknown }).query !== 'function' ||
    typeof pool.connect !== 'function'
  ) {
    throw new InvalidOptionError('pool', 'must be a pg.Pool');
  }
  const schema = options.schema ?? POSTGRES_DEFAULTS.schema;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new InvalidOptionError(
      'schema',
      `must be a lower-case identifier matching ${SCHEMA_PATTERN} (letters, digits, _; at most 63), got ${JSON.stringify(schema)}`,
    );
  }
  // PostgreSQL keeps its catalogs there: CREATE SCHEMA refuses pg_* names, and tables created
  // in information_schema would sit among the system views (and vanish with a catalog rebuild).
  if (schema === 'information_schema' || schema.startsWith('pg_')) {
    throw new InvalidOptionError(
      'schema',
      `"${schema}" is reserved by PostgreSQL (information_schema and pg_* hold the system catalogs); choose another name, e.g. "jobwire"`,
    );
  }
  const poolSize = options.poolSize ?? POSTGRES_DEFAULTS.poolSize;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new InvalidOptionError('poolSize', `must be an integer >= 1, got ${String(poolSize)}`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new InvalidOptionError('connectTimeoutMs', `must be a number > 0, got ${String(connectTimeoutMs)}`);
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? POSTGRES_DEFAULTS.queryTimeoutMs;
  // Node's timers take at most 2^31 - 1 ms (a larger delay fires after 1 ms).
  if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 0 || queryTimeoutMs > 2 ** 31 - 1) {
    throw new InvalidOptionError(
      'queryTimeoutMs',
      `must be an integer from 0 (no limit) to 2147483647 ms, got ${String(queryTimeoutMs)}`,
    );
  }
  const warmConnections = options.warmConnections ?? true;
  if (typeof warmConnections !== 'boolean') {
    throw new InvalidOptionError('warmConnections', `must be true or false, got ${String(warmConnections)}`);
  }
  return { schema, poolSize, connectTimeoutMs, queryTimeoutMs, warmConnections };
}

/**
 * Settings of the driver's own connections, sent at start-up (before any query) unless the
 * connection string names its own `options`:
 *
 * - `plan_cache_mode=force_generic_plan`: every statement is prepared once per connection and
 *   its shape does not depend on the values bound, so a generic plan serves all executions;
 *   left to itself PostgreSQL re-plans the claim on every call.
 * - `jit=off`: a generic plan's cost grows with the table (the claim's passes jit_above_cost
 *   once about a million jobs wait), and a JIT-compiled plan compiles again on every execution:
 *   30–90 ms per claim of a few ms (bench/results/2026-12-01-large-tables.md). jobwire's
 *   statements each read a batch's rows; none is long enough for compiling to pay off.
 */
export const SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan -c jit=off';

/** Create the PostgreSQL driver. Nothing connects until the first call. */
export function postgresDriver(options: PostgresDriverOptions): Driver {
  const { schema, poolSize, connectTimeoutMs, queryTimeoutMs, warmConnections } = validate(options);
  const ownsPool = options.pool === undefined;
  // The option's type is structural (see PostgresPool); what is given is a pg.Pool.
  const pool =
    (options.pool as pg.Pool | undefined) ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      application_name: 'jobwire',
      ...(/[?&]options=/.test(options.connectionString ?? '') ? {} : { options: SESSION_OPTIONS }),
      ...(warmConnections ? { onConnect: warmConnection } : {}),
    });
  // An idle connection that dies (server restart, pg_terminate_backend) is reported here; without
  // a listener it would crash the process. The next query simply gets another connection.
  if (ownsPool) {
    pool.on('error', () => {});
  }
  const connections = ownsPool ? followPoolConnections(pool) : undefined;
  const notifier = new PostgresNotifier({
    pool,
    schema,
    createClient: () =>
      new pg.Client({
        ...(ownsPool ? { connectionString: options.connectionString } : pool.options),
        connectionTimeoutMillis: connectTimeoutMs,
        keepAlive: true,
        application_name: 'jobwire-listener',
      }),
  });
  const ctx = new PgContext(
    schema,
    pool,
    describeTarget(ownsPool ? options : pool.options),
    notifier,
    queryTimeoutMs,
  );
  let closing: Promise<void> | undefined;

  return {
    name: 'postgres',
    capabilities: CAPABILITIES,
    notifier,
    // The durable event log.
    eventAppend: (params) => eventAppend(ctx, params),
    eventHead: () => eventHead(ctx),
    eventListForJob: (params) => eventListForJob(ctx, params),
    eventPrune: (params) => eventPrune(ctx, params),
    eventRead: (params) => eventRead(ctx, params),
    eventSubscriptionAdvance: (params) => eventSubscriptionAdvance(ctx, params),
    eventSubscriptionDelete: (params) => eventSubscriptionDelete(ctx, params),
    eventSubscriptionGet: (params) => eventSubscriptionGet(ctx, params),
    close() {
      closing ??= (async () => {
        ctx.markClosed();
        await notifier.close();
        if (ownsPool) {
          await pool.end();
          connections?.letGo();
        }
      })();
      return closing;
    },
    // Flow control (limits and fairness).
    flowRuleList: () => flowRuleList(ctx),
    flowRuleRemove: (params) => flowRuleRemove(ctx, params),
    flowRuleSet: (params) => flowRuleSet(ctx, params),
    // Always a transaction: a cancel or rescue resolves the edges of what depends on its jobs.
    jobCancel: (params) => inTransaction(ctx, 'jobCancel', params.log, (on) => jobCancel(on, params)),
    jobClaim: (params) => jobClaim(ctx, params),
    jobCountByState: (params) => jobCountByState(ctx, params),
    jobDelete: (params) => inTransaction(ctx, 'jobDelete', params.log, (on) => jobDelete(on, params)),
    jobDependencies: (params) => jobDependencies(ctx, params),
    jobFinalizeMany: (params) => jobFinalizeMany(ctx, params),
    jobGet: (params) => jobGet(ctx, params),
    jobHeartbeatMany: (params) => jobHeartbeatMany(ctx, params),
    jobInsertMany: async (params) => {
      assertInsertable(params.jobs);
      return jobInsertMany(ctx, params);
    },
    jobList: (params) => jobList(ctx, params),
    jobRelease: (params) => jobRelease(ctx, params),
    jobRescueExpired: (params) =>
      inTransaction(ctx, 'jobRescueExpired', params.log, (on) => jobRescueExpired(on, params)),
    jobRetry: async (params) => {
      const retried = await jobRetry(ctx, params);
      // A retried keyed job waits again: its key has flow work (see flow.ts).
      if (retried.some((job) => job.concurrencyKey !== null)) flowChanged(ctx, true);
      return retried;
    },
    leaderAttemptElect: (params) => leaderAttemptElect(ctx, params),
    leaderResign: (params) => leaderResign(ctx, params),
    migrate: async () => {
      ctx.assertOpen();
      return migratePostgres(ctx);
    },
    schemaVersion: async () => {
      ctx.assertOpen();
      return postgresSchemaVersion(ctx);
    },
    // Pool registry (who is working).
    poolList: () => poolList(ctx),
    poolReapStale: async (params) => poolReapStale(ctx, checkPoolReap(params), params.now),
    poolRemove: async (params) => poolRemove(ctx, checkPoolRemove(params)),
    poolUpsert: async (params) => poolUpsert(ctx, checkPoolUpsert(params), params.now),
    queueCounts: async (params) => queueCounts(ctx, checkQueueCounts(params)),
    queueList: () => queueList(ctx),
    queuePause: (params) => withLog(ctx, 'queuePause', params.log, (on) => queuePause(on, params)),
    queueResume: (params) => withLog(ctx, 'queueResume', params.log, (on) => queueResume(on, params)),
    // Task contracts (published job defaults).
    taskGet: (params) => taskGet(ctx, params),
    taskList: () => taskList(ctx),
    taskUpsertMany: async (params) => taskUpsertMany(ctx, checkTaskUpserts(params), params.now),
    // Queue health: statistics and the leader's alert state.
    alertFire: (params) => withLog(ctx, 'alertFire', params.log, (on) => alertFire(on, params)),
    alertList: () => alertList(ctx),
    alertResolve: (params) => withLog(ctx, 'alertResolve', params.log, (on) => alertResolve(on, params)),
    queueStats: (params) => queueStats(ctx, params),
    // Schedules.
    scheduleGet: (params) => scheduleGet(ctx, params),
    scheduleList: () => scheduleList(ctx),
    scheduleListDue: (params) => scheduleListDue(ctx, params),
    scheduleWrite: async (params) => scheduleWrite(ctx, checkScheduleWrite(params)),
    // Retention (pruning finished jobs).
    jobDeleteFinished: async (params) => jobDeleteFinished(ctx, checkDeleteFinished(params)),
    deletedCompletionsPrune: async (params) =>
      deletedCompletionsPrune(ctx, checkDeletedCompletionsPrune(params)),
    jobFinishedCutoff: async (params) => jobFinishedCutoff(ctx, checkFinishedCutoff(params)),
  };
}
