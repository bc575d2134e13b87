/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
 * pushes the WAL past 1,000 pages: on the driver's connection, so on the application's thread,
 * with an fsync of the database file — 20–250 ms of frozen event loop under load. Instead the
 * driver turns automatic checkpoints off on its connection and a worker thread with a
 * connection of its own checkpoints (checkpoint-worker.ts): PASSIVE checkpoints, which never
 * block the writer, and once the WAL is long a FULL one for its last few frames, which makes the
 * writer wait a few milliseconds so that the WAL can rewind.
 *
 * The connection also gets a `journal_size_limit`, so that a WAL a burst of writes made long is
 * cut back at its next rewind instead of keeping that length on disk for as long as it is open.
 *
 * If the worker dies it is reported (a process warning, code JOBWIRE_SQLITE_CHECKPOINTER) and
 * the connection takes its automatic checkpoints back at once, so the WAL never grows without
 * bound; the worker is restarted a few times, with growing delays, before the driver settles
 * for in-thread checkpoints for good.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { CheckpointerMessage, CheckpointResult, CheckpointWorkerData } from './checkpoint-protocol.js';

/** How often the worker looks for new commits, by default (also the durability window, see README). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 200;
const DEFAULT_MAX_RESTARTS = 3;
const DEFAULT_RESTART_DELAY_MS = 1000;
/**
 * 4,096 frames (16 MiB of 4 KiB pages, four times SQLite's automatic threshold): a WAL this long
 * gets its tail copied under the write lock, so under sustained writes it stays near this size
 * plus what one round of checkpoints lets the writer append.
 */
export const DEFAULT_FULL_AFTER_FRAMES = 4096;
/** The WAL file's header, and each frame's header before its page (SQLite's file format). */
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;
/** How long close() lets a checkpoint in progress finish before terminating the thread. */
const STOP_GRACE_MS = 5000;

/** Options of `startCheckpointer`. */
export interface CheckpointerOptions {
  /** The driver's connection, whose automatic checkpoints the worker replaces. */
  readonly db: BetterSqlite3.Database;
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: 'normal' | 'full';
  readonly intervalMs?: number;
  readonly fullAfterFrames?: number;
  /** Restarts after a crash before falling back to in-thread checkpoints for good. Default 3. */
  readonly maxRestarts?: number;
  /** Delay before the first restart, doubled for each further one. Default 1000. */
  readonly restartDelayMs?: number;
  /** The worker's entry (tests substitute one); default checkpoint-worker next to this file. */
  readonly workerUrl?: URL;
  /** Where a crash is reported. Default: a process warning. */
  readonly onError?: (error: Error) => void;
}

/** What the checkpointer has done so far (for tests and diagnostics). */
export interface CheckpointerStats {
  /** `worker` while the thread checkpoints; `in-thread` while the connection does it itself. */
  readonly mode: 'starting' | 'worker' | 'in-thread' | 'closed';
  /** Checkpoints run by the worker, and how many of them were FULL ones (see the worker). */
  readonly checkpoints: number;
  readonly fullCheckpoints: number;
  readonly crashes: number;
  /** The longest a checkpoint took (on the worker's thread, not the event loop). */
  readonly longestMs: number;
  /** The last checkpoint's result. */
  readonly last?: CheckpointResult;
}

/** A running checkpointer. */
export interface Checkpointer {
  stats(): CheckpointerStats;
  /** Stop the worker (waiting for it) and give the connection its automatic checkpoints back. */
  close(): Promise<void>;
}

/** Whether another connection can open this database: never for in-memory or temporary ones. */
export function isSharedFile(db: BetterSqlite3.Database): boolean {
  return !db.memory && db.name !== '' && db.name !== ':memory:';
}

/**
 * The ES entry of tsx's register API. tsx's own CommonJS copy of it cannot load its ES half
 * from an eval'd worker, and a bare specifier there would resolve from the working directory,
 * so the package's export map is read from where this file resolves tsx.
 */
function tsxRegisterUrl(from: string): string {
  const manifestPath = createRequire(from).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  return new URL(manifest.exports['./esm/api'].import.default, pathToFileURL(manifestPath)).href;
}

/** How a worker thread is started: a module file, or (with `eval`) a bootstrap's source. */
interface WorkerEntry {
  readonly source: string | URL;
  readonly eval: boolean;
}

/**
 * How to start the worker: the entry module next to this one. In the build (dist/, ES or
 * CommonJS) that is the compiled `checkpoint-worker.js`; from the TypeScript sources (tsx:
 * tests, `npm start`) a worker thread does not inherit tsx's loader, so a small bootstrap
 * registers it before importing `checkpoint-worker.ts`. Neither exists when an application
 * bundled jobwire into one file without copying the entry next to the bundle.
 */
function defaultEntry(): WorkerEntry | undefined {
  const here = import.meta.url;
  const built = new URL('./checkpoint-worker.js', here);
  if (existsSync(built)) return { source: built, eval: false };
  const source = new URL('./checkpoint-worker.ts', here);
  if (!here.endsWith('.ts') || !existsSync(source)) return undefined;
  const tsx = JSON.stringify(tsxRegisterUrl(here));
  return {
    source: `import(${tsx}).then((api) => { api.register(); return import(${JSON.stringify(source.href)}); });`,
    eval: true,
  };
}

function warn(error: Error): void {
  process.emitWarning(error.message, { code: 'JOBWIRE_SQLITE_CHECKPOINTER' });
}

/**
 * Start checkpointing `options.db`'s file from a worker thread. The connection keeps its
 * automatic checkpoints until the worker reports ready, and gets them back when it stops.
 */
export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { db, path } = options;
  const maxRestarts = options.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  const restartDelayMs = options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
  const report = options.onError ?? warn;
  // Given back on a crash and at close: an adopted connection must be left as it was found.
  const inThreadPages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  const data: CheckpointWorkerData = {
    path,
    busyTimeoutMs: options.busyTimeoutMs,
    synchronous: options.synchronous,
    intervalMs: options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
    fullAfterFrames: options.fullAfterFrames ?? DEFAULT_FULL_AFTER_FRAMES,
  };
  // A rewind reuses the WAL from its start but never shortens the file: a burst that outran the
  // rounds (one-by-one enqueues took it to 143 MB beside a 39 MB database) left it that long for
  // as long as the connection stayed open. With `journal_size_limit` the first commit after a
  // rewind cuts the file back — but cut at every rewind of a burst, the file would be shortened
  // and grown again at every round of checkpoints, in the writer's commits. So the limit is on
  // only while the rounds find the WAL short (the load is light again), and off while they find
  // it past the FULL threshold. Twice that threshold: a steady drain (15–23 MB) is never
  // cut. The connection's own setting is given back at close, as its automatic checkpoints are.
  const ownWalLimit = db.pragma('journal_size_limit', { simple: true }) as number;
  const pageBytes = db.pragma('page_size', { simple: true }) as number;
  const walBound = WAL_HEADER_BYTES + 2 * data.fullAfterFrames * (pageBytes + WAL_FRAME_HEADER_BYTES);
  const lightLoadLimit = ownWalLimit >= 0 && ownWalLimit < walBound ? ownWalLimit : walBound;
  let walLimit = ownWalLimit;
  const setWalLimit = (bytes: number) => {
    if (bytes === walLimit || !db.open) return;
    db.pragma(`journal_size_limit = ${bytes}`);
    walLimit = bytes;
  };

  let mode: CheckpointerStats['mode'] = 'starting';
  let checkpoints = 0;
  let fullCheckpoints = 0;
  let longestMs = 0;
  let crashes = 0;
  let last: CheckpointerStats['last'];
  let worker: Worker | undefined;
  let exited: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | undefined;

  const setAutoCheckpoint = (pages: number) => {
    // An adopted connection may already be closed by its application.
    if (db.open) db.pragma(`wal_autocheckpoint = ${pages}`);
  };

  function onMessage(message: CheckpointerMessage): void {
    if (mode === 'closed') return;
    if (message.type === 'ready') {
      setAutoCheckpoint(0);
      mode = 'worker';
      return;
    }
    checkpoints++;
    if (message.mode === 'full') fullCheckpoints++;
    longestMs = Math.max(longestMs, message.ms);
    const { type: _, ms: __, ...result } = message;
    last = result;
    setWalLimit(message.log >= data.fullAfterFrames ? ownWalLimit : lightLoadLimit);
  }

  function onCrash(reason: string): void {
    worker = undefined;
    if (mode === 'closed') return;
    crashes++;
    setAutoCheckpoint(inThreadPages);
    setWalLimit(ownWalLimit);
    mode = 'in-thread';
    const restarting = crashes <= maxRestarts;
    const delay = restartDelayMs * 2 ** (crashes - 1);
    report(
      new Error(
        `jobwire: the WAL checkpoint thread for the SQLite database ${path} stopped (${reason}); ` +
          'the connection checkpoints in its own commits meanwhile, which can stall the event loop ' +
          `for tens of milliseconds. ${restarting ? `Restarting it in ${delay} ms.` : 'Not restarting it again.'}`,
      ),
    );
    if (!restarting) return;
    restartTimer = setTimeout(spawn, delay);
    restartTimer.unref();
  }

  function spawn(): void {
    restartTimer = undefined;
    const entry = options.workerUrl ? { source: options.workerUrl, eval: false } : defaultEntry();
    if (!entry) {
      mode = 'in-thread';
      report(
        new Error(
          `jobwire: checkpoint-worker.js is not next to ${import.meta.url} (a bundle? copy it from the ` +
            "package's dist/drivers/sqlite, or dist/cjs/drivers/sqlite for CommonJS, next to the bundle), so the " +
            `connection to the SQLite database ${path} checkpoints the WAL in its own commits, which can ` +
            'stall the event loop for tens of milliseconds.',
        ),
      );
      return;
    }
    let thread: Worker;
    try {
      // None of the process's Node options: the entry needs none, and some refuse a worker
      // (`--input-type` of a `node -e` script fails any module file).
      thread = new Worker(entry.source, { eval: entry.eval, workerData: data, execArgv: [] });
    } catch (err) {
      onCrash(err instanceof Error ? err.message : String(err));
      return;
    }
    worker = thread;
    let failure: Error | undefined;
    thread.on('message', onMessage);
    thread.on('error', (err) => {
      failure = err;
    });
    exited = new Promise((resolve) => {
      thread.on('exit', (code) => {
        resolve();
        if (worker === thread) onCrash(failure?.message ?? `exit code ${code}`);
      });
    });
    // Checkpoints are housekeeping: they never keep the process alive on their own. (After the
    // listeners: adding a 'message' listener refs the thread's port again.)
    thread.unref();
  }

  spawn();

  return {
    stats: () => ({ mode, checkpoints, fullCheckpoints, crashes, longestMs, ...(last ? { last } : {}) }),
    async close() {
      if (mode === 'closed') return;
      const starting = mode === 'starting';
      mode = 'closed';
      clearTimeout(restartTimer);
      const thread = worker;
      worker = undefined;
      if (thread) {
        // Referenced again: a caller awaiting close() must not see the process exit under it.
        thread.ref();
        // A thread still starting has checkpointed nothing: a short-lived process (a CLI command)
        // need not wait for it to load better-sqlite3 only to be told to stop.
        if (starting) void thread.terminate();
        else thread.postMessage('stop');
        const grace = setTimeout(() => void thread.terminate(), STOP_GRACE_MS);
        await exited;
        clearTimeout(grace);
      }
      setAutoCheckpoint(inThreadPages);
      setWalLimit(ownWalLimit);
    },
  };
}
