/**
 * The WAL file after a burst of writes (src/drivers/sqlite/checkpointer.ts). The checkpoint
 * thread rewinds the WAL once its frames are copied, but a rewind reuses the file from its start:
 * it never gives back what a burst made it grow to. A producer enqueuing one job at a time
 * appends frames faster than one checkpoint round (200 ms) copies them — one process doing so
 * took the WAL to 143 MB beside a 39 MB database — and the file then stayed that size for as long
 * as any connection kept the database open (a worker: for good). With `journal_size_limit` set on
 * the driver's connection, the first commit after a rewind cuts the file back to the limit — once
 * the burst is over: cut at every rewind of the burst itself, the file would be shortened and
 * grown again at every round of checkpoints, in the writer's commits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { startCheckpointer } from '../src/drivers/sqlite/checkpointer.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-fleet-wal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const walBytes = (path: string) => {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
};

test('after a burst of one-by-one commits the WAL file shrinks back to a bounded size', async () => {
  const path = join(dir, 'burst.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  // An adopted connection's own setting, to be given back at close.
  db.pragma('journal_size_limit = 123456789');
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, payload TEXT);
    CREATE INDEX t_a ON t (a); CREATE INDEX t_b ON t (b)`);
  const fullAfterFrames = 200;
  const checkpointer = startCheckpointer({
    db,
    path,
    busyTimeoutMs: 5000,
    synchronous: 'normal',
    fullAfterFrames,
  });
  while (db.pragma('wal_autocheckpoint', { simple: true }) !== 0) await sleep(10);
  const insert = db.prepare('INSERT INTO t (a, b, payload) VALUES (?, ?, ?)');
  const write = db.transaction((i: number) =>
    insert.run(`a${Math.random()}`, `b${Math.random()}`, 'x'.repeat(300 + (i % 50))),
  );
  // The burst: a commit of a few pages, then a turn of the event loop, as `await enqueue()` in a
  // loop, until the WAL holds far more than a round of checkpoints lets it keep.
  const frameBytes = 4096 + 24;
  let i = 0;
  let shrinks = 0;
  let size = 0;
  const burstEnds = performance.now() + 10_000;
  while (size < 40 * fullAfterFrames * frameBytes && performance.now() < burstEnds) {
    write(i++);
    await new Promise((resolve) => setImmediate(resolve));
    const now = walBytes(path);
    if (now < size) shrinks++;
    size = now;
  }
  const peak = walBytes(path);
  assert.ok(peak >= 40 * fullAfterFrames * frameBytes, `the burst took the WAL to ${peak} bytes only`);
  // While the burst lasts the file is not cut back (at most once, as it starts).
  assert.ok(shrinks <= 1, `the WAL file was cut back ${shrinks} times during the burst`);
  // Then a quiet writer: a commit now and then, each after the checkpoint thread caught up.
  for (let k = 0; k < 20; k++) {
    await sleep(60);
    write(i++);
  }
  const settled = walBytes(path);
  // Twice the FULL threshold (as the driver sets it), plus the header and a commit's frames.
  const bound = 2 * fullAfterFrames * frameBytes + 32 + 16 * frameBytes;
  assert.ok(
    settled <= bound,
    `the WAL file stayed at ${settled} bytes after a ${peak}-byte burst (bound ${bound})`,
  );
  await checkpointer.close();
  assert.equal(db.pragma('journal_size_limit', { simple: true }), 123456789, 'the setting is given back');
  db.close();
});
