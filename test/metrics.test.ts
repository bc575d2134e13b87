/**
 * The metrics sink (`jobwire/metrics`) on SQLite: the shared suite, the cluster cache, the HTTP
 * handler, and `jobwire metrics` serving a scrape in this process.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { runCli } from '../src/cli/app.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { type ClusterSource, createMetrics } from '../src/sinks/metrics.js';
import { runMetricsSuite } from './suites/metrics.js';
import { ManualClock, until, watchCalls, withClient } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';
import { sqliteDatabases } from './support/sqlite.js';

runMetricsSuite(sqliteDatabases);

const ok = defineTask({ name: 'ok', handler: async () => 'done' });

describe('cluster gauges', () => {
  test('a scrape within cacheMs does not read the database again; one after it does', async (t) => {
    const clock = new ManualClock(1_000_000);
    // The default source reads bounded counts (queueCounts), never the whole table (queueList).
    let watch: ReturnType<typeof watchCalls<'queueCounts'>> | undefined;
    const { client } = await withClient(t, sqliteDatabases, {
      tasks: [ok],
      clock,
      wrapDriver: (driver) => {
        watch = watchCalls(driver, 'queueCounts');
        return watch.driver;
      },
    });
    const metrics = createMetrics(client, { cacheMs: 5000 });
    t.after(() => metrics.close());
    await client.enqueue(ok, {});

    const first = parseExposition(await metrics.text());
    assert.equal(first.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 1);
    assert.equal(first.value('jobwire_queue_jobs_exact', { queue: 'default', state: 'pending' }), 1);
    assert.equal(watch!.calls(), 1, 'one read feeds every cluster gauge of a scrape');

    await client.enqueue(ok, {});
    clock.advance(4999);
    // A scrape storm: concurrent and repeated scrapes inside the cache period.
    const storm = await Promise.all([metrics.text(), metrics.text(), metrics.text()]);
    assert.equal(watch!.calls(), 1, 'scrapes within cacheMs reuse the reading');
    for (const text of storm) {
      assert.equal(
        parseExposition(text).value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }),
        1,
      );
    }

    clock.advance(1);
    const fresh = parseExposition(await metrics.text());
    assert.equal(watch!.calls(), 2, 'a scrape after cacheMs reads again');
    assert.equal(fresh.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 2);
  });

  test('a failed read: cluster_up 0 and no stale queue samples; a custom source feeds the oldest age', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    await client.enqueue(ok, {});
    let fail = false;
    const source: ClusterSource = async (jobwire) => {
      if (fail) throw new Error('database down');
      return { queues: await jobwire.listQueues(), oldestPendingAgeSeconds: new Map([['default', 42.5]]) };
    };
    const metrics = createMetrics(client, { cacheMs: 0, clusterSource: source });
    t.after(() => metrics.close());

    const up = parseExposition(await metrics.text());
    assert.equal(up.value('jobwire_cluster_up'), 1);
    assert.equal(up.value('jobwire_queue_oldest_pending_age_seconds', { queue: 'default' }), 42.5);
    assert.equal(up.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 1);

    fail = true;
    const down = parseExposition(await metrics.text());
    assert.equal(down.value('jobwire_cluster_up'), 0);
    assert.equal(down.samples('jobwire_queue_jobs').length, 0);
    assert.equal(down.samples('jobwire_queue_paused').length, 0);
    assert.equal(down.samples('jobwire_queue_oldest_pending_age_seconds').length, 0);
    assert.equal(up.samples('jobwire_queue_jobs_exact').length, 0, 'listQueues says nothing of precision');
  });

  test('queue_jobs_exact is 0 for a count above queueCounts cap, 1 for an exact one', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    await client.enqueueMany(Array.from({ length: 5 }, () => ({ task: ok, payload: {} })));
    await client.enqueue(ok, {}, { queue: 'small' });
    const metrics = createMetrics(client, {
      cacheMs: 0,
      clusterSource: async (jobwire) => ({ queues: await jobwire.queueCounts({ exactUpTo: 3 }) }),
    });
    t.after(() => metrics.close());
    const m = parseExposition(await metrics.text());
    assert.equal(m.value('jobwire_queue_jobs_exact', { queue: 'default', state: 'pending' }), 0);
    assert.ok(m.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' })! >= 4);
    assert.equal(m.value('jobwire_queue_jobs_exact', { queue: 'small', state: 'pending' }), 1);
    assert.equal(m.value('jobwire_queue_jobs', { queue: 'small', state: 'pending' }), 1);
  });
});

describe('the sink', () => {
  test('close() stops counting and frees the names; a prefix and a shared registry work', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    const metrics = createMetrics(client, { prefix: 'app_jobs_' });
    await client.enqueue(ok, {});
    assert.equal(
      parseExposition(await metrics.text()).value('app_jobs_jobs_enqueued_total', {
        queue: 'default',
        task: 'ok',
      }),
      1,
    );
    metrics.close();
    assert.equal(metrics.registry.getSingleMetric('app_jobs_jobs_enqueued_total'), undefined);
    // The same registry takes a new sink: nothing of the closed one is left to clash with.
    const again = createMetrics(client, { prefix: 'app_jobs_', registry: metrics.registry });
    t.after(() => again.close());
    await client.enqueue(ok, {});
    assert.equal(
      parseExposition(await again.text()).value('app_jobs_jobs_enqueued_total', {
        queue: 'default',
        task: 'ok',
      }),
      1,
    );
  });

  test('the handler serves GET /metrics with the exposition content type, 404 elsewhere', async (t) => {
    const { client } = await withClient(t, sqliteDatabases, { tasks: [ok] });
    const metrics = createMetrics(client);
    const server = createServer(metrics.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      metrics.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await client.enqueue(ok, {});
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), metrics.contentType);
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
    const m = parseExposition(await response.text());
    assert.equal(m.value('jobwire_jobs_enqueued_total', { queue: 'default', task: 'ok' }), 1);
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });
});

/** A stream that keeps what is written to it. */
class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

describe('jobwire metrics', () => {
  test('serves the cluster gauges of --db on --port 0 until SIGTERM', async (t) => {
    const db = await sqliteDatabases.create();
    t.after(() => db.cleanup());
    let client: Jobwire | undefined = await createJobwire({ driver: await db.open(), tasks: [ok] });
    await client.enqueue(ok, {});
    await client.enqueue(ok, {});
    await client.pauseQueue('default');
    await client.close();
    client = undefined;

    const out = new Captured();
    const err = new Captured();
    const exited = runCli(['metrics', '--port', '0', '--db', db.location], { out, err });
    const url = await until(() => /serving (http:\/\/\S+)/.test(out.text), 10_000, 'the metrics URL').then(
      () => /serving (http:\/\/\S+)/.exec(out.text)![1]!,
    );
    let code: number;
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(url);
      assert.equal(response.status, 200, err.text);
      const m = parseExposition(await response.text());
      assert.equal(m.value('jobwire_cluster_up'), 1);
      assert.equal(m.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 2);
      assert.equal(m.value('jobwire_queue_paused', { queue: 'default' }), 1);
    } finally {
      // The command listens to SIGTERM like a real one; emitting it reaches only its listener.
      process.emit('SIGTERM');
      code = await exited;
    }
    assert.equal(code, 0, err.text);
    await assert.rejects(fetch(url), 'the server is closed after the signal');
  });

  test('metrics --help says the per-process counters need --metrics-port on a worker', async () => {
    const out = new Captured();
    assert.equal(await runCli(['metrics', '--help'], { out, err: new Captured() }), 0);
    assert.match(out.text, /--metrics-port/);
    assert.match(out.text, /cluster-wide gauges/);
  });
});
