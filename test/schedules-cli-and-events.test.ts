/**
 * Schedules as an operator meets them (found by trying the CLI on PostgreSQL):
 * - `jobwire schedules … --schema <s>` reaches that PostgreSQL schema (it read and wrote the
 *   default `jobwire` schema whatever --schema said);
 * - `schedules rm <id>` of no schedule exits 1 (as `flow rm`), so a typo'd id is noticed;
 * - `schedule:skipped` of a schedule whose task has its own queue names that queue (it said
 *   `default`, so `events tail --queue <q>` never showed it);
 * - a schedule that cannot fire (its payload no longer passes the task's schema) is named in the
 *   scheduler's error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { clientInternals } from '../src/core/internals.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask, type Jobwire, type JobwireEvents } from '../src/index.js';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';
import { createIsolatedSchema, getAdminPool } from './support/postgres.js';

useCliTestEnvironment();

const MINUTE = 60_000;
/** The elector's timers never fire here: the test runs each scheduler pass itself. */
const maintenance = { rescueIntervalMs: 60_000, leaderTtlMs: 120_000, outageGraceMs: 0 };

let dir: string;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-schedules-cli-'));
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function runScheduler(client: Jobwire): Promise<void> {
  const scheduler = clientInternals(client).leader.services.find((s) => s.name === 'scheduler');
  assert.ok(scheduler, 'the client has a scheduler');
  await scheduler.runOnce();
}

test('schedules add, ls and rm with --schema act on that PostgreSQL schema', async () => {
  const { url, schema, drop } = await createIsolatedSchema();
  cleanups.push(drop);
  // A worker of the deployment publishes its task in its own schema.
  const worker = await createJobwire({
    driver: postgresDriver({ connectionString: url, schema }),
    tasks: [defineTask({ name: 'cli.report', queue: 'reports', handler: async () => 'ok' })],
  });
  try {
    const added = await jobwire([
      'schedules',
      'add',
      'cli-nightly',
      '--task',
      'cli.report',
      '--every',
      '1h',
      '--db',
      url,
      '--schema',
      schema,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const stored = await worker.schedules.get('cli-nightly');
    assert.ok(stored, 'the schedule is in the schema --schema named');
    const pool = await getAdminPool();
    const { rows } = await pool.query(
      `SELECT 1 FROM pg_tables WHERE schemaname = 'jobwire' AND tablename = 'schedules'`,
    );
    if (rows.length > 0) {
      const other = await pool.query(`SELECT 1 FROM jobwire.schedules WHERE id = 'cli-nightly'`);
      assert.equal(other.rows.length, 0, 'nothing was written to the default schema');
    }
    const ls = await jobwire(['schedules', 'ls', '--json', '--db', url, '--schema', schema]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(
      (JSON.parse(ls.stdout) as { id: string }[]).map((s) => s.id),
      ['cli-nightly'],
    );
    const removed = await jobwire(['schedules', 'rm', 'cli-nightly', '--db', url, '--schema', schema]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await worker.schedules.get('cli-nightly'), undefined);
  } finally {
    await worker.close();
  }
});

test('schedules rm of no schedule exits 1, as flow rm does', async () => {
  const db = join(dir, 'cli.db');
  const client = await createJobwire({
    driver: sqliteDriver({ path: db }),
    tasks: [defineTask({ name: 'cli.tick', handler: async () => 'ok' })],
  });
  await client.close();
  const missing = await jobwire(['schedules', 'rm', 'no-such-schedule', '--db', db]);
  assert.equal(missing.code, 1, missing.stdout);
  assert.match(missing.stdout, /no schedule "no-such-schedule"/);
  const ls = await jobwire(['schedules', 'ls', '--db', db]);
  assert.match(ls.stdout, /no schedules/);
});

test('schedule:skipped names the queue of the task, not "default"', async () => {
  let now = Date.UTC(2030, 0, 1);
  const clock = { now: () => now };
  const report = defineTask({ name: 'cli.slow', queue: 'reports', handler: async () => 'ok' });
  const client = await createJobwire({
    driver: sqliteDriver({ path: join(dir, 'skipped.db') }),
    tasks: [report],
    clock,
    maintenance,
    retention: false,
  });
  try {
    const skipped: JobwireEvents['schedule:skipped'][] = [];
    client.events.on('schedule:skipped', (event) => skipped.push(event));
    const fired: JobwireEvents['schedule:fired'][] = [];
    client.events.on('schedule:fired', (event) => fired.push(event));
    await client.schedules.upsert({ id: 'solo', every: '1m', task: report, overlap: 'skip' });
    now += MINUTE;
    await runScheduler(client); // the first tick's job, still waiting (no pool runs)
    now += MINUTE;
    await runScheduler(client); // skipped: the previous job is still pending
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.queue, 'reports');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.queue, 'reports');
  } finally {
    await client.close();
  }
});

test('a schedule that cannot fire is named in the scheduler error', async () => {
  let now = Date.UTC(2030, 0, 1);
  const clock = { now: () => now };
  const path = join(dir, 'drift.db');
  const v1 = defineTask({
    name: 'cli.drift',
    schema: z.object({ n: z.number() }),
    handler: async () => 'ok',
  });
  const before = await createJobwire({ driver: sqliteDriver({ path }), tasks: [v1], clock, maintenance });
  await before.schedules.upsert({ id: 'drifting-report', every: '1m', task: v1, payload: { n: 1 } });
  await before.close();
  // The next deploy's task takes another payload; the stored schedule's no longer passes.
  const v2 = defineTask({
    name: 'cli.drift',
    schema: z.object({ m: z.string() }),
    handler: async () => 'ok',
  });
  const after = await createJobwire({ driver: sqliteDriver({ path }), tasks: [v2], clock, maintenance });
  try {
    now += MINUTE;
    await assert.rejects(runScheduler(after), (error: Error) => {
      assert.match(error.message, /Invalid payload for task "cli\.drift"/);
      assert.match(error.message, /schedule "drifting-report"/);
      return true;
    });
  } finally {
    await after.close();
  }
});
