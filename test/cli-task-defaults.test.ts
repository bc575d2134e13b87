/**
 * `jobwire enqueue <task>` by name, in-process (the process boundary is not the point here): it
 * gets the defaults the task's workers published, and `jobwire tasks` lists them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../src/cli/app.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';

/** Run the CLI in this process, capturing its output. */
async function jobwire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  err.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await runCli(args, { out, err });
  return { code, stdout, stderr };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-tasks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const report = defineTask<{ n: number }, { doubled: number }>({
  name: 'report',
  queue: 'reports',
  priority: 2,
  maxAttempts: 7,
  timeoutMs: 30_000,
  backoff: { type: 'fixed', delayMs: 500 },
  handler: async ({ n }) => ({ doubled: n * 2 }),
});

describe('jobwire enqueue by name', () => {
  test('the job gets the defaults the task’s worker published, and that worker runs it', async () => {
    const db = join(dir, 'published.db');
    const worker = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [report] });
    try {
      const run = await jobwire(['enqueue', 'report', '{"n": 21}', '--json', '--db', db]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '', 'no note: the task is published');
      const job = JSON.parse(run.stdout) as Record<string, unknown>;
      assert.equal(job.queue, 'reports');
      assert.equal(job.priority, 2);
      assert.equal(job.maxAttempts, 7);
      assert.equal(job.timeoutMs, 30_000);
      assert.deepEqual(job.backoff, { type: 'fixed', delayMs: 500 });

      const overridden = await jobwire(['enqueue', 'report', '{}', '--queue', 'other', '--json', '--db', db]);
      assert.equal(overridden.code, 0, overridden.stderr);
      assert.equal((JSON.parse(overridden.stdout) as { queue: string }).queue, 'other', '--queue wins');

      const pool = worker.createPool({ queues: ['reports'], pollIntervalMs: 20, handleSignals: false });
      await pool.start();
      assert.deepEqual(await worker.waitForJob(String(job.id), { timeoutMs: 10_000 }), { doubled: 42 });
      await pool.stop();

      const listed = await jobwire(['tasks', '--json', '--db', db]);
      assert.equal(listed.code, 0, listed.stderr);
      const [contract] = JSON.parse(listed.stdout) as Record<string, unknown>[];
      assert.deepEqual(
        { ...contract, updatedAt: undefined },
        {
          name: 'report',
          queue: 'reports',
          priority: 2,
          maxAttempts: 7,
          timeoutMs: 30_000,
          backoff: { type: 'fixed', delayMs: 500 },
          updatedAt: undefined,
        },
      );
      const tableRun = await jobwire(['tasks', '--db', db]);
      assert.equal(tableRun.code, 0, tableRun.stderr);
      assert.match(tableRun.stdout, /report\s+reports\s+2\s+7\s+30000 ms\s+fixed 500 ms/);
    } finally {
      await worker.close();
    }
  });

  test('a task no worker published is still enqueued, with the global defaults and a note', async () => {
    const db = join(dir, 'unpublished.db');
    const run = await jobwire(['enqueue', 'nobody-runs-this', '{}', '--json', '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { queue: string }).queue, 'default');
    assert.match(run.stderr, /no worker has published task "nobody-runs-this"/);
    const listed = await jobwire(['tasks', '--db', db]);
    assert.match(listed.stdout, /no tasks published yet/);
  });

  test('a name close to a published task is refused as a typo, naming it; --new-task enqueues it anyway', async () => {
    const db = join(dir, 'typo.db');
    const worker = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [report] });
    try {
      const typo = await jobwire(['enqueue', 'reprot', '{"n": 1}', '--db', db]);
      assert.equal(typo.code, 1, typo.stdout);
      assert.match(
        typo.stderr,
        /no worker has published task "reprot"; did you mean "report"\? Nothing was enqueued/,
      );
      assert.match(typo.stderr, /--new-task/);
      assert.equal((await worker.countJobs()).pending, 0, 'nothing stored');
      // A name no published task is close to is still taken (a task whose workers come later).
      const fresh = await jobwire(['enqueue', 'invoice-archive', '{}', '--db', db]);
      assert.equal(fresh.code, 0, fresh.stderr);
      const forced = await jobwire(['enqueue', 'reprot', '{}', '--new-task', '--json', '--db', db]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal((JSON.parse(forced.stdout) as { task: string }).task, 'reprot');
      assert.equal((await worker.countJobs()).pending, 2);
    } finally {
      await worker.close();
    }
  });
});
