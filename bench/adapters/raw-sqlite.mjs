// The floor, not a peer: a job queue in raw SQL on SQLite with no features, as an adapter for the
// peer harness (shared/bench/peers), to measure in the same run as the peers what SQLite through
// better-sqlite3 allows on the machine. Load it with
// BENCH_EXTRA_ADAPTERS="raw-sqlite=/abs/path/bench/adapters/raw-sqlite.mjs".
//
// The SQLite twin of raw-postgres.mjs, with the pragmas every SQLite peer of the harness uses
// (WAL, synchronous=NORMAL): a row per job (integer id, JSON payload, a state), one partial index
// on pending ids, a claim of up to 500 jobs in one `UPDATE … RETURNING`, the handlers at the
// scenario's concurrency, and one `DELETE` of the finished batch (as graphile-worker does). An
// enqueue in the worker's process wakes the worker at once; another process's enqueue is found by
// the next poll (every 50 ms when idle). What it leaves out is everything a queue is for: no
// retries, leases, fencing, timeouts, history, events, priorities, run times, rescue. Its
// figures bound what a real SQLite queue could reach here.
import Database from 'better-sqlite3';

const TABLE = 'raw_jobs';
const BATCH = 500;
const IDLE_POLL_MS = 50;

export const peer = {
  name: 'raw-sqlite',
  pkg: 'better-sqlite3',
  backend: 'sqlite',
  bulkApi: 'one transaction of prepared single-row INSERTs',
  variants: {
    defaults: {
      label: 'raw SQL floor',
      notes:
        'no features: WAL + synchronous=NORMAL, UPDATE … RETURNING claim of 500, handlers at the concurrency, ' +
        'one DELETE per batch; in-process wake-up, 50 ms poll when idle',
    },
    tuned: { label: 'raw SQL floor (= defaults)', notes: 'identical to defaults' },
  },
};

export async function create({ variant, sqliteFile }) {
  if (!peer.variants[variant]) throw new Error(`raw-sqlite: unknown variant ${variant}`);
  let db;
  let statements;
  let worker;
  let wake = () => {};

  return {
    async setup() {
      db = new Database(sqliteFile);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
        id INTEGER PRIMARY KEY,
        payload TEXT NOT NULL,
        state INTEGER NOT NULL DEFAULT 0)`);
      db.exec(`CREATE INDEX IF NOT EXISTS ${TABLE}_pending ON ${TABLE} (id) WHERE state = 0`);
      const insert = db.prepare(`INSERT INTO ${TABLE} (payload) VALUES (?)`);
      statements = {
        insert,
        insertMany: db.transaction((payloads) => {
          for (const payload of payloads) insert.run(JSON.stringify(payload));
        }),
        claim: db.prepare(
          `UPDATE ${TABLE} SET state = 1
           WHERE id IN (SELECT id FROM ${TABLE} WHERE state = 0 ORDER BY id LIMIT ?)
           RETURNING id, payload`,
        ),
        complete: db.prepare(`DELETE FROM ${TABLE} WHERE id IN (SELECT value FROM json_each(?))`),
      };
    },
    async reset() {
      db.exec(`DELETE FROM ${TABLE}`);
    },
    async enqueue(payload) {
      statements.insert.run(JSON.stringify(payload));
      wake();
    },
    async enqueueBatch(payloads) {
      statements.insertMany(payloads);
      wake();
    },
    async startWorker({ concurrency, onJob }) {
      worker = startWorker(statements, concurrency, onJob, (fn) => (wake = fn));
    },
    signalStop() {
      worker?.signalStop();
    },
    async stopWorker() {
      await worker?.stop();
    },
    async inspect() {
      return db
        .prepare(
          `SELECT count(*) AS total, count(DISTINCT json_extract(payload, '$.i')) AS distinctPayload,
                  count(DISTINCT id) AS distinctJobIds FROM ${TABLE}`,
        )
        .get();
    },
    async remaining() {
      return db.prepare(`SELECT count(*) AS n FROM ${TABLE}`).get().n;
    },
    async teardown() {
      await worker?.stop();
      db?.close();
    },
    settings() {
      return { variant, batch: BATCH, idlePollMs: IDLE_POLL_MS };
    },
  };
}

/** The worker loop: claim a batch, run it at `concurrency`, delete it, repeat; idle: wait. */
function startWorker(statements, concurrency, onJob, setWake) {
  let running = true;
  let wake = () => {};
  const handler = async (payload) => onJob(payload);
  const loop = (async () => {
    while (running) {
      const rows = statements.claim.all(BATCH);
      if (rows.length === 0) {
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          setWake(() => wake());
        });
        wake = () => {};
        continue;
      }
      let index = 0;
      const runner = async () => {
        while (index < rows.length) await handler(JSON.parse(rows[index++].payload));
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, runner));
      statements.complete.run(JSON.stringify(rows.map((row) => row.id)));
      // Let timers and I/O run between batches (the scenario's cap, the harness's checks).
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    signalStop() {
      running = false;
      wake();
    },
    async stop() {
      running = false;
      wake();
      await loop;
    },
  };
}
