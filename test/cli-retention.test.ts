/**
 * `jobwire jobs purge` on a SQLite file: deletes finished jobs by state and age, never active
 * ones; refuses a purge without --state and durations it cannot read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-retention-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('jobs purge deletes finished jobs by state and age, never active ones', async () => {
  const db = join(dir, 'purge.db');
  const task = defineTask({ name: 'purge.me', handler: async () => 'ok' });
  const client = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [task], retention: false });
  const done = [await client.enqueue(task, {}), await client.enqueue(task, {})];
  const pool = client.createPool({ pollIntervalMs: 20, handleSignals: false });
  await pool.start();
  await Promise.all(done.map((job) => client.waitForJob(job.id)));
  await pool.stop();
  const waiting = await client.enqueue(task, {});
  await client.close();

  const tooYoung = await jobwire(['jobs', 'purge', '--state', 'completed', '--older-than', '7d', '--db', db]);
  assert.equal(tooYoung.code, 0, tooYoung.stderr);
  assert.equal(tooYoung.stdout.trim(), 'deleted 0 jobs');
  const purged = await jobwire(['jobs', 'purge', '--state', 'all', '--json', '--db', db]);
  assert.equal(purged.code, 0, purged.stderr);
  assert.deepEqual(JSON.parse(purged.stdout), { deleted: 2 });
  const shown = await jobwire(['jobs', 'show', waiting.id, '--json', '--db', db]);
  assert.equal(JSON.parse(shown.stdout).state, 'pending');
});

test('jobs purge refuses a missing --state, an active state and a bad duration (exit 2)', async () => {
  const db = join(dir, 'refuse.db');
  for (const [args, message] of [
    [['jobs', 'purge'], /--state is required/],
    [['jobs', 'purge', '--state', 'pending'], /not a finished state/],
    [['jobs', 'purge', '--state', 'completed', '--older-than', '7 days'], /must be a duration/],
  ] as const) {
    const run = await jobwire([...args, '--db', db]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const help = await jobwire(['jobs', 'purge', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--older-than/);
});
