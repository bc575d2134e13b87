/**
 * WAL checkpoints on a worker thread (src/drivers/sqlite/checkpointer.ts): the driver's
 * connection stops checkpointing in its commits, the worker keeps the WAL bounded under
 * sustained writes and copies it into the database file, a crash hands checkpoints back to the
 * connection, and nothing of it keeps a process alive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { isSharedFile, startCheckpointer } from '../src/drivers/sqlite/checkpointer.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { bundleModule, compiledFixture } from './support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (label: string) => join(dir, `${label}-${++files}.db`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it holds (or fail after `timeoutMs`). */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

const autoCheckpointPages = (db: Database.Database) => db.pragma('wal_autocheckpoint', { simple: true });
const walBytes = (path: string) => {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
};

/** Completed jobs in the database file alone, without its WAL (a copy of the file, opened apart). */
function completedInFileAlone(path: string): number | undefined {
  const copy = `${path}.copy-${++files}`;
  try {
    copyFileSync(path, copy);
    const db = new Database(copy);
    try {
      return (
        db.prepare(`SELECT count(*) AS n FROM jobwire_jobs WHERE state = 'completed'`).get() as { n: number }
      ).n;
    } finally {
      db.close();
    }
  } catch {
    return undefined; // copied in the middle of a checkpoint's writes: try again
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  }
}

/** Warnings of the checkpointer emitted while `body` runs. */
async function checkpointerWarnings(body: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.code === 'JOBWIRE_SQLITE_CHECKPOINTER') warnings.push(warning.message);
  };
  process.on('warning', listener);
  try {
    await body();
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

describe('sqlite driver: WAL checkpoints off the event loop', () => {
  it('drains 40,000 jobs with the WAL bounded, copied into the database by the worker, not in commits', async () => {
    const JOBS = 40_000;
    const path = freshPath('drain');
    // An adopted connection shows what the driver does to it, and must be left as it was.
    const db = new Database(path);
    db.pragma('wal_autocheckpoint = 500');
    let done = 0;
    const noop = defineTask({ name: 'noop', handler: async () => void done++ });
    const warnings = await checkpointerWarnings(async () => {
      const client = await createJobwire({ driver: sqliteDriver({ database: db }), tasks: [noop] });
      // Once the worker is ready the connection never checkpoints in a commit.
      await until('the worker is ready', () => autoCheckpointPages(db) === 0);
      let largestWal = 0;
      const sampler = setInterval(() => (largestWal = Math.max(largestWal, walBytes(path))), 5);
      try {
        for (let start = 0; start < JOBS; start += 1000) {
          await client.enqueueMany(
            Array.from({ length: 1000 }, (_, i) => ({ task: noop, payload: start + i })),
          );
        }
        const pool = client.createPool({ concurrency: 10, handleSignals: false });
        await pool.start();
        await until('the backlog is drained', () => done === JOBS, 120_000);
        await pool.stop();
      } finally {
        clearInterval(sampler);
      }
      // The WAL rewinds whenever a round of PASSIVE checkpoints catches up, and at the latest
      // once it holds 4,096 frames (16 MiB of pages plus 24-byte frame headers), when the tail is
      // copied under the write lock (the next test forces that case). The writer appends while a
      // round runs: peaks of 4,100–5,500 frames were seen; 8,192 frames (33.8 MB) leaves room for
      // a slow machine. A worker that never let the WAL rewind (one PASSIVE checkpoint per tick,
      // tried first) reached 26 MB on half of this drain.
      const bound = 8192 * (4096 + 24);
      assert.ok(largestWal > 0 && largestWal < bound, `the WAL reached ${largestWal} bytes (bound ${bound})`);
      // Every completion reaches the database file itself, with the driver still open.
      await until('the database file holds every completion', () => completedInFileAlone(path) === JOBS);
      assert.equal(autoCheckpointPages(db), 0);
      await client.close();
    });
    assert.deepEqual(warnings, []);
    assert.equal(autoCheckpointPages(db), 500, 'the adopted connection gets its own setting back');
    db.close();
  });

  it('keeps the WAL bounded while the writer commits without pause (the tail is copied under the write lock)', async () => {
    const path = freshPath('busy-writer');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = 5000`);
    db.exec('CREATE TABLE filler (bytes BLOB)');
    const checkpointer = startCheckpointer({
      db,
      path,
      busyTimeoutMs: 5000,
      synchronous: 'normal',
      intervalMs: 10,
      fullAfterFrames: 200,
    });
    await until('the worker is ready', () => autoCheckpointPages(db) === 0);
    const insert = db.prepare('INSERT INTO filler (bytes) VALUES (randomblob(3000))');
    let largestWal = 0;
    // 4,000 commits of a page each, 0.25 ms apart, never yielding: a PASSIVE checkpoint (an fsync
    // or two) always finds new frames when it ends, so without the FULL step the WAL never rewinds
    // and ends above 4,000 frames.
    for (let i = 0; i < 4000; i++) {
      insert.run();
      const spinUntil = performance.now() + 0.25;
      while (performance.now() < spinUntil);
      if (i % 50 === 0) largestWal = Math.max(largestWal, walBytes(path));
    }
    const bound = 1500 * (4096 + 24);
    assert.ok(largestWal < bound, `the WAL reached ${largestWal} bytes (bound ${bound})`);
    // The worker's reports wait in the event loop, which the loop above never yielded to.
    await until('a FULL checkpoint is reported', () => checkpointer.stats().fullCheckpoints > 0);
    await checkpointer.close();
    db.close();
  });

  it('a crashed worker hands checkpoints back to the connection, is restarted, then given up on', async () => {
    const path = freshPath('crash');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const reports: { message: string; pages: unknown }[] = [];
    const checkpointer = startCheckpointer({
      db,
      path,
      busyTimeoutMs: 1000,
      synchronous: 'normal',
      workerUrl: new URL('./fixtures/crashing-checkpoint-worker.mjs', import.meta.url),
      maxRestarts: 1,
      restartDelayMs: 10,
      onError: (error) => reports.push({ message: error.message, pages: autoCheckpointPages(db) }),
    });
    await until('two crashes are reported', () => reports.length === 2);
    await sleep(200); // no third start
    assert.equal(reports.length, 2);
    assert.match(reports[0]!.message, /stopped \(checkpoint worker fell over\).*Restarting it in 10 ms/);
    assert.match(reports[1]!.message, /stopped \(checkpoint worker fell over\).*Not restarting it again/);
    assert.ok(reports.every((report) => report.message.includes(path)));
    // Each report finds the connection checkpointing in its commits again, as before the worker.
    assert.deepEqual(
      reports.map((report) => report.pages),
      [1000, 1000],
    );
    assert.equal(checkpointer.stats().mode, 'in-thread');
    assert.equal(checkpointer.stats().crashes, 2);
    await checkpointer.close();
    assert.equal(autoCheckpointPages(db), 1000);
    db.close();
  });

  it('starts no worker for in-memory or temporary databases, which no other connection can open', async () => {
    assert.equal(isSharedFile(new Database(':memory:')), false);
    assert.equal(isSharedFile(new Database('')), false);
    assert.equal(isSharedFile(new Database(freshPath('file'))), true);
    const warnings = await checkpointerWarnings(async () => {
      const memory = new Database(':memory:');
      const driver = sqliteDriver({ database: memory });
      await driver.migrate();
      // A worker would have opened a database of its own, found it not in WAL mode and died.
      await sleep(300);
      assert.equal(autoCheckpointPages(memory), 1000);
      await driver.close();
      memory.close();
    });
    assert.deepEqual(warnings, []);
  });

  for (const how of ['close', 'leave'] as const) {
    it(`a process exits by itself when it ${how === 'close' ? 'closes' : 'never closes'} the driver`, () => {
      // The fixture runs as a bundle, with checkpoint-worker.js copied next to it.
      const result = spawnSync(
        process.execPath,
        [
          compiledFixture(join(import.meta.dirname, 'fixtures/checkpoint-exit.ts')),
          freshPath(`exit-${how}`),
          how,
        ],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, 'done\n');
      // The worker was found and ran: no fallback warning.
      assert.equal(result.stderr, '');
    });
  }

  it('a bundle without the worker entry next to it warns and checkpoints in commits, as SQLite does', () => {
    const bundleDir = mkdtempSync(join(dir, 'bundle-'));
    const bundle = join(bundleDir, 'app.mjs');
    // Like compiledFixture, minus the copy of checkpoint-worker.js; better-sqlite3 stays external.
    bundleModule(join(import.meta.dirname, 'fixtures/checkpoint-exit.ts'), bundle);
    symlinkSync(join(import.meta.dirname, '../node_modules'), join(bundleDir, 'node_modules'), 'dir');
    try {
      const result = spawnSync(process.execPath, [bundle, freshPath('bundled'), 'close'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, 'done\n');
      assert.match(result.stderr, /\[JOBWIRE_SQLITE_CHECKPOINTER\].*checkpoint-worker\.js is not next to/);
    } finally {
      unlinkSync(join(bundleDir, 'node_modules')); // the link first: nothing may delete through it
    }
  });
});
