// The large tables of `bench/large.mjs`: a jobs table holding a pending backlog and millions of
// finished jobs, plus a durable event log, written with SQL (through the API it would take hours).
//
// So that the rows are exactly what the driver writes, they are cloned from template rows that
// the API itself wrote into the same database: a pending job, a completed one, an abandoned one
// (its handler threw, one attempt allowed) and a cancelled one, plus the event rows their
// lifecycle logged. Each clone keeps every column of its template except the ones that make it
// one job among millions: payload, times, correlation id (id and keyed columns stay as the
// driver leaves them: new ids, NULL keys). Finished jobs are spread the way the default
// retention leaves a busy table in its steady state, so the leader's pruner has nothing to
// delete during the benchmark: completed jobs within the last 23 hours (kept 1 day), cancelled
// ones over 6 days (kept 7), abandoned ones over 29 days (kept 30 and at most 100,000), and
// event rows over 6 days (kept 7). The templates' events are one job each (enqueued one by one,
// claimed and finished in small batches), so the log holds many small rows: its worst case.
import { createJobwire, defineTask } from '../dist/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Rows per statement (PostgreSQL) or per transaction (SQLite): a progress line each. */
const CHUNK = 500_000;
/**
 * Event rows longer than this are not cloned: the one holding the abandoned template's error and
 * stack (~1.8 kB) would be a seventh of the log, where abandoned jobs are 1 % of the jobs.
 */
const MAX_TEMPLATE_EVENT = 1000;

const noop = defineTask({ name: 'noop', handler: async () => {} });
const failing = defineTask({
  name: 'fail',
  maxAttempts: 1,
  handler: async () => {
    throw new Error('template failure');
  },
});

/** Writes one job of each kind through the API and returns their ids. */
async function writeTemplates(driver) {
  const client = await createJobwire({ driver, tasks: [noop, failing] });
  try {
    const finished = new Promise((resolve) => {
      let left = 2;
      const one = () => --left === 0 && resolve();
      client.events.on('job:completed', one);
      client.events.on('job:abandoned', one);
    });
    const completed = await client.enqueue(noop, { i: 0 });
    const abandoned = await client.enqueue(failing, { i: 0 });
    const pool = client.createPool({ concurrency: 2, handleSignals: false });
    await pool.start();
    await finished;
    await pool.stop();
    const cancelled = await client.enqueue(noop, { i: 0 });
    await client.cancelJob(cancelled.id);
    const pending = await client.enqueue(noop, { i: 0 });
    return { completed: completed.id, abandoned: abandoned.id, cancelled: cancelled.id, pending: pending.id };
  } finally {
    await client.close();
  }
}

/**
 * The clones to write, oldest first (ids grow with time, as they would): each part names its
 * template, how many rows, and its times as SQL of `g` (1…count) and the dialect's helpers.
 */
function plan({ pending, finished, backlogQueue }) {
  const abandoned = Math.min(99_000, Math.floor(finished / 100));
  const cancelled = Math.floor(finished / 100);
  const completed = finished - abandoned - cancelled;
  // Finish times: `span` ms back from now, evenly over the part's rows.
  const finishedPart = (template, count, span) => ({
    template,
    count,
    finishedAgo: (g) => `${span} - (${g}) * ${Math.floor(span / Math.max(count, 1))}`,
  });
  return [
    finishedPart('abandoned', abandoned, 29 * DAY),
    finishedPart('cancelled', cancelled, 6 * DAY),
    finishedPart('completed', completed, 23 * HOUR),
    // The backlog: enqueued over the last hour, all due (run_at = created_at, as enqueue writes).
    {
      template: 'pending',
      count: pending,
      enqueuedAgo: (g) => `${HOUR} - (${g}) * ${Math.floor(HOUR / Math.max(pending, 1))}`,
      queue: backlogQueue,
    },
  ];
}

/**
 * One part's column expressions over template `t` and counter `g`; `ms(sql)` turns an epoch-ms
 * expression into the column type, `text(sql)` casts to text.
 */
function overrides(part, now, { ms, json, text }) {
  const base = {
    payload: json(`'{"i":' || ${text('g')} || '}'`),
    correlation_id: `t.correlation_id || '-' || ${text('g')}`,
  };
  if (part.queue) base.queue = `'${part.queue}'`;
  if (part.enqueuedAgo) {
    const at = ms(`${now} - (${part.enqueuedAgo('g')})`);
    return { ...base, created_at: at, run_at: at };
  }
  const finishedAt = `${now} - (${part.finishedAgo('g')})`;
  return {
    ...base,
    created_at: ms(`${finishedAt} - 40`),
    run_at: ms(`${finishedAt} - 40`),
    started_at: ms(`${finishedAt} - 5`),
    finished_at: ms(finishedAt),
  };
}

function selectList(columns, values) {
  return columns.map((c) => values[c] ?? `t.${c}`).join(', ');
}

/** Fills a PostgreSQL schema (migrated, templates written) and VACUUM ANALYZEs it. */
async function fillPostgres(url, schema, templates, sizes, progress) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const s = `"${schema}"`;
    const { rows } = await client.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'jobs' AND column_name <> 'id' ORDER BY ordinal_position`,
      [schema],
    );
    const columns = rows.map((r) => r.column_name);
    const now = Date.now();
    const dialect = {
      ms: (e) => `to_timestamp((${e})::float8 / 1000)`,
      json: (e) => `(${e})::json`,
      text: (e) => `(${e})::text`,
    };
    for (const part of plan(sizes)) {
      for (let from = 1; from <= part.count; from += CHUNK) {
        const to = Math.min(part.count, from + CHUNK - 1);
        progress(
          `      fill: ${part.template} jobs ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${part.count.toLocaleString('en-US')}`,
        );
        await client.query(
          `INSERT INTO ${s}.jobs (${columns.join(', ')})
           SELECT ${selectList(columns, overrides(part, now, dialect))}
           FROM ${s}.jobs t CROSS JOIN generate_series(${from}::bigint, ${to}::bigint) g WHERE t.id = $1`,
          [templates[part.template]],
        );
      }
    }
    // Event rows: the templates' own rows (those written so far), cycled; each names a range of
    // jobs that exists.
    const { rows: top } = await client.query(
      `SELECT (SELECT max(id) FROM ${s}.jobs)::bigint AS max, (SELECT max(id) FROM ${s}.events)::bigint AS templates`,
    );
    for (let from = 1; from <= sizes.events; from += CHUNK) {
      const to = Math.min(sizes.events, from + CHUNK - 1);
      progress(
        `      fill: event rows ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${sizes.events.toLocaleString('en-US')}`,
      );
      await client.query(
        `WITH t AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n, job_lo, job_hi, entries FROM ${s}.events
                   WHERE id <= ${top[0].templates} AND length(entries) <= ${MAX_TEMPLATE_EVENT})
         INSERT INTO ${s}.events (at, job_lo, job_hi, entries)
         SELECT to_timestamp((${now} - ${6 * DAY} + g * ${Math.floor((6 * DAY) / sizes.events)})::float8 / 1000),
                1 + (g * 6) % ${top[0].max}, 1 + (g * 6) % ${top[0].max} + (t.job_hi - t.job_lo), t.entries
         FROM generate_series(${from}::bigint, ${to}::bigint) g JOIN t ON t.k = g % t.n`,
      );
    }
    progress('      VACUUM ANALYZE (what autovacuum does to a freshly loaded table)');
    await client.query(`VACUUM ANALYZE ${s}.jobs`);
    await client.query(`VACUUM ANALYZE ${s}.events`);
  } finally {
    await client.end();
  }
}

/** Fills a SQLite file (migrated, templates written), then ANALYZE and a WAL checkpoint. */
async function fillSqlite(path, templates, sizes, progress) {
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(path);
  try {
    const columns = db
      .prepare('SELECT name FROM pragma_table_info(?) WHERE name <> ? ORDER BY cid')
      .all('jobwire_jobs', 'id')
      .map((r) => r.name);
    const now = Date.now();
    const dialect = { ms: (e) => `(${e})`, json: (e) => `(${e})`, text: (e) => `CAST(${e} AS TEXT)` };
    const counter = (from, to) =>
      `WITH RECURSIVE n(g) AS (SELECT ${from} UNION ALL SELECT g + 1 FROM n WHERE g < ${to})`;
    for (const part of plan(sizes)) {
      for (let from = 1; from <= part.count; from += CHUNK) {
        const to = Math.min(part.count, from + CHUNK - 1);
        progress(
          `      fill: ${part.template} jobs ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${part.count.toLocaleString('en-US')}`,
        );
        db.prepare(
          `${counter(from, to)}
           INSERT INTO jobwire_jobs (${columns.join(', ')})
           SELECT ${selectList(columns, overrides(part, now, dialect))}
           FROM jobwire_jobs t CROSS JOIN n WHERE t.id = ?`,
        ).run(Number(templates[part.template]));
      }
    }
    const top = db.prepare('SELECT max(id) AS max FROM jobwire_jobs').get().max;
    const templateRows = db
      .prepare(
        'SELECT e.entries, coalesce(r.hi - r.lo, -1) AS span FROM jobwire_events e LEFT JOIN jobwire_event_jobs r ON r.id = e.id WHERE length(e.entries) <= ? ORDER BY e.id',
      )
      .all(MAX_TEMPLATE_EVENT);
    const insertEvent = db.prepare('INSERT INTO jobwire_events (at, entries) VALUES (?, ?) RETURNING id');
    const insertRange = db.prepare('INSERT INTO jobwire_event_jobs (id, lo, hi) VALUES (?, ?, ?)');
    for (let from = 1; from <= sizes.events; from += CHUNK) {
      const to = Math.min(sizes.events, from + CHUNK - 1);
      progress(
        `      fill: event rows ${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${sizes.events.toLocaleString('en-US')}`,
      );
      db.transaction(() => {
        for (let g = from; g <= to; g++) {
          const t = templateRows[g % templateRows.length];
          const { id } = insertEvent.get(now - 6 * DAY + g * Math.floor((6 * DAY) / sizes.events), t.entries);
          const lo = 1 + ((g * 6) % top);
          if (t.span >= 0) insertRange.run(id, lo, lo + t.span);
        }
      })();
    }
    progress('      ANALYZE and WAL checkpoint');
    db.exec('ANALYZE');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * Writes the templates through `driver` (then closed by its client) and fills the database:
 * `sizes` = { pending, finished, events, backlogQueue }. `target` = { kind: 'postgres', url,
 * schema } or { kind: 'sqlite', path }.
 */
export async function fillLarge(driver, target, sizes, progress) {
  const templates = await writeTemplates(driver);
  // The pending template is one of the backlog's jobs: the backlog holds `pending` jobs in all.
  const rest = { ...sizes, pending: sizes.pending - 1 };
  if (target.kind === 'postgres') await fillPostgres(target.url, target.schema, templates, rest, progress);
  else await fillSqlite(target.path, templates, rest, progress);
}
