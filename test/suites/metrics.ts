/**
 * The metrics sink on a real pool, for every driver: jobs run (completed, failed then retried,
 * abandoned), the scrape is parsed by a Prometheus text parser, and counters, histograms and
 * the cluster gauges must match what happened — with no job id anywhere in the text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConformanceDatabases } from '../../src/driver/conformance/index.js';
import { defineTask } from '../../src/index.js';
import { createMetrics } from '../../src/sinks/metrics.js';
import { testPool, withClient } from '../support/harness.js';
import { checkHistogram, parseExposition } from '../support/prometheus.js';

/** Run the metrics suite on `factory`'s databases. */
export function runMetricsSuite(factory: ConformanceDatabases): void {
  describe(`metrics on ${factory.name}`, () => {
    test('counters, histograms and cluster gauges match the jobs a pool ran', async (t) => {
      const ok = defineTask({ name: 'ok', handler: async () => 'done' });
      const doomed = defineTask({
        name: 'doomed',
        queue: 'risky',
        maxAttempts: 2,
        backoff: { type: 'fixed', delayMs: 0 },
        handler: async () => {
          throw new Error('always fails');
        },
      });
      const { client } = await withClient(t, factory, { tasks: [ok, doomed] });
      const metrics = createMetrics(client, { cacheMs: 0 });
      t.after(() => metrics.close());

      const jobs = [
        ...(await Promise.all([1, 2, 3].map((n) => client.enqueue(ok, { n })))),
        await client.enqueue(doomed, {}),
      ];
      const pool = client.createPool({ ...testPool, queues: ['default', 'risky'], concurrency: 3 });
      await pool.start();
      await pool.whenIdle();
      const running = parseExposition(await metrics.text());
      assert.equal(running.value('jobwire_pools_running'), 1);
      assert.equal(running.value('jobwire_workers'), 3);
      assert.equal(running.value('jobwire_workers_busy'), 0);
      await pool.stop();

      const m = parseExposition(await metrics.text());
      // Labels name queues, tasks and outcomes only: a job id would make a time series per job.
      const ids = new Set(jobs.map((job) => job.id));
      // (`le` is a bucket bound: with numeric ids, bucket "1" is not job 1.)
      const labelValues = m
        .all()
        .flatMap((sample) => Object.entries(sample.labels).filter(([name]) => name !== 'le'))
        .map(([, value]) => value);
      assert.ok(labelValues.length > 0);
      for (const value of labelValues) assert.ok(!ids.has(value), `job id ${value} as a label value`);
      const labelNames = new Set(m.all().flatMap((sample) => Object.keys(sample.labels)));
      assert.deepEqual([...labelNames].sort(), [
        'le',
        'outcome',
        'queue',
        'reason',
        'state',
        'task',
        'will_retry',
      ]);
      const okLabels = { queue: 'default', task: 'ok' };
      const doomedLabels = { queue: 'risky', task: 'doomed' };

      assert.equal(m.types.get('jobwire_jobs_completed_total'), 'COUNTER');
      assert.equal(m.value('jobwire_jobs_enqueued_total', okLabels), 3);
      assert.equal(m.value('jobwire_jobs_enqueued_total', doomedLabels), 1);
      assert.equal(m.value('jobwire_jobs_started_total', okLabels), 3);
      assert.equal(m.value('jobwire_jobs_started_total', doomedLabels), 2);
      assert.equal(m.value('jobwire_jobs_completed_total', okLabels), 3);
      assert.equal(m.value('jobwire_jobs_completed_total', doomedLabels), undefined);
      assert.equal(m.value('jobwire_jobs_failed_total', { ...doomedLabels, will_retry: 'true' }), 1);
      assert.equal(m.value('jobwire_jobs_failed_total', { ...doomedLabels, will_retry: 'false' }), 1);
      assert.equal(m.value('jobwire_jobs_retry_scheduled_total', doomedLabels), 1);
      assert.equal(
        m.value('jobwire_jobs_abandoned_total', { ...doomedLabels, reason: 'attempts-exhausted' }),
        1,
      );
      assert.equal(m.samples('jobwire_jobs_lease_lost_total').length, 0);
      assert.equal(m.value('jobwire_pools_running'), 0);
      assert.equal(m.value('jobwire_workers'), 0);

      const durations = checkHistogram(m, 'jobwire_job_attempt_duration_seconds');
      const durationOf = (labels: Record<string, string>) =>
        durations.find((d) => JSON.stringify(d.labels) === JSON.stringify(labels));
      assert.deepEqual(
        durations.map((d) => d.labels).sort((a, b) => a.task!.localeCompare(b.task!)),
        [
          { queue: 'risky', task: 'doomed', outcome: 'failed' },
          { queue: 'default', task: 'ok', outcome: 'completed' },
        ],
      );
      assert.equal(durationOf({ queue: 'default', task: 'ok', outcome: 'completed' })?.count, 3);
      assert.equal(durationOf({ queue: 'risky', task: 'doomed', outcome: 'failed' })?.count, 2);
      const waits = checkHistogram(m, 'jobwire_job_wait_seconds');
      assert.equal(
        waits.reduce((total, w) => total + w.count, 0),
        5,
        'one wait per started attempt',
      );

      assert.equal(m.types.get('jobwire_queue_jobs'), 'GAUGE');
      assert.equal(m.value('jobwire_cluster_up'), 1);
      assert.equal(m.value('jobwire_queue_jobs', { queue: 'default', state: 'completed' }), 3);
      assert.equal(m.value('jobwire_queue_jobs', { queue: 'default', state: 'pending' }), 0);
      assert.equal(m.value('jobwire_queue_jobs', { queue: 'risky', state: 'abandoned' }), 1);
      assert.equal(m.value('jobwire_queue_paused', { queue: 'risky' }), 0);
      // listQueues() does not know the oldest pending job's age: no samples, not a fake 0.
      assert.equal(m.types.get('jobwire_queue_oldest_pending_age_seconds'), 'GAUGE');
      assert.equal(m.samples('jobwire_queue_oldest_pending_age_seconds').length, 0);

      await client.pauseQueue('risky');
      assert.equal(
        parseExposition(await metrics.text()).value('jobwire_queue_paused', { queue: 'risky' }),
        1,
      );
    });
  });
}
