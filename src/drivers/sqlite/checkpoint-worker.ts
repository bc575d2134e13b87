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
 *
 * Checkpoints are spaced out while the WAL is short. A checkpoint that copied every frame makes
 * the next write rewind the WAL, and that write — on the application's thread — syncs the WAL's
 * new header (SQLite must, or a later out-of-order write could corrupt the file after a power
 * loss): about 1 ms on the development machine, once per checkpoint. So at each interval the
 * worker only syncs the WAL file when commits arrived (the same durability window as a
 * checkpoint, without the rewind), and checkpoints when, at the rate the WAL grew since the last
 * round, it holds about `fullAfterFrames` again — at every interval under heavy writes, at most
 * `rewindEveryMs` apart under light ones (see `roundFrames`).
 */
import { closeSync, fstatSync, fsyncSync, openSync } from 'node:fs';
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

/**
 * Rounds are spaced so that, at the rate the WAL grew since the previous one, it holds about this
 * many frames when the next begins (the length from which a FULL checkpoint copies its tail):
 * at most `rewindEveryMs` apart, at least one interval. A WAL file that grows by as many pages
 * (4 KiB) since a round — a burst after a quiet spell — is checkpointed at once.
 */
const roundFrames = Math.max(1, data.fullAfterFrames);
const BURST_BYTES = roundFrames * 4096;

const walPath = `${data.path}-wal`;
let walFd: number | undefined;
/** The WAL file as it was when last synced or checkpointed: a change means new commits. */
let durable: { size: number; mtimeNs: bigint } | undefined;
/** Commits synced since the last round, not yet copied into the database file. */
let uncopied = false;
/** When the last round ran, the WAL file's size then, and when the next one is due. */
let roundAt = Number.NEGATIVE_INFINITY;
let roundSize = 0;
let nextRoundAt = Number.NEGATIVE_INFINITY;

/** The WAL file's size and modification time, or undefined while there is none. */
function walFile(): { size: number; mtimeNs: bigint } | undefined {
  try {
    walFd ??= openSync(walPath, 'r');
    const { size, mtimeNs } = fstatSync(walFd, { bigint: true });
    return { size: Number(size), mtimeNs };
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    return undefined;
  }
}

/** A checkpoint round, or just a sync of the WAL (see the module comment). */
function syncOrCheckpoint(): void {
  const wal = walFile();
  if (!wal) return;
  const changed = !durable || wal.size !== durable.size || wal.mtimeNs !== durable.mtimeNs;
  if (!changed && !uncopied) return;
  const now = performance.now();
  // Synced commits are still copied in time, when nothing more is written.
  if (now >= nextRoundAt || wal.size - roundSize >= BURST_BYTES) {
    const since = now - roundAt;
    roundAt = now;
    roundSize = wal.size;
    runRound();
    // Frames appended since the previous round (which left the WAL to be rewound), per ms.
    const rate = Number.isFinite(since) ? (reported?.log ?? 0) / Math.max(since, data.intervalMs) : 0;
    const wait = rate > 0 ? roundFrames / rate : data.rewindEveryMs;
    nextRoundAt = now + Math.min(data.rewindEveryMs, Math.max(data.intervalMs, wait));
    // A round that could not copy everything (a reader of an older snapshot) may not have synced.
    uncopied = reported !== undefined && reported.checkpointed < reported.log;
    if (uncopied) fsyncSync(walFd!);
  } else if (changed) {
    fsyncSync(walFd!);
    post({ type: 'synced' });
    uncopied = true;
  }
  durable = wal;
}

/** A round, where a lock held elsewhere (another process recovering the WAL, say) just waits a tick. */
function tick(): void {
  try {
    syncOrCheckpoint();
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
  if (walFd !== undefined) closeSync(walFd);
  db.close();
  port.close();
});
post({ type: 'ready' });
