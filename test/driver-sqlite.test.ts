/**
 * The SQLite driver: the shared conformance suite, plus what only a file database can show.
 * Several OS processes on one file: `sqlite-driver-processes.test.ts`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ClosedError, InvalidOptionError, SchemaVersionError, StorageError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import { runDriverConformance } from '../src/driver/conformance/index.js';
import type { JobInsertParams } from '../src/driver/driver.js';
import { SQLITE_SCHEMA_VERSION, sqliteDriver } from '../src/drivers/sqlite/index.js';
import { MIGRATIONS } from '../src/drivers/sqlite/migrations/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A path in this file's temp directory that no other test uses. */
const freshPath = (label: string) => join(dir, `${label}-${++files}.db`);

runDriverConformance({
  name: 'sqlite',
  createDriver: async () => {
    const driver = sqliteDriver({ path: freshPath('conformance') });
    await driver.migrate();
    return driver;
  },
});

const job = (overrides: Partial<JobInsertParams> = {}): JobInsertParams => jobParams(overrides);

describe('sqlite driver: files', () => {
  it('refuses a file that is not a SQLite database, naming the path', () => {
    const path = freshPath('random');
    writeFileSync(path, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)));
    assert.throws(
      () => sqliteDriver({ path }),
      (err: unknown) =>
        err instanceof StorageError &&
        err.message.includes(path) &&
        /not a SQLite database/.test(err.message) &&
        (err.cause as { code?: string }).code === 'SQLITE_NOTADB',
    );
  });

  it('refuses a corrupt SQLite file, naming the path', async () => {
    const path = freshPath('corrupt');
    const driver = sqliteDriver({ path });
    await driver.migrate();
    await driver.close();
    // Keep the 100-byte header, wreck the rest of the first page (the schema).
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(3996, 0xa5), 0, 3996, 100);
    closeSync(fd);
    assert.throws(
      () => sqliteDriver({ path }),
      (err: unknown) =>
        err instanceof StorageError &&
        err.message.includes(path) &&
        /corrupt/.test(err.message) &&
        (err.cause as { code?: string }).code === 'SQLITE_CORRUPT',
    );
  });

  it('refuses a read-only database at open, saying what to do', async (t) => {
    const path = freshPath('readonly');
    const driver = sqliteDriver({ path });
    await driver.migrate();
    await driver.close();
    const readOnly = (pattern: RegExp) => (err: unknown) =>
      err instanceof StorageError &&
      err.message.includes(path) &&
      pattern.test(err.message) &&
      /writable/.test(err.message);

    // An adopted connection opened read-only (this works for every user, root included).
    const connection = new Database(path, { readonly: true });
    try {
      assert.throws(() => sqliteDriver({ database: connection }), readOnly(/opened read-only/));
    } finally {
      connection.close();
    }

    // The file itself unwritable: a mode does it for ordinary users; root ignores modes, so
    // there the immutable attribute (ext4, CAP_LINUX_IMMUTABLE) does.
    const writable = () => {
      try {
        accessSync(path, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    };
    chmodSync(path, 0o444);
    let immutable = false;
    if (writable()) {
      try {
        execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
        immutable = true;
      } catch {
        // No chattr, or not allowed: checked below.
      }
    }
    t.after(() => {
      if (immutable) execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
      chmodSync(path, 0o644);
    });
    if (writable()) {
      t.skip(
        'this user can write any file here (root without chattr): only the read-only connection was tested',
      );
      return;
    }
    assert.throws(() => sqliteDriver({ path }), readOnly(/read-only for this process/));
  });

  it('shares a file with another application’s tables', async () => {
    const path = freshPath('shared');
    const other = new Database(path);
    other.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')",
    );
    other.close();
    const driver = sqliteDriver({ path });
    assert.deepEqual(
      (await driver.migrate()).applied,
      MIGRATIONS.map((m) => m.version),
    );
    const result = await driver.jobInsertMany({ jobs: [job()] });
    assert.ok('inserted' in result);
    await driver.close();
    const check = new Database(path, { readonly: true });
    assert.deepEqual(check.prepare('SELECT name FROM users').all(), [{ name: 'ada' }]);
    check.close();
  });

  it('refuses a schema newer than this code, saying to upgrade', async () => {
    const path = freshPath('newer');
    const driver = sqliteDriver({ path });
    await driver.migrate();
    await driver.close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO jobwire_migrations (version, applied_at) VALUES (?, ?)').run(99, Date.now());
    raw.close();
    const again = sqliteDriver({ path });
    await assert.rejects(again.migrate(), (err: unknown) => {
      assert.ok(err instanceof SchemaVersionError);
      assert.match(err.message, /99/);
      assert.match(err.message, new RegExp(`version ${SQLITE_SCHEMA_VERSION}\\b`));
      assert.match(err.message, /upgrade jobwire/);
      return true;
    });
    await again.close();
  });

  it('refuses jobwire-named tables that jobwire did not create', async () => {
    const path = freshPath('foreign-jobs');
    const raw = new Database(path);
    raw.exec('CREATE TABLE jobwire_jobs (id INTEGER PRIMARY KEY)');
    raw.close();
    const driver = sqliteDriver({ path });
    await assert.rejects(driver.migrate(), (err: unknown) => {
      assert.ok(err instanceof SchemaVersionError);
      assert.match(err.message, /not created by jobwire/);
      return true;
    });
    await driver.close();
  });

  it('says to migrate when used before migrate()', async () => {
    const driver = sqliteDriver({ path: freshPath('unmigrated') });
    await assert.rejects(driver.jobGet({ id: '1' }), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /call migrate\(\)/);
      return true;
    });
    await driver.migrate();
    assert.equal(await driver.jobGet({ id: '1' }), undefined);
    await driver.close();
  });

  it('reports a write lock held past busyTimeoutMs as a StorageError with the cause', async () => {
    const path = freshPath('busy');
    const driver = sqliteDriver({ path, busyTimeoutMs: 0 });
    await driver.migrate();
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      await assert.rejects(driver.jobInsertMany({ jobs: [job()] }), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.match(err.message, /busyTimeoutMs/);
        assert.match((err.cause as { code: string }).code, /^SQLITE_BUSY/);
        return true;
      });
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    assert.ok('inserted' in (await driver.jobInsertMany({ jobs: [job()] })), 'works once the lock is gone');
    await driver.close();
  });

  it('waits for a lock up to busyTimeoutMs with the event loop free, then fails saying so', async () => {
    const path = freshPath('busy-wait');
    const driver = sqliteDriver({ path, busyTimeoutMs: 400 });
    await driver.migrate();
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = performance.now();
    try {
      await assert.rejects(driver.jobInsertMany({ jobs: [job()] }), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.kind, 'unavailable');
        assert.match(err.message, /busyTimeoutMs \(400 ms\)/);
        return true;
      });
    } finally {
      clearInterval(ticker);
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    // It waited the whole timeout, and timers ran meanwhile (SQLite's own wait runs none).
    assert.ok(
      performance.now() - started >= 390,
      `gave up after ${Math.round(performance.now() - started)} ms`,
    );
    assert.ok(ticks >= 5, `only ${ticks} ticks of a 10 ms timer ran during the wait`);
    await driver.close();
  });

  it('a call that waits for a lock ends with ClosedError when the driver is closed meanwhile', async () => {
    const path = freshPath('busy-close');
    const driver = sqliteDriver({ path });
    await driver.migrate();
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    try {
      const waiting = assert.rejects(driver.jobInsertMany({ jobs: [job()] }), ClosedError);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await driver.close();
      await waiting;
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
  });
});

describe('sqlite driver: options', () => {
  it('validates its options, naming the field', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof InvalidOptionError);
        return err.field;
      }
      assert.fail('expected InvalidOptionError');
    };
    assert.equal(
      field(() => sqliteDriver({})),
      'path',
    );
    assert.equal(
      field(() => sqliteDriver({ path: ':memory:', busyTimeoutMs: -1 })),
      'busyTimeoutMs',
    );
    assert.equal(
      field(() => sqliteDriver({ path: ':memory:', synchronous: 'off' as 'full' })),
      'synchronous',
    );
  });

  it('sets WAL, synchronous, busy timeout and foreign keys; leaves an adopted connection open', async () => {
    const path = freshPath('adopted');
    const db = new Database(path);
    const driver = sqliteDriver({ database: db, synchronous: 'full', busyTimeoutMs: 1234 });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    await driver.migrate();
    await driver.close();
    assert.equal(db.open, true);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM jobwire_jobs').get(), { n: 0 });
    db.close();

    const own = sqliteDriver({ path });
    await own.migrate();
    await own.close();
  });

  it('works in memory', async () => {
    const driver = sqliteDriver({ path: ':memory:' });
    await driver.migrate();
    assert.ok('inserted' in (await driver.jobInsertMany({ jobs: [job()] })));
    assert.equal(
      (await driver.jobClaim({ queues: ['default'], limit: 5, leaseMs: 1000, poolId: 'w' })).length,
      1,
    );
    await driver.close();
  });
});
