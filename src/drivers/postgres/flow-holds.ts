/**
 * Flow-control holds on PostgreSQL (`flow:held` / `flow:unheld`; see "Holds" in driver/flow.ts
 * for why a hold is marked once per key). The parts of the flow claim's two statements (flow.ts)
 * that begin and end holds:
 *
 * - Statement 1 also locks (FOR UPDATE SKIP LOCKED, as it locks ready keys) the keys it walks
 *   past that have a due job, no room by its snapshot and no mark yet, within its budget of keys,
 *   so statement 2 can mark them with exact counts on locked rows: one claim per hold sets
 *   `held_since`, and reports it. Such a key takes a ready key's place once per hold; a claim
 *   that came up short after such keys filled that budget goes on to the next keys (flow-claim.ts).
 * - Statement 2 marks those still held, and the queues whose queue-wide rule left no room while
 *   a job was due (their rule rows are locked by statement 1: claims of a limited queue take
 *   turns); clears the mark in the writes it makes anyway (a key's or queue's start, an idle key)
 *   and of a queue that has room again with nothing started; stores the events of all that in
 *   the log (`flowLoggedCte`, in the same statement); and returns what it did as extra rows, from
 *   which the claim builds the same events for its bus (with the builders SQLite uses).
 */
import type { LogEntry } from '../../driver/event-log.js';
import { type FlowUnheldReason, flowHeldEntry, flowHoldLimit, flowUnheldEntry } from '../../driver/flow.js';
import { packedClaimSql } from './claim-row.js';
import { epochMs } from './row.js';

/** A due job of key `k` (a flow_keys row alias) at `now`. */
export const keyDueSql = (s: string, k: string, now: string): string => `EXISTS (
  SELECT 1 FROM ${s}.jobs x WHERE x.queue = ${k}.queue AND x.concurrency_key = ${k}.key
    AND x.state IN ('pending', 'scheduled') AND x.run_at <= ${now})`;

/**
 * Statement 2's hold CTEs (after `clock`, `qc`, `picked`): `hold_c`/`keys_held` mark the held
 * key candidates ($7 queues, $8 keys) still held by exact counts, `queues_held` the queues
 * without room, `queues_cleared` ends the hold of a queue with room and nothing started (only
 * when the claim was not cut short by its limit, $3, which can leave a queue out).
 */
export const holdCtesSql = (s: string, keyRule: string, gcra: string): string => `,
hold_c AS (
  SELECT h.queue, h.key, k.tat, kr.concurrency, kr.rate_limit, kr.rate_interval_ms, kr.rate_burst,
         (SELECT count(*) FROM ${s}.jobs x
          WHERE x.queue = h.queue AND x.concurrency_key = h.key AND x.state = 'running') AS running
  FROM unnest($7::text[], $8::text[]) AS h(queue, key)
  CROSS JOIN LATERAL (
    SELECT k.tat FROM ${s}.flow_keys k
    WHERE k.ctid = ANY ($10::tid[]) AND k.queue = h.queue AND k.key = h.key AND k.held_since IS NULL OFFSET 0
  ) k
  CROSS JOIN LATERAL (${keyRule}) kr
),
keys_held AS (
  UPDATE ${s}.flow_keys k SET held_since = clock.now
  FROM hold_c h CROSS JOIN clock
  WHERE k.ctid = ANY ($10::tid[]) AND k.queue = h.queue AND k.key = h.key
    AND ((h.concurrency IS NOT NULL AND h.running >= h.concurrency)
         OR (h.rate_limit IS NOT NULL AND ${gcra} = 0))
    AND ${keyDueSql(s, 'h', 'clock.now')}
    -- A queue without room holds its keys as a whole: the queue is marked, not each key (as on SQLite).
    AND NOT EXISTS (SELECT 1 FROM qc WHERE qc.queue = h.queue AND qc.cap = 0)
  RETURNING json_build_array('held', k.queue, k.key, h.running, h.concurrency, h.rate_limit,
    h.rate_interval_ms, h.rate_burst, clock.ms)::text AS flow
),
queues_held AS (
  UPDATE ${s}.flow_rules r SET held_since = clock.now
  FROM qc CROSS JOIN clock
  WHERE r.queue = qc.queue AND r.pattern = '' AND qc.cap = 0 AND qc.held_since IS NULL
    AND (EXISTS (SELECT 1 FROM ${s}.jobs x WHERE x.queue = qc.queue AND x.state IN ('pending', 'scheduled')
                   AND x.concurrency_key IS NULL AND x.run_at <= clock.now)
         OR EXISTS (SELECT 1 FROM ${s}.flow_keys k WHERE k.queue = qc.queue AND k.active
                      AND ${keyDueSql(s, 'k', 'clock.now')}))
  RETURNING json_build_array('held', r.queue, NULL, coalesce(qc.running,
      (SELECT count(*) FROM ${s}.jobs x WHERE x.state = 'running' AND x.queue = r.queue)),
    r.concurrency, r.rate_limit, r.rate_interval_ms, r.rate_burst, clock.ms)::text AS flow
),
queues_cleared AS (
  UPDATE ${s}.flow_rules r SET held_since = NULL
  FROM qc CROSS JOIN clock
  WHERE r.queue = qc.queue AND r.pattern = '' AND qc.cap > 0 AND qc.held_since IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM picked p WHERE p.queue = qc.queue)
    AND (SELECT count(*) FROM picked) < $3::int
  RETURNING json_build_array('cleared', r.queue, NULL, qc.held_since, clock.ms)::text AS flow
)`;

/** The key's old mark as `keys_started`/`keys_idle` return it (`c`: the candidate row). */
export const unheldReturningSql = (reason: FlowUnheldReason, queue: string, key: string, since: string) =>
  `CASE WHEN ${since} IS NULL THEN NULL ELSE json_build_array('${reason}', ${queue}, ${key}, ${since}, clock.ms)::text END AS flow`;

/** The epoch-ms `held_since` of a row alias, as the candidates carry it. */
export const heldSinceSql = (alias: string): string => `${epochMs(`${alias}.held_since`)} AS held_since`;

/** The CTEs whose rows say what statement 2 did to holds (`flow`: a JSON array, or null). */
export const FLOW_CTES: readonly string[] = [
  'keys_held',
  'queues_held',
  'queues_cleared',
  'keys_started',
  'keys_idle',
  'queues_started',
];

/** Those of statement 2's lean variant (no queue-wide rule, no key to mark held; flow.ts). */
export const LEAN_FLOW_CTES: readonly string[] = ['keys_started', 'keys_idle'];

/**
 * With the log on: statement 2 stores its flow events itself, one row in its own statement (no
 * extra round trip), as `flowRowEntries` builds them — the same payloads, in the same order
 * (`compareFlowEntries`): by queue, the queue's own entry first, then type.
 */
export const flowLoggedCte = (s: string, ctes: readonly string[] = FLOW_CTES): string => `,
flow_logged AS (
  INSERT INTO ${s}.events (job_lo, job_hi, entries)
  SELECT NULL, NULL, json_agg(CASE WHEN f->>0 = 'held' THEN json_build_object('type', 'flow:held', 'data',
      json_build_object('queue', f->1, 'key', f->2, 'scope', CASE WHEN f->>2 IS NULL THEN 'queue' ELSE 'key' END,
        'limit', l.lim, 'max', CASE l.lim WHEN 'concurrency' THEN f->4 ELSE f->5 END,
        'intervalMs', CASE l.lim WHEN 'concurrency' THEN NULL ELSE f->6 END, 'running', f->3, 'at', f->8))
    ELSE json_build_object('type', 'flow:unheld', 'data',
      json_build_object('queue', f->1, 'key', f->2, 'scope', CASE WHEN f->>2 IS NULL THEN 'queue' ELSE 'key' END,
        'reason', f->0, 'heldSince', f->3, 'heldMs', greatest(0, (f->>4)::float8 - (f->>3)::float8), 'at', f->4))
    END ORDER BY (f->>1) COLLATE "C", (f->>2) COLLATE "C" NULLS FIRST, f->>0 = 'held' DESC)::text
  FROM (${ctes.map((cte) => `SELECT flow::json AS f FROM ${cte} WHERE flow IS NOT NULL`).join(' UNION ALL ')}) r
  CROSS JOIN LATERAL (SELECT CASE WHEN f->>4 IS NOT NULL AND (f->>3)::float8 >= (f->>4)::float8
    THEN 'concurrency' ELSE 'rate' END AS lim) l
  HAVING count(*) > 0
)`;

/**
 * Statement 2's result: the claimed jobs (packed as claim-row.ts packs them, with their
 * round-robin positions), then one row per hold begun or ended (`job` null, `flow` set), from
 * the hold CTEs and the start/idle writes.
 */
export const resultSql = (ctes: readonly string[] = FLOW_CTES): string => {
  const flowRows = ctes.map((cte) => `SELECT NULL, NULL, NULL, flow FROM ${cte} WHERE flow IS NOT NULL`);
  return `SELECT ${packedClaimSql('claimed', true)}, picked.n, picked.ord, NULL::text AS flow
FROM claimed JOIN picked ON picked.id = claimed.id
UNION ALL ${flowRows.join('\nUNION ALL ')}`;
};

type FlowRow =
  | [
      'held',
      string,
      string | null,
      number,
      number | null,
      number | null,
      number | null,
      number | null,
      number,
    ]
  | [FlowUnheldReason, string, string | null, number, number];

/** The events of statement 2's flow rows, in the order both drivers store them. */
export function flowRowEntries(rows: readonly string[]): LogEntry[] {
  return rows.map((text) => {
    const row = JSON.parse(text) as FlowRow;
    if (row[0] === 'held') {
      const [, queue, key, running, concurrency, rateLimit, intervalMs, burst, at] = row;
      const rate =
        rateLimit === null ? null : { limit: rateLimit, intervalMs: Number(intervalMs), burst: burst! };
      const count = Number(running);
      return flowHeldEntry(queue, key, flowHoldLimit({ concurrency, rate }, count), count, at);
    }
    const [reason, queue, key, heldSince, at] = row;
    return flowUnheldEntry(queue, key, reason, heldSince, at);
  });
}
