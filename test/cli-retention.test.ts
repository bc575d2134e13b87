/**
 * `jobwire jobs purge` on a SQLite file: deletes finished jobs by state and age, never active
 * ones; refuses a purge without --state and durations it cannot read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { runCliInProcess as jobwire, ROOT, useCliTestEnvironment } from './support/cli.js';
import { startCliInProcess } from './support/cli-live.js';

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

test('jobwire worker --no-retention prunes nothing when it leads; without it, old finished jobs go', async () => {
  const module = join(dir, 'retention-tasks.mjs');
  await writeFile(
    module,
    `import { defineTask } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
export const keep = defineTask({ name: 'keep', handler: async () => 'ok' });
`,
  );
  const task = defineTask({ name: 'keep', handler: async () => 'ok' });
  /** A file with five jobs completed two days ago, as an app with `retention: false` keeps them. */
  const oldJobs = async (path: string) => {
    const client = await createJobwire({ driver: sqliteDriver({ path }), tasks: [task], retention: false });
    await client.enqueueMany(Array.from({ length: 5 }, () => ({ task, payload: {} })));
    const pool = client.createPool({ pollIntervalMs: 20, handleSignals: false });
    await pool.start();
    await pool.whenIdle();
    await pool.stop();
    await client.close();
    const db = new Database(path);
    db.prepare('UPDATE jobwire_jobs SET finished_at = finished_at - 2 * 86400000').run();
    db.close();
  };
  const completed = (path: string) => {
    const db = new Database(path, { readonly: true });
    const n = db.prepare("SELECT count(*) AS n FROM jobwire_jobs WHERE state = 'completed'").get() as {
      n: number;
    };
    db.close();
    return n.n;
  };
  for (const keepThem of [true, false]) {
    const path = join(dir, `worker-retention-${keepThem}.db`);
    await oldJobs(path);
    const run = startCliInProcess([
      'worker',
      '--tasks',
      module,
      '--db',
      path,
      ...(keepThem ? ['--no-retention'] : []),
    ]);
    try {
      await run.until('the worker leads', (out) => /leader:elected/.test(out));
      if (keepThem) {
        // Two leader ticks: the job pruner's first run comes with the election.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.equal(completed(path), 5, 'the jobs the app keeps are still there');
      } else {
        const deadline = Date.now() + 15_000;
        while (completed(path) > 0) {
          assert.ok(Date.now() < deadline, 'the default retention pruned the two-day-old jobs');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      assert.equal(await run.stop(), 0, run.stderr());
    }
  }
});

test('jobwire worker --delete-completed deletes the jobs it completes; their events stay; it refuses --no-retention beside it', async () => {
  const module = join(dir, 'delete-tasks.mjs');
  await writeFile(
    module,
    `import { defineTask } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
export const gone = defineTask({ name: 'gone', handler: async () => 'ok' });
`,
  );
  const task = defineTask({ name: 'gone', handler: async () => 'ok' });
  const rows = (path: string) => {
    const db = new Database(path, { readonly: true });
    const n = db.prepare('SELECT count(*) AS n FROM jobwire_jobs').get() as { n: number };
    db.close();
    return n.n;
  };
  for (const how of ['flag', 'env'] as const) {
    const path = join(dir, `delete-completed-${how}.db`);
    const client = await createJobwire({ driver: sqliteDriver({ path }), tasks: [task] });
    const jobs = await client.enqueueMany(Array.from({ length: 3 }, () => ({ task, payload: {} })));
    // In process: the command reads the variable from this process's environment.
    if (how === 'env') process.env.JOBWIRE_DELETE_COMPLETED = '1';
    const run = startCliInProcess([
      'worker',
      '--tasks',
      module,
      '--db',
      path,
      ...(how === 'flag' ? ['--delete-completed'] : []),
    ]);
    try {
      for (const job of jobs) assert.equal(await client.waitForJob(job.id, { timeoutMs: 15_000 }), 'ok');
      assert.equal(rows(path), 0, `${how}: the completed rows went as they completed`);
      const timeline = await jobwire(['events', '--job', jobs[0]!.id, '--json', '--db', path]);
      assert.match(timeline.stdout, /job:completed/);
    } finally {
      delete process.env.JOBWIRE_DELETE_COMPLETED;
      assert.equal(await run.stop(), 0, run.stderr());
      await client.close();
    }
  }
  const both = await jobwire(['worker', '--tasks', module, '--no-retention', '--delete-completed']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /contradict/);
});
