/**
 * `jobwire worker --metrics-port`: a real worker process serves its own counters and the cluster
 * gauges; scraped while it runs, then stopped with SIGTERM (exit 0, server gone).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, runCliInProcess, spawnCli, useCliTestEnvironment } from './support/cli.js';
import { until } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';

useCliTestEnvironment();

test('worker --metrics-port 0 serves its counters and the cluster gauges', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'jobwire-metrics-worker-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  await writeFile(
    join(work, 'tasks.mjs'),
    `import { defineTask } from ${JSON.stringify(index)};
export const echo = defineTask({ name: 'echo', handler: async (payload) => payload });
`,
  );
  const db = join(work, 'jobs.db');
  for (const n of [1, 2]) {
    const enqueued = await runCliInProcess(['enqueue', 'echo', JSON.stringify({ n }), '--db', db]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
  }

  const child = spawnCli(
    ['worker', '--tasks', './tasks.mjs', '--db', './jobs.db', '--concurrency', '2', '--metrics-port', '0'],
    { cwd: work, stdin: 'ignore' },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let url = '';
  try {
    await until(
      () => /metrics at (http:\/\/\S+)/.test(stdout),
      20_000,
      `the metrics URL\n${stdout}\n${stderr}`,
    );
    url = /metrics at (http:\/\/\S+)/.exec(stdout)![1]!;
    // The cluster gauges are cached for 5 s: wait on the worker's own counter, then on the cluster.
    let m = parseExposition('');
    await until(
      async () => {
        m = parseExposition(await (await fetch(url)).text());
        return m.value('jobwire_jobs_completed_total', { queue: 'default', task: 'echo' }) === 2;
      },
      20_000,
      'two completions in the worker metrics',
    );
    assert.equal(m.value('jobwire_jobs_started_total', { queue: 'default', task: 'echo' }), 2);
    assert.equal(m.value('jobwire_workers'), 2);
    assert.equal(m.value('jobwire_pools_running'), 1);
    assert.equal(m.value('jobwire_cluster_up'), 1);
    assert.equal(m.types.get('jobwire_queue_jobs'), 'GAUGE');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  await assert.rejects(fetch(url), 'the metrics server stops with the worker');
});
