// jobwire on SQLite, as an adapter for the peer benchmark harness (shared/bench/peers).
// Load it with BENCH_EXTRA_ADAPTERS="jobwire-sqlite=/abs/path/bench/adapters/sqlite.mjs".
// It imports the built package: run `npm run build` in the jobwire checkout first.
import Database from 'better-sqlite3';
import { sqliteDriver } from '../../dist/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../../dist/index.js';

const TASK = 'noop';

export const peer = {
  name: 'jobwire-sqlite',
  pkg: 'jobwire',
  backend: 'sqlite',
  bulkApi: 'jobwire.enqueueMany() (one SQLite transaction)',
  variants: {
    defaults: {
      label: 'defaults',
      notes:
        'createPool({ concurrency }) and nothing else: WAL + synchronous=NORMAL, prefetch "auto", ' +
        'batched claim and finalise, in-process wake-ups, poll 1 s',
      pool: {},
    },
    tuned: {
      label: 'tuned (= defaults)',
      notes: 'jobwire has no separate performance switches; identical to defaults',
      pool: {},
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

export async function create({ variant, sqliteFile }) {
  const v = peer.variants[variant];
  if (!v) throw new Error(`jobwire-sqlite: unknown variant ${variant}`);
  let client;
  let pool;
  let onJob = () => {};
  const task = defineTask({
    name: TASK,
    handler: async (payload) => {
      onJob(payload);
    },
  });
  // A separate read connection for inspection, so verification never goes through jobwire itself.
  const inspectDb = () => new Database(sqliteFile, { readonly: true });

  return {
    async setup() {
      client = await createJobwire({
        driver: sqliteDriver({ path: sqliteFile }),
        tasks: [task],
        ...v.options,
      });
    },
    async reset() {
      const db = new Database(sqliteFile);
      db.exec('DELETE FROM jobwire_jobs');
      db.close();
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
      const db = inspectDb();
      const row = db
        .prepare(
          "SELECT count(*) AS total, count(DISTINCT json_extract(payload, '$.i')) AS distinctPayload, count(DISTINCT id) AS distinctJobIds FROM jobwire_jobs",
        )
        .get();
      db.close();
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
