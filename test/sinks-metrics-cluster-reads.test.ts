/**
 * The cluster gauges of one scrape come from one database reading, and a reading in flight is
 * shared, whatever `cacheMs` is: with `cacheMs: 0` (no reuse between scrapes) a scrape read the
 * database once per cluster gauge — five reads, each gauge from another moment (a scrape could
 * say `cluster_up 1` and have no `queue_jobs` samples) — and a read slower than `cacheMs` was
 * started again by every scrape that came meanwhile (a slow database got more queries the slower
 * it was).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineTask } from '../src/index.js';
import { type ClusterSource, createMetrics, queueCountsSource } from '../src/sinks/metrics.js';
import { ManualClock, withClient } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';
import { sqliteDatabases } from './support/sqlite.js';

const ok = defineTask({ name: 'ok', handler: async () => 'done' });

/** A source that counts its reads and takes `delayMs` (real time) for each. */
function countingSource(delayMs = 5) {
  let reads = 0;
  const source: ClusterSource = async (jobwire) => {
    reads++;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return queueCountsSource(jobwire);
  };
  return { source, reads: () => reads };
}

describe('cluster reads per scrape', () => {
  test('cacheMs 0: one read per scrape for every cluster gauge; concurrent scrapes share it', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    await client.enqueue(ok, {});
    const { source, reads } = countingSource();
    const metrics = createMetrics(client, { cacheMs: 0, clusterSource: source });
    t.after(() => metrics.close());

    const first = parseExposition(await metrics.text());
    assert.equal(reads(), 1, 'one read feeds cluster_up, queue_jobs, queue_jobs_exact, queue_paused, …');
    assert.equal(first.value('jobwire_cluster_up'), 1);
    assert.equal(first.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 1);

    await client.enqueue(ok, {});
    const second = parseExposition(await metrics.text());
    assert.equal(reads(), 2, 'no reuse between scrapes with cacheMs 0');
    assert.equal(second.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 2);

    await Promise.all([metrics.text(), metrics.text(), metrics.text()]);
    assert.equal(reads(), 3, 'three concurrent scrapes share the read in flight');
  });

  test('a read slower than cacheMs is shared by the scrapes that arrive meanwhile', async (t) => {
    const clock = new ManualClock(1_000_000);
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok], clock });
    const { source, reads } = countingSource(200);
    const metrics = createMetrics(client, { cacheMs: 1000, clusterSource: source });
    t.after(() => metrics.close());

    const slow = metrics.text();
    clock.advance(5000); // the cache period passed while the first read is still running
    const meanwhile = metrics.text();
    await Promise.all([slow, meanwhile]);
    assert.equal(reads(), 1, 'no second read while the first is in flight');

    clock.advance(999);
    await metrics.text();
    assert.equal(reads(), 1, 'the reading is reused for cacheMs');
    clock.advance(1);
    await metrics.text();
    assert.equal(reads(), 2, 'then read again');
  });
});
