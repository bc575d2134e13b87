/**
 * The per-process side of the metrics sink: counters, histograms and gauges fed from the client's
 * in-process event bus. They count what THIS process saw (its enqueues, its pools' attempts, the
 * rescues of its leader); Prometheus sums them across processes. Labels are queue, task and an
 * outcome — never a job id, which would make one time series per job.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  assertKnownOptions,
  type Jobwire,
  type JobwireEventName,
  type JobwireEvents,
  optionNames,
} from '../index.js';

/** Attempt durations in seconds: from a quick handler to an hour-long one. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];
/** Waits (due → started) in seconds: a healthy queue starts jobs within a poll interval. */
export const DEFAULT_WAIT_BUCKETS: readonly number[] = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

/** Settings of `registerProcessMetrics`. */
export interface ProcessMetricsOptions {
  registry: Registry;
  prefix: string;
  durationBuckets: readonly number[];
  waitBuckets: readonly number[];
}

/** Every field of `ProcessMetricsOptions` (the compiler checks the list against it); any other key is refused. */
const PROCESS_METRICS_OPTION_NAMES = optionNames<ProcessMetricsOptions>({
  registry: true,
  prefix: true,
  durationBuckets: true,
  waitBuckets: true,
});

const JOB_LABELS = ['queue', 'task'] as const;
type JobLabel = (typeof JOB_LABELS)[number];

/**
 * Register the per-process metrics in `options.registry` and feed them from `jobwire.events`.
 * Returns the function that removes the listeners. Create it before the pools: a gauge of worker
 * slots only knows the slots it saw start. An option key `ProcessMetricsOptions` does not name is an
 * `InvalidOptionError`.
 */
export function registerProcessMetrics(jobwire: Jobwire, options: ProcessMetricsOptions): () => void {
  assertKnownOptions('', options, PROCESS_METRICS_OPTION_NAMES, 'registerProcessMetrics option');
  const { registry, prefix } = options;
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, extra: readonly L[] = []) =>
    new Counter<JobLabel | L>({
      name: `${prefix}${name}`,
      help,
      labelNames: [...JOB_LABELS, ...extra],
      registers,
    });

  const enqueued = counter('jobs_enqueued_total', 'Jobs this process stored (job:queued).');
  const deduplicated = counter(
    'jobs_deduplicated_total',
    'Enqueues answered with an existing job (job:deduplicated, job:debounced), by rule.',
    ['rule'],
  );
  const started = counter('jobs_started_total', 'Attempts this process started (job:started).');
  const completed = counter('jobs_completed_total', 'Attempts that succeeded (job:completed).');
  const failed = counter(
    'jobs_failed_total',
    'Attempts that failed (job:failed); will_retry says if another follows.',
    ['will_retry'],
  );
  const retryScheduled = counter(
    'jobs_retry_scheduled_total',
    'Failed jobs scheduled to run again after their backoff (job:retrying).',
  );
  const retried = counter(
    'jobs_retried_total',
    'Finished jobs made pending again by retryJob (job:retried).',
  );
  const snoozed = counter('jobs_snoozed_total', 'Attempts that asked to run again later (job:snoozed).');
  const abandoned = counter(
    'jobs_abandoned_total',
    'Jobs that will not run again (job:abandoned), by reason.',
    ['reason'],
  );
  const interrupted = counter(
    'jobs_interrupted_total',
    'Attempts cut off by a shutdown at the end of its grace period (job:interrupted).',
  );
  const rescued = counter(
    'jobs_rescued_total',
    'Running jobs whose lease expired, put back by this process as leader (job:rescued).',
  );
  const leaseLost = counter(
    'jobs_lease_lost_total',
    'Attempts whose result was dropped: their lease had been taken over (job:lease-lost).',
  );
  const cancelled = counter('jobs_cancelled_total', 'Jobs cancelled through this process (job:cancelled).');
  const poolErrors = new Counter({
    name: `${prefix}pool_errors_total`,
    help: "Storage or internal errors of this process's pools (pool:error), by operation.",
    labelNames: ['operation'],
    registers,
  });
  const serviceErrors = new Counter({
    name: `${prefix}service_errors_total`,
    help: 'Errors of background services: leader election, rescuer (service:error), by service.',
    labelNames: ['service', 'operation'],
    registers,
  });

  const duration = new Histogram({
    name: `${prefix}job_attempt_duration_seconds`,
    help: 'How long attempts ran, by outcome (completed, failed, interrupted).',
    labelNames: [...JOB_LABELS, 'outcome'],
    buckets: [...options.durationBuckets],
    registers,
  });
  const wait = new Histogram({
    name: `${prefix}job_wait_seconds`,
    help: 'How long due jobs waited for a worker of this process (run-at or end of backoff → started).',
    labelNames: JOB_LABELS,
    buckets: [...options.waitBuckets],
    registers,
  });

  // Gauges are computed at scrape time from what the events say is open right now, so a missed
  // decrement cannot drift them: a slot is identified by pool and worker id.
  const pools = new Set<string>();
  const slots = new Set<string>();
  const busy = new Set<string>();
  const slotKey = (event: { poolId: string; workerId: string }) => `${event.poolId}\u0000${event.workerId}`;
  new Gauge({
    name: `${prefix}pools_running`,
    help: 'Pools of this process that are claiming or finishing jobs.',
    registers,
    collect() {
      this.set(pools.size);
    },
  });
  new Gauge({
    name: `${prefix}workers`,
    help: "Worker slots of this process (the sum of its running pools' concurrency).",
    registers,
    collect() {
      this.set(slots.size);
    },
  });
  new Gauge({
    name: `${prefix}workers_busy`,
    help: 'Worker slots of this process running a job right now.',
    registers,
    collect() {
      this.set(busy.size);
    },
  });

  const offs: (() => void)[] = [];
  const on = <K extends JobwireEventName>(name: K, listener: (event: JobwireEvents[K]) => void) => {
    offs.push(jobwire.events.on(name, listener));
  };
  const job = (event: { queue: string; task: string }) => ({ queue: event.queue, task: event.task });
  const seconds = (ms: number) => Math.max(0, ms) / 1000;

  on('job:queued', (e) => enqueued.inc(job(e)));
  on('job:deduplicated', (e) => deduplicated.inc({ ...job(e), rule: e.rule }));
  on('job:debounced', (e) => deduplicated.inc({ ...job(e), rule: 'debounce' }));
  on('job:started', (e) => {
    started.inc(job(e));
    wait.observe(job(e), seconds(e.waitMs));
  });
  on('job:completed', (e) => {
    completed.inc(job(e));
    duration.observe({ ...job(e), outcome: 'completed' }, seconds(e.durationMs));
  });
  on('job:failed', (e) => {
    failed.inc({ ...job(e), will_retry: String(e.willRetry) });
    duration.observe({ ...job(e), outcome: 'failed' }, seconds(e.durationMs));
  });
  on('job:interrupted', (e) => {
    interrupted.inc(job(e));
    duration.observe({ ...job(e), outcome: 'interrupted' }, seconds(e.durationMs));
  });
  on('job:retrying', (e) => retryScheduled.inc(job(e)));
  on('job:retried', (e) => retried.inc(job(e)));
  on('job:snoozed', (e) => snoozed.inc(job(e)));
  on('job:abandoned', (e) => abandoned.inc({ ...job(e), reason: e.reason }));
  on('job:rescued', (e) => rescued.inc(job(e)));
  on('job:lease-lost', (e) => leaseLost.inc(job(e)));
  on('job:cancelled', (e) => cancelled.inc(job(e)));
  on('pool:error', (e) => poolErrors.inc({ operation: e.operation }));
  on('service:error', (e) => serviceErrors.inc({ service: e.service, operation: e.operation }));
  on('pool:started', (e) => pools.add(e.poolId));
  on('pool:stopped', (e) => pools.delete(e.poolId));
  on('worker:started', (e) => slots.add(slotKey(e)));
  on('worker:busy', (e) => busy.add(slotKey(e)));
  on('worker:idle', (e) => busy.delete(slotKey(e)));
  on('worker:stopped', (e) => {
    slots.delete(slotKey(e));
    busy.delete(slotKey(e));
  });

  return () => {
    for (const off of offs.splice(0)) off();
  };
}
