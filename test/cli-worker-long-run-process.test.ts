/**
 * A long run of `jobwire worker`: 200k jobs of one task, then a graceful stop by SIGTERM. The
 * worker must exit 0 with a summary that counts every job (a summary once overflowed the stack
 * here, spreading 150k durations into one push) and its memory must stay flat while it works
 * (its statistics once kept every job id and duration). The heap is measured after a full GC
 * at 20k and at 200k completed jobs, while the worker runs; the numbers are printed.
 *
 * The worker runs in this process (the entry function the executable calls) so its heap can be
 * measured; the signal is a real one, sent to this process. The file name marks it slow for the
 * test runner (test/support/run-tests.ts): `npm run test:fast` skips it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, MAX_ENQUEUE_MANY_JOBS } from '../src/index.js';
import { runCliInProcess as jobwire, lines, ROOT, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const JOBS = 200_000;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-long-run-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

test(`worker through ${JOBS / 1000}k jobs: SIGTERM exits 0, full summary, flat heap`, {
  timeout: 600_000,
}, async () => {
  const db = join(dir, 'jobs.db');
  const tasks = join(dir, 'tasks.mjs');
  const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  await writeFile(
    tasks,
    `import { defineTask } from ${JSON.stringify(index)};
export const tick = defineTask({ name: 'tick', handler: async () => null });
`,
  );
  const client = await createJobwire({ driver: sqliteDriver({ path: db }), strictTasks: false });
  try {
    for (let start = 0; start < JOBS; start += MAX_ENQUEUE_MANY_JOBS) {
      const count = Math.min(MAX_ENQUEUE_MANY_JOBS, JOBS - start);
      await client.enqueueMany(Array.from({ length: count }, () => ({ task: 'tick', payload: null })));
    }
    // Only failures are printed (none here) and the summary: the output stays small.
    const run = jobwire(
      ['worker', '--tasks', tasks, '--db', db, '--json', '--log-level', 'warn', '--concurrency', '20'],
      { timeoutMs: 600_000 },
    );
    const completed = async () => (await client.countJobs()).completed;
    const waitFor = async (count: number) => {
      while ((await completed()) < count) await new Promise((resolve) => setTimeout(resolve, 200));
    };
    await waitFor(20_000);
    const early = heapMb();
    await waitFor(JOBS);
    const late = heapMb();
    process.kill(process.pid, 'SIGTERM');
    const result = await run;
    console.log(
      `# heap at 20k jobs ${early.toFixed(1)} MB, at ${JOBS / 1000}k jobs ${late.toFixed(1)} MB ` +
        `(+${(late - early).toFixed(1)} MB)`,
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(lines(result.stdout).at(-1)!) as Record<string, unknown>;
    assert.equal(summary.event, 'summary');
    assert.equal(summary.completed, JOBS);
    assert.equal(summary.jobs, JOBS);
    assert.equal(summary.unfinished, 0);
    // Keeping one id and one duration per job grew the heap by ~25 MB over these 180k jobs.
    assert.ok(late - early < 8, `the heap grew by ${(late - early).toFixed(1)} MB from 20k to 200k jobs`);
  } finally {
    await client.close();
  }
});
