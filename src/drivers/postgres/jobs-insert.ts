/**
 * `jobInsertMany`: a whole batch in one statement (arrays bound once, expanded with unnest), so a
 * batch is atomic even without a transaction and costs one round trip.
 */
import type pg from 'pg';
import { deduplicatedEvent } from '../../core/dedup.js';
import { InvalidOptionError } from '../../core/errors.js';
import type { EpochMs, JobRecord, JobState } from '../../core/types.js';
import { blockedOnInsertEntries } from '../../driver/dependencies.js';
import {
  CHANNELS,
  type DirectStart,
  type JobInsertParams,
  type JobInsertResult,
  type QueueLimitExceeded,
} from '../../driver/driver.js';
import {
  directStartCandidate,
  type InsertedFields,
  insertedJobRecord,
} from '../../driver/inserted-record.js';
import type { PgContext, Queryable } from './context.js';
import { type InsertPlan, insertEdges, planInsert } from './dependencies.js';
import { insertEntries } from './events.js';
import { FLOW_CHANGED_CHANNEL, flowChanged } from './flow.js';
import { insertStarted } from './insert-started.js';
import { inInsertTransaction } from './insert-transaction.js';
import { jobInsertRuled, type RuledOptions } from './jobs-dedup.js';
import { columnSql, packColumns } from './packed-columns.js';
import { queuedEntrySql } from './queued-entry.js';
import { compareIds, epochMs, JOB_COLUMNS, type JobRow, nowSql, rowToRecord } from './row.js';

const ACTIVE = `('scheduled', 'pending', 'running')`;

/**
 * Rows whose unique key an active job holds are skipped. Only statements for batches with keys
 * carry the clause: ON CONFLICT makes every row a speculative insertion (an extra WAL record
 * and index check per row) even when its key is null and no conflict is possible.
 */
const ON_KEY_CONFLICT = `
  ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ${ACTIVE} DO NOTHING`;

/**
 * What an insert returns: only what the database decided. The rest of the record is what we
 * sent (json columns keep their text as written), so decoding every column back costs a round
 * trip's worth of server time for nothing.
 */
const INSERTED_COLUMNS = `j.id, j.queue, j.unique_key, j.state, ${epochMs('j.run_at')} AS run_at,
  ${epochMs('j.created_at')} AS created_at`;

/** A row as `INSERTED_COLUMNS` returns it. */
interface InsertedRow {
  id: string;
  queue: string;
  unique_key: string | null;
  state: JobState;
  run_at: number;
  created_at: number;
}

/** Stores one row of `job:queued` entries for what `inserted` holds (nothing when it is empty). */
const logQueuedSql = (s: string, from: string, p: string): string => `,
logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT min(i.id), max(i.id), '[' || string_agg(${queuedEntrySql('i', p)}, ',' ORDER BY i.id) || ']'
  FROM ${from}
  HAVING count(*) > 0
)`;

/**
 * Marks the keys of a batch's keyed jobs as having work (docs/flow-control.md), in one sorted
 * upsert: the upsert locks each key row until the insert commits (ON CONFLICT DO UPDATE locks the
 * row even when its WHERE is false), so a claim deciding a key is idle waits for, or skips, it;
 * and locking in key order means two batches with the same keys in another order cannot
 * deadlock. Only statements for batches with keyed jobs carry it. `from` yields queue and key.
 */
const flowKeysSql = (s: string, from: string): string => `,
flow_keys_waiting AS (
  INSERT INTO ${s}.flow_keys AS k (queue, key)
  ${from}
  ORDER BY 1, 2
  ON CONFLICT (queue, key) DO UPDATE SET active = true WHERE NOT k.active
)`;

/**
 * With keyed jobs, the wake-ups also announce flow work on the flow channel (delivered on commit,
 * so other processes drop their idle marks once the jobs are visible; see flow.ts).
 */
const flowNotifySql = (channel: string | null): string =>
  channel === null ? '' : `\n  UNION ALL SELECT pg_notify('${channel.replace(/'/g, "''")}', '')`;

/** Announces the caller's commit: NOTIFY is delivered on commit only, never after a rollback. */
const committedSql = (param: string): string => `,
committed AS (SELECT pg_notify(split_part(${param}, ' ', 1), split_part(${param}, ' ', 2)) WHERE ${param} IS NOT NULL)`;

/** The batch statement's array parameters and their element types, in `unnest` order. */
const INSERT_COLUMNS: readonly (readonly [string, string])[] = [
  ['$1', 'text'],
  ['$2', 'text'],
  ['$3', 'text'],
  ['$4', 'int'],
  ['$5', 'int'],
  ['$6', 'float8'],
  ['$7', 'float8'],
  ['$8', 'text'],
  ['$9', 'text'],
  ['$10', 'text'],
  ['$11', 'bigint'],
  ['$12', 'text'],
  ['$16', 'text'],
  ['$17', 'int'],
];

/**
 * Ids are drawn from the sequence up front (in input order) so each input row knows its id and
 * the RETURNING rows map back without relying on insertion order. A row whose unique key is
 * taken, by an active job or by an earlier row of the batch, is skipped by ON CONFLICT and
 * `assemble` looks up the key's holder. Every queue that got a pending row is notified; NOTIFY
 * is delivered on commit.
 */
const insertSql = (
  s: string,
  withKeys: boolean,
  log: boolean,
  flowChannel: string | null = null,
  withDeps = false,
  packed = false,
): string => `
WITH input AS MATERIALIZED (
  SELECT nextval('${s}.jobs_id_seq') AS id, i.*
  FROM unnest(${INSERT_COLUMNS.slice(0, withDeps ? undefined : -1)
    .map(([param, type]) => columnSql(param, type, packed))
    .join(', ')})
       WITH ORDINALITY AS i(task, queue, payload, priority, max_attempts, delay_ms, run_at_ms,
                            unique_key, correlation_id, metadata, timeout_ms, backoff, concurrency_key${withDeps ? ', waiting' : ''}, ord)
),
clock AS (SELECT ${nowSql('$13')} AS now),
prepared AS (
  SELECT input.*, clock.now,
         CASE WHEN input.run_at_ms IS NOT NULL THEN to_timestamp(input.run_at_ms / 1000)
              ELSE clock.now + input.delay_ms * interval '1 millisecond' END AS run_at
  FROM input CROSS JOIN clock
),
inserted AS (
  INSERT INTO ${s}.jobs AS j (id, task, queue, state, payload, priority, max_attempts, run_at, created_at,
                              unique_key, correlation_id, metadata, timeout_ms, backoff, concurrency_key${withDeps ? ', dependencies_waiting' : ''})
  OVERRIDING SYSTEM VALUE
  SELECT id, task, queue, CASE ${withDeps ? `WHEN waiting > 0 THEN 'blocked' ` : ''}WHEN run_at > now THEN 'scheduled' ELSE 'pending' END,
         payload::json, priority, max_attempts, run_at, now, unique_key, correlation_id, metadata::json, timeout_ms,
         backoff::json, concurrency_key${withDeps ? ', waiting' : ''}
  FROM prepared ORDER BY ord${withKeys ? ON_KEY_CONFLICT : ''}
  RETURNING ${INSERTED_COLUMNS}
),
woken AS (
  SELECT pg_notify($14, q.queue) FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'pending') q${flowNotifySql(flowChannel)}
)${log ? logQueuedSql(s, 'inserted i JOIN prepared p ON p.id = i.id', 'p') : ''}${
  flowChannel
    ? flowKeysSql(s, 'SELECT DISTINCT queue, concurrency_key FROM input WHERE concurrency_key IS NOT NULL')
    : ''
}${committedSql('$15::text')}
SELECT inserted.* FROM inserted WHERE (SELECT count(*) FROM woken) >= 0
  AND (SELECT count(*) FROM committed) >= 0`;

/**
 * One job: a plain INSERT … SELECT of scalars. The batch statement's unnest of twelve arrays and
 * its sequence draw cost about as much again as the insert itself, and single enqueues are the
 * common case. Same columns, same conflict rule, same NOTIFY; a skipped duplicate returns no
 * row and `assemble` looks up the key's holder. `$16` is the flow-control key. With `withDedup`
 * (the ruled insert of jobs-dedup.ts, which passes `$7` as the due time) it also stores `$17`
 * (the rule, JSON) and `$18` (a throttle or debounce key): one statement for every single-job insert.
 */
const insertOneSql = (
  s: string,
  withKey: boolean,
  log: boolean,
  flowChannel: string | null = null,
  withDedup = false,
): string => `
WITH clock AS (SELECT ${nowSql('$13')} AS now),
one AS (SELECT $1::text AS task, $4::int AS priority, $5::int AS max_attempts, $9::text AS correlation_id,
               $10::text AS metadata),
prepared AS (
  SELECT clock.now,
         CASE WHEN $7::float8 IS NOT NULL THEN to_timestamp($7::float8 / 1000)
              ELSE clock.now + $6::float8 * interval '1 millisecond' END AS run_at
  FROM clock
),
inserted AS (
  INSERT INTO ${s}.jobs AS j (task, queue, state, payload, priority, max_attempts, run_at, created_at,
                              unique_key, correlation_id, metadata, timeout_ms, backoff, concurrency_key${
                                withDedup ? ', dedup, dedup_key' : ''
                              })
  SELECT $1::text, $2::text, CASE WHEN run_at > now THEN 'scheduled' ELSE 'pending' END, $3::json,
         $4::int, $5::int, run_at, now, $8::text, $9::text, $10::json, $11::bigint, $12::json, $16::text${
           withDedup ? ', $17::json, $18::text' : ''
         }
  FROM prepared${withKey ? ON_KEY_CONFLICT : ''}
  RETURNING ${INSERTED_COLUMNS}
),
woken AS (SELECT pg_notify($14, queue) FROM inserted WHERE state = 'pending'${flowNotifySql(flowChannel)})${
  log ? logQueuedSql(s, 'inserted i CROSS JOIN one p', 'p') : ''
}${flowChannel ? flowKeysSql(s, 'SELECT $2::text, $16::text') : ''}${committedSql('$15::text')}
SELECT inserted.* FROM inserted WHERE (SELECT count(*) FROM woken) >= 0
  AND (SELECT count(*) FROM committed) >= 0`;

/**
 * The active job holding each key, looked up after the statement skipped a row for it. A key
 * whose holder finished in between has none: that row is inserted again under the key's lock
 * (jobs-dedup.ts), so a caller never gets back a job that did not hold the key.
 */
const holdersSql = (s: string): string => `
SELECT ${JOB_COLUMNS} FROM ${s}.jobs j
WHERE j.unique_key = ANY($1::text[]) AND j.state IN ${ACTIVE}`;

export interface InsertParams {
  jobs: readonly JobInsertParams[];
  start?: DirectStart;
  maxPendingByQueue?: ReadonlyMap<string, number>;
  executor?: unknown;
  log?: boolean;
  commitToken?: string;
  now?: EpochMs;
}

export type InsertOutcome = { inserted: JobInsertResult[] } | { queueFull: QueueLimitExceeded };

/**
 * A caller's client: something with `query`, but not a pool (a pool cannot hold a transaction).
 * Refusals name `transaction`, the option as the caller writes it (`executor` is its deprecated
 * alias), as every driver does.
 */
function asExecutor(executor: unknown): Queryable | undefined {
  if (executor === undefined || executor === null) return undefined;
  const candidate = executor as { query?: unknown; totalCount?: unknown; idleCount?: unknown };
  if (typeof candidate.query !== 'function') {
    throw new InvalidOptionError(
      'transaction',
      'must be a node-postgres client (pg.Client or pg.PoolClient) inside a transaction you opened',
    );
  }
  if (typeof candidate.totalCount === 'number' && typeof candidate.idleCount === 'number') {
    throw new InvalidOptionError(
      'transaction',
      'got a pg.Pool; pass the client of your open transaction (const client = await pool.connect(); BEGIN; …)',
    );
  }
  return executor as Queryable;
}

const floorOrNull = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms));

/** Thrown inside our own transaction to roll it back when a queue is full. */
class QueueFullAbort {
  constructor(readonly limit: QueueLimitExceeded) {}
}

const SAVEPOINT = 'jobwire_insert';

/** The plain batch statement, its columns packed when they can be (see packed-columns.ts). */
function insertBatch(
  ctx: PgContext,
  values: unknown[],
  executor: Queryable | undefined,
  sql: (packed: boolean) => string,
): Promise<InsertedRow[]> {
  const packed = packColumns(values);
  return ctx.query<InsertedRow>('jobInsertMany', sql(packed !== undefined), packed ?? values, executor);
}

export async function jobInsertMany(ctx: PgContext, params: InsertParams): Promise<InsertOutcome> {
  ctx.assertOpen();
  const executor = asExecutor(params.executor);
  if (params.jobs.length === 0) return { inserted: [] };
  const candidate = directStartCandidate(params);
  if (candidate) {
    return {
      inserted: [await insertStarted(ctx, candidate, params.start!, params.log === true, params.now)],
    };
  }
  const jobs = params.jobs;
  const values = [
    jobs.map((j) => j.task),
    jobs.map((j) => j.queue),
    jobs.map((j) => j.payloadJson),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => Math.floor(j.delayMs)),
    jobs.map((j) => floorOrNull(j.runAt)),
    jobs.map((j) => j.uniqueKey),
    jobs.map((j) => j.correlationId),
    jobs.map((j) => j.metadataJson),
    jobs.map((j) => j.timeoutMs),
    jobs.map((j) => (j.backoff === null ? null : JSON.stringify(j.backoff))),
    params.now ?? null,
    ctx.channel(CHANNELS.jobAvailable),
    // Only inside a caller's transaction: there, our NOTIFY says it committed.
    executor && params.commitToken ? `${ctx.channel(CHANNELS.committed)} ${params.commitToken}` : null,
    jobs.map((j) => j.concurrencyKey ?? null),
  ];
  const log = params.log === true;
  const withKeys = jobs.some((j) => j.uniqueKey !== null);
  const flowChannel = jobs.some((j) => j.concurrencyKey != null) ? ctx.channel(FLOW_CHANGED_CHANNEL) : null;
  // This process's claims must not trust an idle mark taken before these jobs existed.
  if (flowChannel) flowChanged(ctx, false);
  const withDeps = jobs.some((j) => j.dependsOn?.length);
  const limits = params.maxPendingByQueue;
  const limited = limitedQueues(jobs, limits);
  // A LISTEN set up in this process just before must be in place to hear our NOTIFY.
  await ctx.notifier.ready();
  // Built only when a rule needs it: unkeyed inserts never get here.
  const ruled = (): RuledOptions => ({
    log,
    now: params.now,
    limits: limited.length > 0 ? { queues: limited, limits: limits! } : undefined,
    commitChannel: values[14] as string | null,
    insertSql: insertOneSql(ctx.s, true, false, flowChannel, true),
  });
  // Rules (throttle, debounce, unique with finished states) look before they write: jobs-dedup.ts.
  if (jobs.some((j) => j.dedup)) return jobInsertRuled(ctx, jobs, executor, ruled());
  const assemble = (rows: InsertedRow[], on: Queryable | undefined) =>
    assembleInserted(ctx, jobs, rows, on, { on: log, now: params.now }, () => ({
      ...ruled(),
      limits: undefined,
      commitChannel: null,
    }));
  if (limited.length === 0 && !withDeps) {
    const rows =
      jobs.length === 1
        ? await ctx.query<InsertedRow>(
            'jobInsertOne',
            insertOneSql(ctx.s, withKeys, log, flowChannel),
            values.map((v) => (Array.isArray(v) ? v[0] : v)),
            executor,
          )
        : await insertBatch(ctx, values, executor, (packed) =>
            insertSql(ctx.s, withKeys, log, flowChannel, false, packed),
          );
    return { inserted: await assemble(rows, executor) };
  }

  /**
   * Insert, then check each limited queue: waiting before + rows actually added (duplicates add
   * none) must stay within its limit. The advisory locks make concurrent enqueues to the same
   * queue take turns, so two batches cannot both squeeze past the limit.
   */
  const insertWithinLimits = async (client: Queryable, own: boolean): Promise<JobInsertResult[]> => {
    const run = <R extends pg.QueryResultRow>(text: string, args: unknown[]) =>
      ctx.query<R>('jobInsertMany', text, args, client, own);
    // Dependencies are locked and checked before anything is written (see dependencies.ts).
    const q = onClient(ctx, client, own);
    const plans = withDeps ? await planInsert(q, jobs) : undefined;
    const rows =
      limited.length > 0
        ? await insertLimited(run, plans)
        : await run<InsertedRow>(statement(), depValues(plans));
    const results = await assemble(rows, client);
    if (plans) {
      const blockedOn = await insertEdges(
        q,
        plans,
        results.map((r) => r.job.id),
      );
      blockedOn.forEach((holders, i) => {
        if (!holders || results[i]!.duplicate) return;
        results[i]!.blockedOn = holders.all;
        if (holders.stuck.length > 0) results[i]!.stuckOn = holders.stuck;
      });
      const entries = results
        .filter((r) => r.blockedOn)
        .flatMap((r) => blockedOnInsertEntries(r.job, r.blockedOn!, r.job.createdAt.getTime(), r.stuckOn));
      if (log) await insertEntries(q, entries);
    }
    return results;
  };
  const statement = () => insertSql(ctx.s, withKeys, log, flowChannel, withDeps);
  const depValues = (plans: readonly (InsertPlan | undefined)[] | undefined) =>
    plans ? [...values, plans.map((p) => p?.waiting ?? 0)] : values;

  const insertLimited = async (
    run: <R extends pg.QueryResultRow>(text: string, args: unknown[]) => Promise<R[]>,
    plans?: readonly (InsertPlan | undefined)[],
  ): Promise<InsertedRow[]> => {
    // Sorted, so two batches locking the same queues cannot deadlock.
    for (const queue of limited) {
      await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `jobwire:queue:${ctx.schema}:${queue}`,
      ]);
    }
    const counts = await run<{ queue: string; waiting: string }>(
      `SELECT queue, count(*) AS waiting FROM ${ctx.s}.jobs
       WHERE queue = ANY($1::text[]) AND state IN ('scheduled', 'pending') GROUP BY queue`,
      [limited],
    );
    const rows = await run<InsertedRow>(statement(), depValues(plans));
    for (const queue of limited) {
      const maxPending = limits!.get(queue)!;
      const pending = Number(counts.find((c) => c.queue === queue)?.waiting ?? 0);
      // Waiting jobs only (scheduled, pending), as QueueOptions.maxPending says: a blocked one is not.
      const added = rows.filter((r) => r.queue === queue && r.state !== 'blocked').length;
      if (added > 0 && pending + added > maxPending)
        throw new QueueFullAbort({ queue, maxPending, pending, adding: added });
    }
    return rows;
  };

  try {
    // In the caller's transaction: a savepoint undoes our part (and its NOTIFY) and only that.
    return { inserted: await inInsertTransaction(ctx, executor, SAVEPOINT, insertWithinLimits) };
  } catch (err) {
    if (err instanceof QueueFullAbort) return { queueFull: err.limit };
    throw err;
  }
}

/** `ctx` with every query on `client`, prepared only on clients of our own pool. */
function onClient(ctx: PgContext, client: Queryable, own: boolean): PgContext {
  const view = Object.create(ctx) as PgContext;
  view.query = (operation, text, values) => ctx.query(operation, text, values, client, own);
  return view;
}

/** The queues of this batch that have a limit, sorted. */
function limitedQueues(jobs: readonly JobInsertParams[], limits?: ReadonlyMap<string, number>): string[] {
  if (!limits || limits.size === 0) return [];
  return [...new Set(jobs.map((j) => j.queue).filter((q) => limits.has(q)))].sort();
}

const insertedFields = (row: InsertedRow): InsertedFields => ({
  id: row.id,
  state: row.state,
  runAt: row.run_at,
  createdAt: row.created_at,
});

/**
 * Pair every input job with its new row, or with the active job that already held its key (a
 * `job:deduplicated` entry each, stored after the insert). Rows whose key's holder finished
 * before the look-up go through the locked insert.
 */
async function assembleInserted(
  ctx: PgContext,
  jobs: readonly JobInsertParams[],
  rows: InsertedRow[],
  executor: Queryable | undefined,
  log: { on: boolean; now?: EpochMs },
  retryOptions: () => RuledOptions,
): Promise<JobInsertResult[]> {
  // Ids were drawn in input order. A key's new row belongs to the first input row with that key
  // (later ones conflicted with it); rows without a key are never skipped, so they pair in order.
  const fresh = [...rows].sort((a, b) => compareIds(a.id, b.id));
  const freshByKey = new Map(fresh.filter((r) => r.unique_key !== null).map((r) => [r.unique_key!, r]));
  const freshWithoutKey = fresh.filter((r) => r.unique_key === null);
  const takenKeys = [
    ...new Set(jobs.map((j) => j.uniqueKey).filter((k): k is string => k !== null && !freshByKey.has(k))),
  ];
  const holders = new Map<string, JobRecord>();
  if (takenKeys.length > 0) {
    const found = await ctx.query<JobRow>('jobInsertMany', holdersSql(ctx.s), [takenKeys], executor);
    for (const row of found) holders.set(row.unique_key!, rowToRecord(row));
  }
  const results: JobInsertResult[] = [];
  const retry: number[] = [];
  let nextWithoutKey = 0;
  for (const job of jobs) {
    if (job.uniqueKey === null) {
      results.push({
        job: insertedJobRecord(job, insertedFields(freshWithoutKey[nextWithoutKey++]!)),
        duplicate: false,
      });
      continue;
    }
    const own = freshByKey.get(job.uniqueKey);
    if (own) {
      freshByKey.delete(job.uniqueKey);
      const record = insertedJobRecord(job, insertedFields(own));
      // Later rows of the batch with this key are duplicates of this one.
      holders.set(job.uniqueKey, record);
      results.push({ job: record, duplicate: false });
      continue;
    }
    const holder = holders.get(job.uniqueKey);
    if (!holder) retry.push(results.length);
    // A placeholder until the locked insert below decides.
    results.push({ job: holder!, duplicate: true, matchedBy: 'unique' });
  }
  if (log.on) {
    const at = log.now ?? Date.now();
    const entries = results
      .filter((r, i) => r.duplicate && !retry.includes(i))
      .map((r) => ({
        type: 'job:deduplicated',
        data: deduplicatedEvent(r.job, 'unique', r.job.uniqueKey!, at),
      }));
    await insertEntries(ctx, entries, executor, executor === undefined);
  }
  if (retry.length > 0) {
    const outcome = await jobInsertRuled(
      ctx,
      retry.map((i) => jobs[i]!),
      executor,
      retryOptions(),
    );
    if (!('inserted' in outcome)) throw new Error('jobwire: a unique-key retry has no queue limit to exceed');
    retry.forEach((index, k) => {
      results[index] = outcome.inserted[k]!;
    });
  }
  return results;
}
