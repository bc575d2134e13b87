/**
 * Inserts that apply a deduplication rule (unique with finished states, throttle, debounce) on
 * PostgreSQL, and the exact re-check of a plain unique key that lost a conflict.
 *
 * A rule is a look-up followed by a write, so it runs in a transaction (ours, or a savepoint of
 * the caller's) that first takes a transaction-scoped advisory lock per key: enqueuers of one key
 * take turns, and each look-up sees every committed job of the key (READ COMMITTED gives each
 * statement a fresh snapshot, taken after the lock was granted). The lock lasts until commit, so
 * inside a caller's transaction the next enqueuer of the key waits for that commit or rollback —
 * a rolled-back insert leaves nothing and does not hold the key. Each caller gets back the job
 * its turn matched. Batches without rules never come here.
 */
import type pg from 'pg';
import { debouncedEvent, deduplicatedEvent } from '../../core/dedup.js';
import { queuedEvent } from '../../core/job-events.js';
import type { DedupRule, EpochMs, JobState } from '../../core/types.js';
import {
  CHANNELS,
  type JobInsertParams,
  type JobInsertResult,
  type QueueLimitExceeded,
} from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import { insertedJobRecord } from '../../driver/inserted-record.js';
import type { PgContext, Queryable } from './context.js';
import { insertEntries } from './events.js';
import { inInsertTransaction } from './insert-transaction.js';
import { epochMs, JOB_COLUMNS, type JobRow, nowSql, rowToRecord } from './row.js';

const ACTIVE = `('scheduled', 'pending', 'running')`;

/** What the caller of `insertRuled` decided about limits: queues to check, and their limits. */
export interface RuledLimits {
  queues: readonly string[];
  limits: ReadonlyMap<string, number>;
}

/** How `insertRuled` runs; see `jobInsertMany` in jobs-insert.ts, which decides all of it. */
export interface RuledOptions {
  log: boolean;
  now?: EpochMs;
  limits?: RuledLimits;
  /** `<channel> <token>` to announce a caller's commit with, or null. */
  commitChannel: string | null;
  /** jobs-insert.ts `insertOneSql(s, true, false, flowChannel, true)`: the statement that inserts one job. */
  insertSql: string;
}

/** A queue limit this batch would exceed (rolls the work back). */
export class RuledQueueFull {
  constructor(readonly limit: QueueLimitExceeded) {}
}

/**
 * Lock every key (sorted, so two batches never wait on each other in a cycle) and read the
 * clock: the transaction's time, or the caller's `now`.
 */
const LOCK_SQL = `
SELECT (SELECT count(pg_advisory_xact_lock(h))
        FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS keys) AS locked,
       ${epochMs(nowSql('$2'))} AS now`;

const activeUniqueSql = (s: string) =>
  `SELECT ${JOB_COLUMNS} FROM ${s}.jobs j WHERE j.unique_key = $1 AND j.state IN ${ACTIVE}`;

const finishedUniqueSql = (s: string) => `
SELECT ${JOB_COLUMNS} FROM ${s}.jobs j
WHERE j.unique_key = $1 AND j.state IN ('completed', 'abandoned', 'cancelled') AND j.state = ANY($2::text[])
  AND ($3::float8 IS NULL OR j.finished_at > to_timestamp($3::float8 / 1000))
ORDER BY j.finished_at DESC, j.id DESC LIMIT 1`;

const throttleSql = (s: string) => `
SELECT ${JOB_COLUMNS} FROM ${s}.jobs j
WHERE j.dedup_key = $1 AND j.created_at > to_timestamp($2::float8 / 1000)
ORDER BY j.id DESC LIMIT 1`;

const debounceHolderSql = (s: string) => `
SELECT ${JOB_COLUMNS} FROM ${s}.jobs j
WHERE j.dedup_key = $1 AND j.task = $2 AND j.state IN ('scheduled', 'pending') AND j.attempt = 0
  AND j.interruptions = 0
ORDER BY j.id DESC LIMIT 1`;

// Re-checked by the UPDATE itself: a worker may have claimed the job since the look-up.
const debounceUpdateSql = (s: string) => `
UPDATE ${s}.jobs AS j
SET payload = $2::json, priority = $3::int, max_attempts = $4::int, timeout_ms = $5::bigint,
    backoff = $6::json, metadata = $7::json, dedup = $8::json, run_at = to_timestamp($9::float8 / 1000),
    state = CASE WHEN $9::float8 > $10::float8 THEN 'scheduled' ELSE 'pending' END
WHERE j.id = $1 AND j.state IN ('scheduled', 'pending') AND j.attempt = 0 AND j.interruptions = 0
RETURNING ${JOB_COLUMNS}`;

/** The advisory-lock key of a job's rule: unique keys and throttle/debounce keys are two spaces. */
function lockKey(schema: string, job: JobInsertParams): string | null {
  if (job.dedup && job.dedup.rule !== 'unique') return `jobwire:dedup:${schema}:${job.dedup.key}`;
  if (job.uniqueKey !== null) return `jobwire:unique:${schema}:${job.uniqueKey}`;
  return null;
}

/**
 * Insert `jobs` (some with rules or unique keys) on `client`, inside a transaction the caller
 * of this function holds. Rows without a key are inserted as they come, one statement each
 * (a batch mixing many of them with rules is rare). Results and log entries are in input order.
 */
export async function insertRuled(
  ctx: PgContext,
  client: Queryable,
  own: boolean,
  jobs: readonly JobInsertParams[],
  options: RuledOptions,
): Promise<JobInsertResult[]> {
  const run = <R extends pg.QueryResultRow>(text: string, args: unknown[]) =>
    ctx.query<R>('jobInsertMany', text, args, client, own);
  const { s, schema } = ctx;
  const limits = options.limits;
  // Queue locks first, by name, as the plain insert takes them; then the keys, by hash.
  for (const queue of limits?.queues ?? []) {
    await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`jobwire:queue:${schema}:${queue}`]);
  }
  const keys = jobs.map((j) => lockKey(schema, j)).filter((k): k is string => k !== null);
  const [clock] = await run<{ now: number }>(LOCK_SQL, [keys, options.now ?? null]);
  const now = clock!.now;
  const waiting = new Map<string, number>();
  if (limits && limits.queues.length > 0) {
    const counts = await run<{ queue: string; waiting: string }>(
      `SELECT queue, count(*) AS waiting FROM ${s}.jobs
       WHERE queue = ANY($1::text[]) AND state IN ('scheduled', 'pending') GROUP BY queue`,
      [limits.queues],
    );
    for (const c of counts) waiting.set(c.queue, Number(c.waiting));
  }

  const results: JobInsertResult[] = [];
  const entries: LogEntry[] = [];
  const added = new Map<string, number>();
  const woken = new Set<string>();

  // The plain insert's single-job statement (same columns, NOTIFY of a pending job), with the
  // rule's columns, the due time decided here, and no log entry of its own (ours come below).
  const insertText = options.insertSql;
  const channel = ctx.channel(CHANNELS.jobAvailable);
  const insert = async (job: JobInsertParams, runAt: EpochMs): Promise<JobInsertResult | undefined> => {
    const rule = job.dedup ?? null;
    const [row] = await run<{ id: string; state: JobState }>(insertText, [
      job.task,
      job.queue,
      job.payloadJson,
      job.priority,
      job.maxAttempts,
      0,
      runAt,
      job.uniqueKey,
      job.correlationId,
      job.metadataJson,
      job.timeoutMs,
      job.backoff === null ? null : JSON.stringify(job.backoff),
      now,
      channel,
      null,
      job.concurrencyKey ?? null,
      rule === null ? null : JSON.stringify(rule),
      rule === null || rule.rule === 'unique' ? null : rule.key,
    ]);
    // A plain insert that does not take our lock can hold the unique key (a race we re-check).
    if (!row) return undefined;
    const record = insertedJobRecord(job, { id: row.id, state: row.state, runAt, createdAt: now });
    added.set(job.queue, (added.get(job.queue) ?? 0) + 1);
    entries.push({ type: 'job:queued', data: queuedEvent(record, now) });
    return { job: record, duplicate: false };
  };

  const matched = (row: JobRow, rule: 'unique' | 'throttle', key: string): JobInsertResult => {
    const record = rowToRecord(row);
    entries.push({ type: 'job:deduplicated', data: deduplicatedEvent(record, rule, key, now) });
    return { job: record, duplicate: true, matchedBy: rule };
  };

  const dueAt = (job: JobInsertParams) => Math.floor(job.runAt ?? now + job.delayMs);

  /** A unique key (plain or with finished states): its active holder, a finished match, or a new job. */
  const unique = async (job: JobInsertParams, rule: Extract<DedupRule, { rule: 'unique' }> | null) => {
    const key = job.uniqueKey!;
    for (let round = 0; ; round++) {
      const [active] = await run<JobRow>(activeUniqueSql(s), [key]);
      if (active) return matched(active, 'unique', key);
      if (rule) {
        const since = rule.forMs === null ? null : now - rule.forMs;
        const [finished] = await run<JobRow>(finishedUniqueSql(s), [key, rule.states, since]);
        if (finished) return matched(finished, 'unique', key);
      }
      const result = await insert(job, dueAt(job));
      if (result) return result;
      if (round >= 10) throw new Error(`jobwire: unique key "${key}" kept changing hands during an insert`);
    }
  };

  const debounce = async (job: JobInsertParams, rule: Extract<DedupRule, { rule: 'debounce' }>) => {
    const cap = (createdAt: EpochMs) =>
      rule.maxWaitMs === null
        ? now + rule.windowMs
        : Math.min(now + rule.windowMs, createdAt + rule.maxWaitMs);
    const [waiting] = await run<JobRow>(debounceHolderSql(s), [rule.key, job.task]);
    if (waiting) {
      const runAt = cap(waiting.created_at);
      const [row] = await run<JobRow>(debounceUpdateSql(s), [
        waiting.id,
        job.payloadJson,
        job.priority,
        job.maxAttempts,
        job.timeoutMs,
        job.backoff === null ? null : JSON.stringify(job.backoff),
        job.metadataJson,
        JSON.stringify(rule),
        runAt,
        now,
      ]);
      if (row) {
        const record = rowToRecord(row);
        if (record.state === 'pending') woken.add(record.queue);
        entries.push({ type: 'job:debounced', data: debouncedEvent(record, rule.key, waiting.run_at, now) });
        return {
          job: record,
          duplicate: true,
          matchedBy: 'debounce' as const,
          previousRunAt: waiting.run_at,
        };
      }
      // A worker started it in the meantime: this enqueue makes a new job.
    }
    return (await insert(job, cap(now)))!;
  };

  for (const job of jobs) {
    const rule = job.dedup ?? null;
    if (rule?.rule === 'throttle') {
      const [holder] = await run<JobRow>(throttleSql(s), [rule.key, now - rule.windowMs]);
      results.push(holder ? matched(holder, 'throttle', rule.key) : (await insert(job, dueAt(job)))!);
    } else if (rule?.rule === 'debounce') {
      results.push(await debounce(job, rule));
    } else if (job.uniqueKey !== null) {
      results.push(await unique(job, rule));
    } else {
      results.push((await insert(job, dueAt(job)))!);
    }
  }

  for (const queue of limits?.queues ?? []) {
    const maxPending = limits!.limits.get(queue)!;
    const pending = waiting.get(queue) ?? 0;
    const more = added.get(queue) ?? 0;
    if (more > 0 && pending + more > maxPending)
      throw new RuledQueueFull({ queue, maxPending, pending, adding: more });
  }
  if (options.log) await insertEntries(ctx, entries, client, own);
  // Delivered on commit only; the commit announcement (a caller's transaction) goes last.
  const notices: [string, string][] = [...woken].map((queue) => [channel, queue]);
  if (options.commitChannel) notices.push(options.commitChannel.split(' ') as [string, string]);
  if (notices.length > 0) {
    await run('SELECT count(pg_notify(c, p)) FROM unnest($1::text[], $2::text[]) AS n(c, p)', [
      notices.map((n) => n[0]),
      notices.map((n) => n[1]),
    ]);
  }
  return results;
}

const SAVEPOINT = 'jobwire_ruled_insert';

/**
 * `insertRuled` in a transaction of its own, or in a savepoint of the caller's `executor` (so a
 * refused batch undoes our part only). A queue limit it would exceed is returned, not thrown.
 */
export async function jobInsertRuled(
  ctx: PgContext,
  jobs: readonly JobInsertParams[],
  executor: Queryable | undefined,
  options: RuledOptions,
): Promise<{ inserted: JobInsertResult[] } | { queueFull: RuledQueueFull['limit'] }> {
  try {
    const inserted = await inInsertTransaction(ctx, executor, SAVEPOINT, (client, own) =>
      insertRuled(ctx, client, own, jobs, own ? { ...options, commitChannel: null } : options),
    );
    return { inserted };
  } catch (err) {
    if (err instanceof RuledQueueFull) return { queueFull: err.limit };
    throw err;
  }
}
