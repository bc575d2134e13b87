/**
 * A database that hangs (a partition, a held lock) must not take the scrape with it: every scrape
 * waited for the cluster read — 10–30 s, past Prometheus's 10 s scrape timeout — so the target
 * went down whole, this process's own counters with it. Past `readTimeoutMs` a scrape answers
 * with `cluster_up 0`, no cluster samples, and the process metrics; once the read comes back the
 * next scrape has it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineTask } from '../src/index.js';
import { type ClusterSource, createMetrics, queueCountsSource } from '../src/sinks/metrics.js';
import { withClient } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';
import { sqliteDatabases } from './support/sqlite.js';

const ok = defineTask({ name: 'ok', handler: async () => 'done' });

describe('metrics while the database hangs', () => {
  test('a scrape answers within readTimeoutMs with cluster_up 0 and the process metrics', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    await client.enqueue(ok, {});
    let release: () => void = () => {};
    let hanging = true;
    const source: ClusterSource = async (jobwire) => {
      if (hanging) await new Promise<void>((resolve) => (release = resolve));
      return queueCountsSource(jobwire);
    };
    const metrics = createMetrics(client, { cacheMs: 0, readTimeoutMs: 300, clusterSource: source });
    t.after(() => {
      release();
      metrics.close();
    });
    const within = async (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve('no answer'), ms);
      });
      try {
        return await Promise.race([metrics.text(), late]);
      } finally {
        clearTimeout(timer);
      }
    };
    // Before: the scrape waited for the database (here: forever).
    const text = await within(5_000);
    assert.notEqual(text, 'no answer');
    const down = parseExposition(text);
    assert.equal(down.value('jobwire_cluster_up'), 0);
    assert.equal(down.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), undefined);
    assert.match(text, /jobwire_jobs_enqueued_total|jobwire_job_/, 'the process metrics are served');
    // The database answers again: the read in flight completes and the next scrape has it.
    hanging = false;
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const up = parseExposition(await metrics.text());
    assert.equal(up.value('jobwire_cluster_up'), 1);
    assert.equal(up.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 1);
  });

  test('readTimeoutMs must be a whole number of ms >= 0', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    for (const readTimeoutMs of [-1, 1.5, Number.NaN]) {
      assert.throws(() => createMetrics(client, { readTimeoutMs }), /readTimeoutMs/);
    }
  });
});
