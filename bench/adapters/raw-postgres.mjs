// The floor, not a peer: a job queue in raw SQL with no features, as an adapter for the peer
// harness (shared/bench/peers), to measure in the same run as the peers what PostgreSQL itself
// allows on the machine. Load it with BENCH_EXTRA_ADAPTERS="raw-postgres=/abs/path/bench/adapters/raw-postgres.mjs".
//
// What it does is the least any PostgreSQL queue must: a row per job (identity id, JSON payload,
// a state), a batched `FOR UPDATE SKIP LOCKED` claim of up to 500 jobs (committed without waiting
// for the WAL flush, as jobwire's claim is), the handlers at the scenario's concurrency, and a
// batched DELETE of the finished ones (as graphile-worker does); the next claim is in flight
// while a batch runs, so the worker never waits on it when there is work. Enqueues are durable
// single statements, with a NOTIFY for the worker's wake-up. What it leaves out is everything a
// queue is for: no retries, leases, fencing, timeouts, history, events, priorities, run times,
// rescue of a dead worker's jobs. Its figures bound what a real queue could reach here.
import pg from 'pg';

const TABLE = 'raw_jobs';
const CHANNEL = 'raw_jobs';
const BATCH = 500;

export const peer = {
  name: 'raw-postgres',
  pkg: 'pg',
  backend: 'postgres',
  bulkApi: 'INSERT … SELECT FROM unnest($1::json[]) (one statement)',
  variants: {
    defaults: {
      label: 'raw SQL floor',
      notes:
        'no features: SKIP LOCKED claim of 500 (async commit), handlers at the concurrency, batched DELETE; ' +
        'NOTIFY per enqueue',
    },
    tuned: { label: 'raw SQL floor (= defaults)', notes: 'identical to defaults' },
  },
};

const CLAIM = `WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
UPDATE ${TABLE} SET state = 1
WHERE id IN (SELECT id FROM ${TABLE} WHERE state = 0 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
  AND EXISTS (SELECT 1 FROM async_commit)
RETURNING id, payload`;

export async function create({ variant, pgUrl }) {
  if (!peer.variants[variant]) throw new Error(`raw-postgres: unknown variant ${variant}`);
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
  let worker;

  return {
    async setup() {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        payload json NOT NULL,
        state smallint NOT NULL DEFAULT 0)`);
      await pool.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_pending ON ${TABLE} (id) WHERE state = 0`);
    },
    async reset() {
      await pool.query(`TRUNCATE ${TABLE}`);
    },
    async enqueue(payload) {
      await pool.query({
        name: 'raw-enqueue',
        text: `WITH job AS (INSERT INTO ${TABLE} (payload) VALUES ($1) RETURNING id)
               SELECT pg_notify('${CHANNEL}', '') FROM job`,
        values: [JSON.stringify(payload)],
      });
    },
    async enqueueBatch(payloads) {
      await pool.query({
        name: 'raw-enqueue-many',
        text: `WITH jobs AS (INSERT INTO ${TABLE} (payload) SELECT * FROM unnest($1::json[]) RETURNING id)
               SELECT pg_notify('${CHANNEL}', '') FROM (SELECT count(*) FROM jobs) n`,
        values: [payloads.map((payload) => JSON.stringify(payload))],
      });
    },
    async startWorker({ concurrency, onJob }) {
      worker = await startWorker(pool, pgUrl, concurrency, onJob);
    },
    async stopWorker() {
      await worker?.stop();
    },
    async inspect() {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS total, count(DISTINCT payload->>'i')::int AS "distinctPayload",
                count(DISTINCT id)::int AS "distinctJobIds" FROM ${TABLE}`,
      );
      return rows[0];
    },
    async remaining() {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${TABLE}`);
      return rows[0].n;
    },
    async teardown() {
      await worker?.stop();
      await pool.end();
    },
    settings() {
      return { variant, batch: BATCH };
    },
  };
}

/** The worker loop: claim ahead, run each batch at `concurrency`, delete what finished. */
async function startWorker(pool, pgUrl, concurrency, onJob) {
  const listener = new pg.Client({ connectionString: pgUrl });
  await listener.connect();
  let wake = () => {};
  // A NOTIFY that lands while a claim is in flight makes an empty claim retry at once.
  let notified = false;
  listener.on('notification', () => {
    notified = true;
    wake();
  });
  await listener.query(`LISTEN ${CHANNEL}`);
  let running = true;
  const handler = async (payload) => onJob(payload);
  const claim = () => {
    notified = false;
    return pool.query({ name: 'raw-claim', text: CLAIM, values: [BATCH] }).then((r) => r.rows);
  };
  const complete = (ids) =>
    pool.query({
      name: 'raw-complete',
      text: `DELETE FROM ${TABLE} WHERE id = ANY($1::bigint[])`,
      values: [ids],
    });

  const loop = (async () => {
    let next = claim();
    let deleting = Promise.resolve();
    while (running) {
      const rows = await next;
      if (rows.length === 0) {
        // Nothing claimable: wait for a NOTIFY, or poll after a second.
        if (!notified)
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, 1000);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        wake = () => {};
        next = claim();
        continue;
      }
      next = claim();
      let index = 0;
      const runner = async () => {
        while (index < rows.length) {
          await handler(rows[index++].payload);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, runner));
      const ids = rows.map((row) => row.id);
      // One DELETE in flight at a time, the next batch runs meanwhile.
      await deleting;
      deleting = complete(ids);
    }
    await deleting;
    const rows = await next;
    if (rows.length)
      await pool.query(`UPDATE ${TABLE} SET state = 0 WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
  })();

  return {
    async stop() {
      if (!running) return;
      running = false;
      wake();
      await loop;
      await listener.end();
    },
  };
}
