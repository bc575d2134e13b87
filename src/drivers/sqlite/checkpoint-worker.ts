/**
 * The checkpoint thread's entry (started by checkpointer.ts, never imported). It opens its own
 * connection to the driver's file and copies the WAL back into the database, so the fsyncs of
 * that copy happen here instead of inside a commit on the application's event loop.
 *
 * Copying is done by PASSIVE checkpoints: they never take the write lock nor wait for readers,
 * so nothing they do can stall the driver's connection. But copying alone does not bound the
 * WAL: SQLite rewinds it only when a write transaction begins with every frame already copied,
 * and a writer that commits every few milliseconds always appends a few frames while a
 * checkpoint (two fsyncs) runs. So once the WAL holds `fullAfterFrames`, right after a PASSIVE
 * pass has copied the bulk, a FULL checkpoint copies the last few frames while holding the write
 * lock — a few milliseconds the writer waits — and the next write rewinds the WAL. The FULL
 * checkpoint never waits for the lock itself (busy_timeout 0 here): when a transaction holds it,
 * SQLite runs it as a PASSIVE one and the next pass tries again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerMessage, CheckpointResult, CheckpointWorkerData } from './checkpoint-protocol.js';

const data = workerData as CheckpointWorkerData;
const port = parentPort!;
const post = (message: CheckpointerMessage) => port.postMessage(message);

/** A round stops after this many checkpoints; the next tick goes on. */
const MAX_CHECKPOINTS_PER_ROUND = 8;

const db = new Database(data.path, { fileMustExist: true });
// Opening may wait for another connection (recovering a WAL after a crash); checkpoints never do.
db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
// Reading the file opens its WAL: until then a checkpoint reports -1 frames and does nothing.
const journalMode = db.pragma('journal_mode', { simple: true });
if (journalMode !== 'wal') throw new Error(`${data.path} is not in WAL mode (${String(journalMode)})`);
db.pragma('busy_timeout = 0');
// A checkpoint syncs the WAL, then the database file, as this connection's setting says.
db.pragma(`synchronous = ${data.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const full = db.prepare('PRAGMA wal_checkpoint(FULL)');

/** The last result reported (and the last of the previous round, where the next one starts). */
let reported: CheckpointResult | undefined;

/** Run one checkpoint, and report it unless it found the WAL exactly as the last one left it. */
function checkpoint(mode: 'passive' | 'full'): CheckpointResult {
  const started = performance.now();
  const row = (mode === 'full' ? full : passive).get() as { busy: number; log: number; checkpointed: number };
  const result = { mode, busy: row.busy !== 0, log: row.log, checkpointed: row.checkpointed };
  if (mode === 'full' || result.log !== reported?.log || result.checkpointed !== reported.checkpointed) {
    post({ type: 'checkpointed', ...result, ms: performance.now() - started });
  }
  reported = result;
  return result;
}

/**
 * PASSIVE passes until one finds no frame that the previous one did not already copy (then the
 * next write rewinds the WAL), with a FULL checkpoint for the tail once the WAL is long. While
 * nothing is committed a round is one pass that reads the WAL index and does no I/O.
 */
function runRound(): void {
  let previous = reported;
  for (let pass = 0; pass < MAX_CHECKPOINTS_PER_ROUND; pass++) {
    // Only after a pass of this round copied the bulk: what FULL copies, writers wait for.
    const long = pass > 0 && previous !== undefined && previous.log >= data.fullAfterFrames;
    const result = checkpoint(long ? 'full' : 'passive');
    // Nothing appended since the previous pass, and all of it copied: caught up.
    if (result.checkpointed >= result.log && result.log === previous?.log) return;
    // A FULL checkpoint that got the write lock copied every frame: the next write rewinds.
    if (result.mode === 'full' && !result.busy && result.checkpointed >= result.log) return;
    previous = result;
  }
}

/** A round, where a lock held elsewhere (another process recovering the WAL, say) just waits a tick. */
function tick(): void {
  try {
    runRound();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) return;
    throw err;
  }
}

const timer = setInterval(tick, data.intervalMs);
port.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
post({ type: 'ready' });
