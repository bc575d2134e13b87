/**
 * Upgrading SQLite files that released builds of jobwire made, with the schema those builds
 * left, which is not always "versions 1 to n":
 *
 * - Branches were merged out of order, so released builds had numbered gaps: the dedup merge
 *   (dddec96) shipped 1–7 and 9, the counts merge (ddf10f9) 1–7, 9 and 11, the flow-control
 *   merge (6d35db8) 1–9 and 11. The runner applied only versions above the highest recorded:
 *   the first two files failed to upgrade (`no such table: jobwire_flow_keys`), and the third
 *   was recorded at 18 without schema 10, after which every claim and task publish failed
 *   (`no such column: dependents`).
 * - A file the old runner so migrated (1–9, 11–18) still lacks 10, whose state list schema 16
 *   had already rewritten.
 * - Released migrations were edited afterwards: schema 1 as first released (b3f950b) had no
 *   `jobwire_jobs_running` index, which queries name in INDEXED BY; schema 15 as first released
 *   (77f877e) left flow control's insert trigger.
 *
 * Each file is built here from the migration files (unchanged since those builds) plus the
 * recorded edit, holds a job from before the upgrade, and must upgrade to the schema a new file
 * gets, then run that job and new ones with flow keys and dependencies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { LATEST_VERSION, MIGRATIONS } from '../src/drivers/sqlite/migrations/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { runCliInProcess, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

const work = defineTask({ name: 'work', handler: async (payload: { n: number }) => payload.n });

function tempFile(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-upgrade-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'old.db');
}

/** A file with exactly `versions` applied (and recorded), then `edit` run, holding one pending job. */
function oldFile(path: string, versions: number[], edit = ''): void {
  const db = new Database(path);
  try {
    db.exec(
      'CREATE TABLE jobwire_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
    );
    for (const version of versions) {
      const migration = MIGRATIONS.find((m) => m.version === version)!;
      db.exec(typeof migration.sql === 'string' ? migration.sql : migration.sql(db));
      db.prepare('INSERT INTO jobwire_migrations VALUES (?, 0)').run(version);
    }
    db.exec(edit);
    db.prepare(
      `INSERT INTO jobwire_jobs (task, queue, payload, state, max_attempts, run_at, created_at, correlation_id)
       VALUES ('work', 'default', '{"n":41}', 'pending', 3, 0, 0, 'old')`,
    ).run();
  } finally {
    db.close();
  }
}

/** Every table, index and trigger, as a new file of this version has them. */
function schemaOf(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`,
        )
        .all() as { type: string; name: string; sql: string | null }[]
    ).map((row) =>
      // Columns added by a migration applied late land at the end of the table: the same
      // columns, in another order, read by name.
      row.name === 'jobwire_jobs' && row.type === 'table'
        ? `${row.type} ${row.name} ${[...(row.sql ?? '').matchAll(/\b([a-z_]+)\s+(?:INTEGER|TEXT)\b/g)]
            .map((m) => m[1])
            .sort()
            .join(',')} ${/CHECK \(state = [^)]*\)/.exec(row.sql ?? '')?.[0]}`
        : `${row.type} ${row.name} ${row.sql}`,
    );
  } finally {
    db.close();
  }
}

let freshSchema: string[] | undefined;
async function fresh(t: { after: (fn: () => void) => void }): Promise<string[]> {
  if (!freshSchema) {
    const path = tempFile(t);
    await (await createJobwire({ driver: sqliteDriver({ path }) })).close();
    freshSchema = schemaOf(path);
    assert.ok(freshSchema.length > 25, `the catalog read sees the schema (${freshSchema.length} rows)`);
  }
  return freshSchema;
}

const upToLatest = (from: number) => MIGRATIONS.filter((m) => m.version > from).map((m) => m.version);

const cases: { name: string; versions: number[]; edit?: string; applied: number[] }[] = [
  { name: 'the dedup merge (1–7, 9)', versions: [1, 2, 3, 4, 5, 6, 7, 9], applied: [8, ...upToLatest(9)] },
  {
    name: 'the counts merge (1–7, 9, 11)',
    versions: [1, 2, 3, 4, 5, 6, 7, 9, 11],
    applied: [8, 10, ...upToLatest(11)],
  },
  {
    name: 'the flow-control merge (1–9, 11)',
    versions: [1, 2, 3, 4, 5, 6, 7, 8, 9, 11],
    applied: [10, ...upToLatest(11)],
  },
  {
    name: 'a 1–9, 11 file the old runner took to the latest without 10',
    versions: MIGRATIONS.map((m) => m.version).filter((v) => v !== 10),
    applied: [10],
  },
  {
    name: 'schema 1 as first released (state index, no running index)',
    versions: [1],
    edit: `DROP INDEX jobwire_jobs_running;
           CREATE INDEX jobwire_jobs_state ON jobwire_jobs (state, queue, id);`,
    applied: upToLatest(1),
  },
  {
    name: 'schema 15 as first released (insert trigger kept)',
    versions: MIGRATIONS.map((m) => m.version).filter((v) => v < 15),
    // 15 then dropped only the update trigger.
    edit: `DROP TRIGGER IF EXISTS jobwire_flow_key_waiting;
           INSERT INTO jobwire_migrations VALUES (15, 0);`,
    applied: upToLatest(15),
  },
];

for (const c of cases) {
  test(`upgrade from ${c.name}: every missing migration applied, the old job and new ones run`, async (t) => {
    const path = tempFile(t);
    oldFile(path, c.versions, c.edit);
    const driver = sqliteDriver({ path });
    const before = await driver.schemaVersion();
    assert.ok(
      before.current < LATEST_VERSION,
      `a file missing migrations reads as not current (${before.current})`,
    );
    const result = await driver.migrate();
    assert.deepEqual(result.applied, c.applied);
    assert.equal(result.to, LATEST_VERSION);
    assert.deepEqual(await driver.schemaVersion(), { current: LATEST_VERSION, latest: LATEST_VERSION });
    await driver.close();
    assert.deepEqual(schemaOf(path), await fresh(t));

    const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [work] });
    t.after(() => jobwire.close());
    const keyed = await jobwire.enqueue(work, { n: 1 }, { concurrencyKey: 'k' });
    const blocked = await jobwire.enqueue(work, { n: 2 }, { dependsOn: [keyed.id] });
    assert.equal((await jobwire.getJob(blocked.id))?.state, 'blocked');
    assert.equal((await jobwire.listJobs({ state: 'running' })).jobs.length, 0);
    const pool = jobwire.createPool({ concurrency: 2, handleSignals: false });
    await pool.start();
    t.after(() => pool.stop());
    assert.equal(await jobwire.waitForJob('1', { timeoutMs: 10_000 }), 41);
    assert.equal(await jobwire.waitForJob(keyed.id, { timeoutMs: 10_000 }), 1);
    assert.equal(await jobwire.waitForJob(blocked.id, { timeoutMs: 10_000 }), 2);
    await pool.stop();
    // Nothing left to apply or repair on the next start.
    assert.deepEqual((await jobwire.migrate()).applied, []);
    assert.deepEqual(schemaOf(path), await fresh(t));
  });
}

test('a read command on an older file says it needs an upgrade, not that it is uninitialised; a newer file says to upgrade the CLI', async (t) => {
  const path = tempFile(t);
  oldFile(path, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const old = await runCliInProcess(['jobs', 'ls', '--db', path]);
  assert.equal(old.code, 1, old.stdout);
  // Before: "… is not initialised for jobwire … (both create the tables)", about a file of jobs.
  assert.doesNotMatch(old.stderr, /not initialised/);
  assert.match(old.stderr, new RegExp(`schema version 11, older than this jobwire's ${LATEST_VERSION}`));
  assert.match(old.stderr, /run "jobwire migrate --db …" to upgrade it in place/);
  const migrated = await runCliInProcess(['migrate', '--db', path]);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal((await runCliInProcess(['jobs', 'ls', '--db', path])).code, 0);
  // A file a newer jobwire migrated.
  const db = new Database(path);
  db.prepare('INSERT INTO jobwire_migrations VALUES (?, 0)').run(LATEST_VERSION + 1);
  db.close();
  const newer = await runCliInProcess(['jobs', 'ls', '--db', path]);
  assert.equal(newer.code, 1);
  assert.match(
    newer.stderr,
    new RegExp(`schema version ${LATEST_VERSION + 1}; this jobwire knows up to ${LATEST_VERSION}`),
  );
  assert.match(newer.stderr, /upgrade this jobwire/);
});

test('a process starting while another holds the lock of a file behind this code waits for the upgrade past busyTimeoutMs; on a current file it does not', async (t) => {
  const path = tempFile(t);
  oldFile(
    path,
    MIGRATIONS.map((m) => m.version).filter((v) => v < LATEST_VERSION),
  );
  // A file jobwire made is in WAL mode (switching to it needs the lock this test holds).
  const wal = new Database(path);
  wal.pragma('journal_mode = WAL');
  wal.close();
  // Another process upgrading: the write lock held for 1.5 s, five times busyTimeoutMs.
  const hold = (ms: number) => {
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    setTimeout(() => {
      blocker.exec('COMMIT');
      blocker.close();
    }, ms);
  };
  hold(1500);
  const started = performance.now();
  // Before, this failed after 300 ms: "held the database lock for longer than busyTimeoutMs".
  const client = await createJobwire({ driver: sqliteDriver({ path, busyTimeoutMs: 300 }), tasks: [work] });
  assert.ok(performance.now() - started >= 1000, 'it waited for the lock');
  assert.deepEqual(await client.schemaVersion(), { current: LATEST_VERSION, latest: LATEST_VERSION });
  await client.close();
  // The file is current now: a lock held past busyTimeoutMs is an ordinary failure, at once.
  hold(1500);
  await assert.rejects(
    createJobwire({ driver: sqliteDriver({ path, busyTimeoutMs: 300 }), tasks: [work] }),
    /held the database lock for longer than busyTimeoutMs/,
  );
  await new Promise((resolve) => setTimeout(resolve, 1600));
});
