/**
 * A database that hangs (a partition, a connection that never answers) for longer than
 * `readTimeoutMs`: the first scrape finds the cluster read late and answers with `cluster_up 0`
 * after `readTimeoutMs`; the scrapes after it, while the same read is still in flight, must answer
 * at once — the read is already known to be late. Each of them used to wait the whole
 * `readTimeoutMs` again: in a 40 s PostgreSQL blackhole (TCP proxy probe, `jobwire metrics` and two
 * workers with `--metrics-port`) every scrape took 5.0 s for the 26 s a read hung.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineTask } from '../src/index.js';
import { type ClusterSource, createMetrics, queueCountsSource } from '../src/sinks/metrics.js';
import { withClient } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';
import { sqliteDatabases } from './support/sqlite.js';

const ok = defineTask({ name: 'ok', handler: async () => 'done' });

/** The read timer is unref'd (it never keeps a process alive): keep the test's loop alive meanwhile. */
function keepAlive(t: { after(fn: () => void): void }): void {
  const timer = setInterval(() => {}, 1000);
  t.after(() => clearInterval(timer));
}

describe('metrics while a cluster read stays late', () => {
  test('scrapes after the first late one answer at once, and recover when the read completes', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    keepAlive(t);
    await client.enqueue(ok, {});
    let release: () => void = () => {};
    let reads = 0;
    let hanging = true;
    const source: ClusterSource = async (jobwire) => {
      reads++;
      if (hanging) await new Promise<void>((resolve) => (release = resolve));
      return queueCountsSource(jobwire);
    };
    const readTimeoutMs = 800;
    const metrics = createMetrics(client, { cacheMs: 0, readTimeoutMs, clusterSource: source });
    t.after(() => {
      release();
      metrics.close();
    });
    const timed = async () => {
      const began = performance.now();
      const text = await metrics.text();
      return { ms: performance.now() - began, text };
    };

    const first = await timed();
    assert.equal(parseExposition(first.text).value('jobwire_cluster_up'), 0);
    assert.ok(first.ms >= readTimeoutMs - 50, `the first scrape waits for the read (${first.ms} ms)`);

    // The same read is still in flight, already past readTimeoutMs: answered at once (before the
    // fix each of these waited readTimeoutMs again).
    for (let i = 0; i < 3; i++) {
      const next = await timed();
      const parsed = parseExposition(next.text);
      assert.equal(parsed.value('jobwire_cluster_up'), 0);
      assert.equal(parsed.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), undefined);
      assert.match(next.text, /jobwire_jobs_enqueued_total/, 'the process metrics are served');
      assert.ok(next.ms < readTimeoutMs / 2, `scrape ${i + 2} answered in ${Math.round(next.ms)} ms`);
    }
    assert.equal(reads, 1, 'one read in flight, shared by every scrape');

    // The database answers: the read completes and the next scrape has the cluster again.
    hanging = false;
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const up = parseExposition((await timed()).text);
    assert.equal(up.value('jobwire_cluster_up'), 1);
    assert.equal(up.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 1);

    // A new hang: a fresh read gets the whole readTimeoutMs again (the limit counts per read).
    hanging = true;
    const again = await timed();
    assert.equal(parseExposition(again.text).value('jobwire_cluster_up'), 0);
    assert.ok(again.ms >= readTimeoutMs - 50, `a new read is waited for (${Math.round(again.ms)} ms)`);
  });

  test('a scrape that joins a read in flight waits only what is left of readTimeoutMs', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    keepAlive(t);
    let release: () => void = () => {};
    const source: ClusterSource = async (jobwire) => {
      await new Promise<void>((resolve) => (release = resolve));
      return queueCountsSource(jobwire);
    };
    const readTimeoutMs = 1000;
    const metrics = createMetrics(client, { cacheMs: 0, readTimeoutMs, clusterSource: source });
    t.after(() => {
      release();
      metrics.close();
    });
    const began = performance.now();
    const first = metrics.text();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const joinedAt = performance.now();
    const second = await metrics.text();
    const secondMs = performance.now() - joinedAt;
    await first;
    assert.equal(parseExposition(second).value('jobwire_cluster_up'), 0);
    assert.ok(secondMs < 800, `joined 600 ms into the read, answered after ${Math.round(secondMs)} ms`);
    assert.ok(performance.now() - began >= readTimeoutMs - 50);
  });
});
