/**
 * The deduplication rules (unique with finished states, throttle, debounce) on SQLite. They run
 * inside the insert's IMMEDIATE transaction, which holds the database's only write lock, so the
 * look-up and the write that follows it see no other writer in between: two processes enqueueing
 * the same key take turns, and each gets back exactly the job its turn matched.
 */
import { debouncedEvent, deduplicatedEvent } from '../../core/dedup.js';
import { queuedEvent } from '../../core/job-events.js';
import type { EpochMs, JobState } from '../../core/types.js';
import type { JobInsertParams, JobInsertResult } from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import { insertedJobRecord } from '../../driver/inserted-record.js';
import { ACTIVE_BY_UNIQUE_KEY_SQL, FINISHED_BY_UNIQUE_KEY_SQL, type SqliteContext } from './context.js';
import { type JobRow, rowToRecord } from './row.js';

/** What one ruled insert did: its result, whether a row was added, and its log entry. */
export interface RuledOutcome {
  result: JobInsertResult;
  /** True when a new job was stored (it counts against `maxPending`). */
  added: boolean;
  entry: LogEntry;
}

/** Inserts one job row (jobs.ts's insert, shared so every insert stores the same columns). */
export type InsertRow = (
  job: JobInsertParams,
  state: JobState,
  runAt: EpochMs,
  now: EpochMs,
) => { id: number } | undefined;

/** Build the ruled insert (call only inside the insert transaction). */
export function createDedupInserter(ctx: SqliteContext, insertRow: InsertRow) {
  const { db } = ctx;
  const activeUnique = db.prepare(ACTIVE_BY_UNIQUE_KEY_SQL);
  // Newest finish first; the rule's own states are picked out of these few rows.
  const finishedUnique = db.prepare(FINISHED_BY_UNIQUE_KEY_SQL);
  const throttleHolder = db.prepare(
    `SELECT * FROM jobwire_jobs WHERE dedup_key = ? AND created_at > ? ORDER BY id DESC LIMIT 1`,
  );
  // A debounced job has never started: still waiting, no attempt counted, none cut off (an
  // interrupted or rescued attempt gives its number back but did run).
  const debounceHolder = db.prepare(
    `SELECT * FROM jobwire_jobs
     WHERE dedup_key = ? AND task = ? AND state IN ('scheduled', 'pending') AND attempt = 0
       AND interruptions = 0
     ORDER BY id DESC LIMIT 1`,
  );
  const debounceUpdate = db.prepare(
    `UPDATE jobwire_jobs
     SET payload = ?, priority = ?, max_attempts = ?, timeout_ms = ?, backoff = ?, metadata = ?,
         dedup = ?, run_at = ?, state = ?
     WHERE id = ?
     RETURNING *`,
  );

  const stateAt = (runAt: EpochMs, now: EpochMs) => (runAt > now ? 'scheduled' : 'pending');
  const backoffJson = (job: JobInsertParams) => (job.backoff === null ? null : JSON.stringify(job.backoff));

  function insert(job: JobInsertParams, runAt: EpochMs, now: EpochMs): RuledOutcome {
    const state = stateAt(runAt, now);
    // Never skipped: the look-up found no active holder of a unique key, under the write lock.
    const { id } = insertRow(job, state, runAt, now)!;
    const record = insertedJobRecord(job, { id: String(id), state, runAt, createdAt: now });
    return {
      result: { job: record, duplicate: false },
      added: true,
      entry: { type: 'job:queued', data: queuedEvent(record, now) },
    };
  }

  const matched = (row: JobRow, rule: 'unique' | 'throttle', key: string, now: EpochMs): RuledOutcome => {
    const record = rowToRecord(row);
    return {
      result: { job: record, duplicate: true, matchedBy: rule },
      added: false,
      entry: { type: 'job:deduplicated', data: deduplicatedEvent(record, rule, key, now) },
    };
  };

  /** Apply `job.dedup` (set) at `now`: match an existing job, or insert. */
  function apply(job: JobInsertParams, now: EpochMs): RuledOutcome {
    const rule = job.dedup!;
    switch (rule.rule) {
      case 'unique': {
        const active = activeUnique.get(rule.key) as JobRow | undefined;
        if (active) return matched(active, 'unique', rule.key, now);
        const since = rule.forMs === null ? Number.MIN_SAFE_INTEGER : now - rule.forMs;
        const finished = (finishedUnique.all(rule.key, since) as JobRow[]).find((row) =>
          rule.states.includes(row.state),
        );
        if (finished) return matched(finished, 'unique', rule.key, now);
        return insert(job, Math.floor(job.runAt ?? now + job.delayMs), now);
      }
      case 'throttle': {
        const holder = throttleHolder.get(rule.key, now - rule.windowMs) as JobRow | undefined;
        if (holder) return matched(holder, 'throttle', rule.key, now);
        return insert(job, Math.floor(job.runAt ?? now + job.delayMs), now);
      }
      case 'debounce': {
        const cap = (createdAt: EpochMs) =>
          rule.maxWaitMs === null
            ? now + rule.windowMs
            : Math.min(now + rule.windowMs, createdAt + rule.maxWaitMs);
        const waiting = debounceHolder.get(rule.key, job.task) as JobRow | undefined;
        if (!waiting) return insert(job, cap(now), now);
        const runAt = cap(waiting.created_at);
        const row = debounceUpdate.get(
          job.payloadJson,
          job.priority,
          job.maxAttempts,
          job.timeoutMs,
          backoffJson(job),
          job.metadataJson,
          JSON.stringify(rule),
          runAt,
          stateAt(runAt, now),
          waiting.id,
        ) as JobRow;
        const record = rowToRecord(row);
        return {
          result: { job: record, duplicate: true, matchedBy: 'debounce', previousRunAt: waiting.run_at },
          added: false,
          entry: { type: 'job:debounced', data: debouncedEvent(record, rule.key, waiting.run_at, now) },
        };
      }
    }
  }

  return { apply };
}
