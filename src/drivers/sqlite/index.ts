/**
 * The SQLite driver (`jobwire/sqlite`): embedded, zero set-up, a file next to the app.
 *
 * better-sqlite3 is synchronous, so each method does its work before returning a settled
 * promise. The file is opened in WAL mode so readers never block the writer, and every write
 * takes the lock up front (single statements or IMMEDIATE transactions), which makes it safe for
 * several OS processes to share one file. WAL checkpoints, whose fsyncs would otherwise run inside
 * a commit on this thread, run on a worker thread (checkpointer.ts).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ClosedError, InvalidOptionError, StorageError } from '../../core/errors.js';
import { assertKnownOptions, optionNames } from '../../core/known-options.js';
import type { EpochMs } from '../../core/types.js';
import { checkQueueCounts } from '../../driver/bounded-counts.js';
import type { Driver, DriverCapabilities, LogBuilder } from '../../driver/driver.js';
import { assertInsertable } from '../../driver/guards.js';
import { checkPoolReap, checkPoolRemove, checkPoolUpsert } from '../../driver/pool-guards.js';
import {
  checkDeletedCompletionsPrune,
  checkDeleteFinished,
  checkFinishedCutoff,
} from '../../driver/retention-guards.js';
import { checkScheduleWrite } from '../../driver/schedule-guards.js';
import { checkTaskUpserts } from '../../driver/task-guards.js';
import { createAdminMethods } from './admin.js';
import { isBusy, retryWhileBusy, syncBusyWaitMs } from './busy-wait.js';
import { isSharedFile, startCheckpointer } from './checkpointer.js';
import type { SqliteContext } from './context.js';
import { createCountMethods } from './counts.js';
import { dependenciesOf } from './dependencies.js';
import { toStorageError } from './errors.js';
import { createEventMethods, eventWriterOf } from './events.js';
import { createFlowMethods } from './flow.js';
import { createHealthMethods } from './health.js';
import { createJobMethods } from './jobs.js';
import { createLeaderMethods } from './leader.js';
import { createLeaseMethods } from './leases.js';
import { observerOf } from './liveness.js';
import { migrateWaitingForUpgrade } from './migrate-wait.js';
import { LATEST_VERSION, migrateSqlite, sqliteSchemaVersion } from './migrations/index.js';
import { createInProcessNotifier } from './notifier.js';
import { createPoolMethods } from './pools.js';
import { createQueueMethods } from './queues.js';
import { createRetentionMethods } from './retention.js';
import { createScheduleMethods } from './schedules.js';
import { createTaskMethods } from './tasks.js';

/** The schema version this driver migrates to. */
// A constant of its own, so the published types need nothing from the migrations (and better-sqlite3).
export const SQLITE_SCHEMA_VERSION: number = LATEST_VERSION;

/** How long a write waits for another connection's lock before failing, by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Options of `sqliteDriver`. Give `path` or `database`, not both. */
export interface SqliteDriverOptions {
  /** The database file, created if missing; `':memory:'` for a private in-memory database. */
  path?: string;
  /**
   * How long a call waits for another connection's lock before failing with a `StorageError`.
   * Default 5000. The event loop stays free meanwhile: a call waits at most 10 ms at a time in
   * SQLite's busy handler (which blocks the thread) and tries again after a pause — except on an
   * adopted `database`, whose busy timeout is set to this whole wait and left to SQLite.
   */
  busyTimeoutMs?: number;
  /**
   * `normal` (default): in WAL mode a power loss may lose the last few commits but never
   * corrupts the file. `full`: every commit is fsynced, slower.
   */
  synchronous?: 'normal' | 'full';
  /**
   * Use a connection the application already opened (a better-sqlite3 `Database`). jobwire sets
   * its pragmas (WAL, busy timeout, foreign keys) but never closes it: that stays the
   * application's job. While the driver is open the connection's automatic checkpoints are off
   * (a worker thread checkpoints instead); `close()` gives its `wal_autocheckpoint` back.
   */
  database?: SqliteConnection;
}

/**
 * A better-sqlite3 `Database`, as far as the `database` option has to say. Declared here rather
 * than imported from @types/better-sqlite3, so the published types compile without that package
 * and the option never silently becomes `any`; every better-sqlite3 connection is one.
 */
export interface SqliteConnection {
  readonly name: string;
  readonly readonly: boolean;
  readonly open: boolean;
  readonly inTransaction: boolean;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  prepare(source: string): unknown;
  exec(source: string): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
  close(): unknown;
}

const CAPABILITIES: DriverCapabilities = Object.freeze({
  crossProcessNotify: false,
  callerTransactions: false,
  blocksEventLoop: true,
});

const OPTION_NAMES = optionNames<SqliteDriverOptions>({
  path: true,
  busyTimeoutMs: true,
  synchronous: true,
  database: true,
});

function validate(options: SqliteDriverOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('options', 'pass an object like { path: "./jobwire.db" }');
  }
  assertKnownOptions('', options, OPTION_NAMES, 'sqliteDriver option');
  if (options.database === undefined && (typeof options.path !== 'string' || options.path === '')) {
    throw new InvalidOptionError(
      'path',
      'give the database file path (or ":memory:"), or an open `database`',
    );
  }
  if (options.database !== undefined && options.path !== undefined) {
    throw new InvalidOptionError('path', 'give either `path` or `database`, not both');
  }
  const timeout = options.busyTimeoutMs;
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 0)) {
    throw new InvalidOptionError('busyTimeoutMs', `must be an integer >= 0, got ${String(timeout)}`);
  }
  const sync = options.synchronous;
  if (sync !== undefined && sync !== 'normal' && sync !== 'full') {
    throw new InvalidOptionError('synchronous', `must be "normal" or "full", got ${JSON.stringify(sync)}`);
  }
}

/**
 * Refuse a database this process cannot write. SQLite opens such a file without complaint and
 * even "migrates" one that is already current, then fails at the first enqueue or claim; so
 * the file's permissions (which also catch an immutable file or a read-only mount, even for
 * root) and an adopted read-only connection are checked at open.
 */
function assertWritable(options: SqliteDriverOptions, path: string): void {
  const advice =
    'jobwire writes on every enqueue, claim and heartbeat: make the file and its directory writable ' +
    '(permissions, owner, `chattr -i`, a read-write mount), or point jobwire at another file.';
  if (options.database?.readonly) {
    throw new StorageError(`The SQLite connection to ${path} was opened read-only. ${advice}`);
  }
  if (options.database !== undefined || path === ':memory:' || !existsSync(path)) return;
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'EACCES';
    throw new StorageError(`The SQLite database ${path} is read-only for this process (${code}). ${advice}`, {
      cause: err,
    });
  }
}

/**
 * Open (or adopt) the database and set its pragmas. The first statement that reads the file is
 * where SQLite notices random bytes or a damaged header, so failures here name the file.
 */
function open(options: SqliteDriverOptions, path: string, busyTimeoutMs: number): Database.Database {
  // The option's type is structural (see SqliteConnection); what is given is a better-sqlite3 one.
  let db = options.database as Database.Database | undefined;
  try {
    db ??= new Database(path);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    // Temporary b-trees (an `IN (subquery)` list, a sort without an index) in memory, not in a
    // temporary file opened per statement: the claim's UPDATE took 135 µs with the default for
    // one row and 62 µs with this. jobwire's temporary b-trees are small (statements bounded
    // by a batch or a page), so memory is the right home for them.
    db.pragma('temp_store = MEMORY');
    // Reading the schema catches a valid header in front of damaged pages.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    // From here on a call waits for a lock mostly between attempts (busy-wait.ts). An
    // adopted connection keeps the whole wait in SQLite: the application's own statements on it
    // must not start failing after 10 ms.
    if (db !== options.database) db.pragma(`busy_timeout = ${syncBusyWaitMs(busyTimeoutMs)}`);
    return db;
  } catch (err) {
    if (db && db !== options.database) db.close();
    const mapped = toStorageError(err, path, 'open', busyTimeoutMs);
    if (mapped instanceof StorageError) throw mapped;
    throw new StorageError(
      `Could not open the SQLite database ${path}: ${err instanceof Error ? err.message : String(err)}. ` +
        'Check the path and its permissions.',
      { cause: err },
    );
  }
}

/**
 * The SQLite driver. Call `migrate()` once before use (the client does this for you).
 *
 * @example
 * const driver = sqliteDriver({ path: 'jobs.db' });
 * await driver.migrate();
 */
export function sqliteDriver(options: SqliteDriverOptions): Driver {
  validate(options);
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const path = options.database?.name ?? options.path!;
  assertWritable(options, path);
  const db = open(options, path, busyTimeoutMs);
  // WAL checkpoints (and their fsyncs) run on a worker thread, not inside this thread's commits.
  const checkpointer = isSharedFile(db)
    ? startCheckpointer({ db, path, busyTimeoutMs, synchronous: options.synchronous ?? 'normal' })
    : undefined;
  const notifier = createInProcessNotifier();
  const ctx: SqliteContext = {
    db,
    notifier,
    now: (given) => Math.floor(given ?? Date.now()),
  };

  // Statements are prepared on first use, after `migrate()` has created the tables.
  let methods:
    | (ReturnType<typeof createJobMethods> &
        ReturnType<typeof createLeaseMethods> &
        ReturnType<typeof createAdminMethods> &
        ReturnType<typeof createQueueMethods> &
        ReturnType<typeof createLeaderMethods> &
        ReturnType<typeof createTaskMethods> &
        ReturnType<typeof createPoolMethods> &
        ReturnType<typeof createHealthMethods> &
        ReturnType<typeof createEventMethods> &
        ReturnType<typeof createRetentionMethods> &
        ReturnType<typeof createScheduleMethods> &
        ReturnType<typeof createFlowMethods>)
    | undefined;
  let countMethods: ReturnType<typeof createCountMethods> | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  /** `run` with the events `log` makes of its result stored in the same transaction. */
  const logged = <R>(log: LogBuilder<R> | undefined, now: EpochMs | undefined, run: () => R): R => {
    use();
    return eventWriterOf(ctx).withLog(log, ctx.now(now), run);
  };

  // An adopted connection waits in SQLite's handler for the whole timeout: nothing is left to retry.
  const asyncBusyWaitMs = options.database ? 0 : busyTimeoutMs - syncBusyWaitMs(busyTimeoutMs);

  /**
   * Run one driver call: refuse after close, map SQLite errors, settle as a promise. A call that
   * found the database locked by another connection is tried again (busy-wait.ts).
   */
  function call<T>(operation: string, body: () => T): Promise<T> {
    try {
      refuseIfClosed();
      return Promise.resolve(body());
    } catch (err) {
      if (isBusy(err)) lockSeen();
      const retried =
        asyncBusyWaitMs > 0 && isBusy(err)
          ? retryWhileBusy(
              () => {
                // Every try that finds the lock, and the one that gets through, moves the point
                // from which a lease's silence counts (liveness.ts).
                try {
                  return body();
                } finally {
                  lockSeen();
                }
              },
              err,
              asyncBusyWaitMs,
              refuseIfClosed,
            )
          : Promise.reject(err);
      return retried.catch((failure: unknown) => {
        throw toStorageError(failure, path, operation, busyTimeoutMs);
      });
    }
  }

  function lockSeen(): void {
    observerOf(ctx).lockSeen(performance.now());
  }

  function refuseIfClosed(): void {
    if (closed) throw new ClosedError(`The SQLite driver for ${path}`);
  }

  const use = () => {
    if (methods) return methods;
    try {
      const flowMethods = createFlowMethods(ctx);
      const jobMethods = createJobMethods(ctx, flowMethods.flowClaim);
      methods = {
        ...flowMethods,
        ...jobMethods,
        ...createLeaseMethods(ctx),
        ...createAdminMethods(ctx),
        ...createQueueMethods(ctx),
        ...createLeaderMethods(ctx),
        ...createTaskMethods(ctx),
        ...createPoolMethods(ctx),
        ...createHealthMethods(ctx),
        ...createEventMethods(ctx),
        ...createRetentionMethods(ctx),
        ...createScheduleMethods(ctx, jobMethods.jobInsertMany),
      };
    } catch (err) {
      if (err instanceof Database.SqliteError && /no such table/.test(err.message)) {
        throw new StorageError(
          `The SQLite database ${path} has no jobwire tables yet: call migrate() (or run \`jobwire migrate\`) first.`,
          { cause: err },
        );
      }
      throw err;
    }
    return methods;
  };

  return {
    name: 'sqlite',
    capabilities: CAPABILITIES,
    notifier,

    close() {
      if (closing) return closing;
      closed = true;
      notifier.clear();
      closing = (async () => {
        // First: the last connection to close checkpoints the whole WAL and removes it.
        await checkpointer?.close();
        if (db !== options.database) {
          // SQLite's advice for long-lived connections: refresh planner statistics where useful.
          try {
            db.pragma('optimize');
          } catch {
            // Best effort: a failed optimisation must not keep the file open.
          }
          db.close();
        }
      })();
      return closing;
    },
    // Flow control (limits and fairness).
    flowRuleList: () => call('flowRuleList', () => use().flowRuleList()),
    flowRuleRemove: (params) => call('flowRuleRemove', () => use().flowRuleRemove(params)),
    flowRuleSet: (params) => call('flowRuleSet', () => use().flowRuleSet(params)),
    jobCancel: (params) =>
      call('jobCancel', () => logged(params.log, params.now, () => use().jobCancel(params))),
    jobClaim: (params) => call('jobClaim', () => use().jobClaim(params)),
    jobCountByState: (params) => call('jobCountByState', () => use().jobCountByState(params)),
    jobDelete: (params) =>
      call('jobDelete', () => logged(params.log, params.now, () => use().jobDelete(params))),
    jobDependencies: (params) =>
      call('jobDependencies', () => {
        use();
        return dependenciesOf(ctx).jobDependencies(params);
      }),
    jobFinalizeMany: (params) => call('jobFinalizeMany', () => use().jobFinalizeMany(params)),
    jobGet: (params) => call('jobGet', () => use().jobGet(params)),
    jobHeartbeatMany: (params) => call('jobHeartbeatMany', () => use().jobHeartbeatMany(params)),
    // `executor` is ignored: capabilities.callerTransactions is false.
    jobInsertMany: (params) =>
      call('jobInsertMany', () => {
        assertInsertable(params.jobs);
        return use().jobInsertMany(params);
      }),
    jobList: (params) => call('jobList', () => use().jobList(params)),
    jobRelease: (params) => call('jobRelease', () => use().jobRelease(params)),
    jobRescueExpired: (params) =>
      call('jobRescueExpired', () => logged(params.log, params.now, () => use().jobRescueExpired(params))),
    jobRetry: (params) =>
      call('jobRetry', () => logged(params.log, params.now, () => use().jobRetry(params))),
    leaderAttemptElect: (params) => call('leaderAttemptElect', () => use().leaderAttemptElect(params)),
    leaderResign: (params) => call('leaderResign', () => use().leaderResign(params)),
    // Waits past busyTimeoutMs while another process upgrades the file (migrate-wait.ts).
    migrate: () =>
      migrateWaitingForUpgrade(
        () => call('migrate', () => migrateSqlite(db, path, Date.now)),
        () => sqliteSchemaVersion(db),
        path,
      ),
    schemaVersion: () => call('schemaVersion', () => sqliteSchemaVersion(db)),
    // Pool registry (who is working).
    poolList: () => call('poolList', () => use().poolList()),
    poolReapStale: (params) =>
      call('poolReapStale', () => use().poolReapStale(checkPoolReap(params), params.now)),
    poolRemove: (params) => call('poolRemove', () => use().poolRemove(checkPoolRemove(params))),
    poolUpsert: (params) => call('poolUpsert', () => use().poolUpsert(checkPoolUpsert(params), params.now)),
    queueCounts: (params) =>
      call('queueCounts', () => {
        checkQueueCounts(params);
        use();
        // Prepared apart from the other methods: their INDEXED BY names indexes, and a renamed
        // index should fail this method alone.
        countMethods ??= createCountMethods(ctx);
        return countMethods.queueCounts(params);
      }),
    queueList: () => call('queueList', () => use().queueList()),
    queuePause: (params) =>
      call('queuePause', () => logged(params.log, params.now, () => use().queuePause(params))),
    queueResume: (params) =>
      call('queueResume', () => logged(params.log, params.now, () => use().queueResume(params))),
    // Task contracts (published job defaults).
    taskGet: (params) => call('taskGet', () => use().taskGet(params)),
    taskList: () => call('taskList', () => use().taskList()),
    taskUpsertMany: (params) =>
      call('taskUpsertMany', () => use().taskUpsertMany(checkTaskUpserts(params), params.now)),
    // Queue health: statistics and the leader's alert state.
    alertFire: (params) =>
      call('alertFire', () => logged(params.log, undefined, () => use().alertFire(params))),
    alertList: () => call('alertList', () => use().alertList()),
    alertResolve: (params) =>
      call('alertResolve', () => logged(params.log, undefined, () => use().alertResolve(params))),
    // The durable event log.
    eventAppend: (params) => call('eventAppend', () => use().eventAppend(params)),
    eventHead: () => call('eventHead', () => use().eventHead()),
    eventListForJob: (params) => call('eventListForJob', () => use().eventListForJob(params)),
    eventPrune: (params) => call('eventPrune', () => use().eventPrune(params)),
    eventRead: (params) => call('eventRead', () => use().eventRead(params)),
    // `work` runs first, outside any transaction (at least once), then the cursor is compared and
    // stored — each read and write a `call` of its own, so a lock held by another connection is
    // waited for and a failure is a StorageError (the store ran bare: a brief lock failed it with
    // a raw SqliteError, and the batch was handled again).
    eventSubscriptionAdvance: async (params) => {
      const name = { name: params.name };
      const stored = await call('eventSubscriptionAdvance', () => use().eventSubscriptionGet(name));
      if (stored !== params.from) return false;
      if (params.work) await params.work(undefined);
      return call('eventSubscriptionAdvance', () => use().eventSubscriptionStore(params));
    },
    eventSubscriptionDelete: (params) =>
      call('eventSubscriptionDelete', () => use().eventSubscriptionDelete(params)),
    eventSubscriptionGet: (params) => call('eventSubscriptionGet', () => use().eventSubscriptionGet(params)),
    queueStats: (params) => call('queueStats', () => use().queueStats(params)),
    // Schedules.
    scheduleGet: (params) => call('scheduleGet', () => use().scheduleGet(params)),
    scheduleList: () => call('scheduleList', () => use().scheduleList()),
    scheduleListDue: (params) => call('scheduleListDue', () => use().scheduleListDue(params)),
    scheduleWrite: (params) => call('scheduleWrite', () => use().scheduleWrite(checkScheduleWrite(params))),
    // Retention (pruning finished jobs).
    jobDeleteFinished: (params) =>
      call('jobDeleteFinished', () => use().jobDeleteFinished(checkDeleteFinished(params))),
    jobFinishedCutoff: (params) =>
      call('jobFinishedCutoff', () => use().jobFinishedCutoff(checkFinishedCutoff(params))),
    deletedCompletionsPrune: (params) =>
      call('deletedCompletionsPrune', () =>
        use().deletedCompletionsPrune(checkDeletedCompletionsPrune(params)),
      ),
  };
}
