// jobwire on PostgreSQL, as an adapter for the peer benchmark harness (shared/bench/peers).
// Load it with BENCH_EXTRA_ADAPTERS="jobwire-postgres=/abs/path/bench/adapters/postgres.mjs".
// It imports the built package: run `npm run build` in the jobwire checkout first.
import pg from 'pg';
import { postgresDriver } from '../../dist/drivers/postgres/index.js';
import { createJobwire, defineTask } from '../../dist/index.js';

const TASK = 'noop';
const SCHEMA = 'jobwire';

export const peer = {
  name: 'jobwire-postgres',
  pkg: 'jobwire',
  backend: 'postgres',
  bulkApi: 'jobwire.enqueueMany() (one INSERT … SELECT FROM unnest(…) statement)',
  variants: {
    defaults: {
      label: 'defaults',
      notes:
        'postgresDriver({ connectionString }) + createPool({ concurrency }) and nothing else: ' +
        'pool of 10 connections, prefetch "auto", batched SKIP LOCKED claim and fenced batch finalise, ' +
        'LISTEN/NOTIFY wake-ups, poll 1 s',
      pool: {},
    },
    tuned: {
      label: 'tuned (completed rows deleted)',
      notes:
        "defaults with createJobwire({ retention: { completed: 'immediately' } }): a completed job's row is " +
        'deleted by the write that completes it (its job:completed event stays in the log, its count in ' +
        "queueStats) — as BullMQ's tuned removeOnComplete, and as graphile-worker always does",
      pool: {},
      options: { retention: { completed: 'immediately' } },
    },
    'tuned-log-off': {
      label: 'tuned, event log off',
      notes: 'tuned with createJobwire({ events: { log: false } }) too',
      pool: {},
      options: { retention: { completed: 'immediately' }, events: { log: false } },
    },
    'log-off': {
      label: 'event log off',
      notes:
        'defaults with createJobwire({ events: { log: false } }): no durable event log (it is on by default)',
      pool: {},
      options: { events: { log: false } },
    },
  },
};

export async function create({ variant, pgUrl }) {
  const v = peer.variants[variant];
  if (!v) throw new Error(`jobwire-postgres: unknown variant ${variant}`);
  let client;
  let pool;
  let onJob = () => {};
  const task = defineTask({
    name: TASK,
    handler: async (payload) => {
      onJob(payload);
    },
  });
  // A separate connection for inspection, so verification never goes through jobwire itself.
  const sql = async (text) => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      return (await c.query(text)).rows;
    } finally {
      await c.end();
    }
  };

  return {
    async setup() {
      client = await createJobwire({
        driver: postgresDriver({ connectionString: pgUrl }),
        tasks: [task],
        ...v.options,
      });
    },
    async reset() {
      await sql(`TRUNCATE ${SCHEMA}.jobs`);
    },
    async enqueue(payload) {
      await client.enqueue(task, payload);
    },
    async enqueueBatch(payloads) {
      await client.enqueueMany(payloads.map((payload) => ({ task, payload })));
    },
    async startWorker({ concurrency, onJob: fn }) {
      onJob = fn;
      pool = client.createPool({ concurrency, ...v.pool });
      await pool.start();
    },
    async stopWorker() {
      await pool?.stop();
    },
    async inspect() {
      const [row] = await sql(
        `SELECT count(*)::int AS total, count(DISTINCT payload->>'i')::int AS "distinctPayload",
                count(DISTINCT id)::int AS "distinctJobIds" FROM ${SCHEMA}.jobs`,
      );
      return row;
    },
    async remaining() {
      // Only the unfinished states: counted through their indexes, without the finished history.
      const counts = await client.countJobs({ state: ['scheduled', 'pending', 'running'] });
      return counts.scheduled + counts.pending + counts.running;
    },
    async teardown() {
      await client?.close();
    },
    settings() {
      return { variant, concurrency: pool?.concurrency, leaseMs: pool?.leaseMs, ...v.pool };
    },
  };
}
