/**
 * Flow control on PostgreSQL (docs/flow-control.md): the stored rules, and the part of a claim
 * that serves keyed jobs and queues with a queue-wide rule.
 *
 * That part is two statements in one transaction (both run inside the claim function of
 * flow-claim.ts, one round trip). The first locks the rows that serialise claims: the queue-wide
 * rule rows of the queues (FOR UPDATE: claims of a limited queue take turns) and up to a budget
 * of ready key rows, least recently started first (FOR UPDATE SKIP LOCKED: claimers pass over
 * each other's keys), with their addresses. The second starts after those locks are held, so its
 * snapshot sees every earlier claim of those keys and queues committed: it counts their running
 * jobs (a running job is its slot), applies concurrency and GCRA rate limits, picks the head jobs
 * of each key round-robin (up to its share of the claim), starts them, and writes the keys' and
 * queues' new GCRA state — all in one statement, reaching the locked key rows by address. Finishing, releasing, cancelling, rescuing or deleting a job frees its slot by
 * moving it out of `running` in its own fenced write; none of them touches a flow row.
 */
import {
  assertFlowRule,
  assertFlowRuleName,
  type FlowRuleRecord,
  type FlowRuleRemoveParams,
  type FlowRuleSetParams,
} from '../../driver/driver.js';
import { loggedStartedCte } from './claim-log.js';
import type { PgContext } from './context.js';
import {
  FLOW_CTES,
  flowLoggedCte,
  heldSinceSql,
  holdCtesSql,
  keyDueSql,
  LEAN_FLOW_CTES,
  resultSql,
  unheldReturningSql,
} from './flow-holds.js';
import { FLOW_CHANGED_CHANNEL, flowChanged } from './flow-idle.js';
import { CLAIM_COLUMNS, epochMs, leaseStartSql, notSuspectSql, nowSql } from './row.js';

export { FLOW_CHANGED_CHANNEL, flowChanged };

const ruleListSql = (s: string): string => `
SELECT queue, pattern, concurrency, rate_limit, rate_interval_ms::float8 AS rate_interval_ms, rate_burst,
       ${epochMs('updated_at')} AS updated_at
FROM ${s}.flow_rules ORDER BY queue COLLATE "C", pattern COLLATE "C"`;

/** Unchanged rules are not written again (every process sets its rules at start). */
const ruleSetSql = (s: string): string => `
INSERT INTO ${s}.flow_rules AS r (queue, pattern, concurrency, rate_limit, rate_interval_ms, rate_burst, updated_at)
SELECT i.queue, i.pattern, i.concurrency, i.rate_limit, i.rate_interval_ms, i.rate_burst, ${nowSql('$7')}
FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::int[])
     AS i(queue, pattern, concurrency, rate_limit, rate_interval_ms, rate_burst)
ON CONFLICT (queue, pattern) DO UPDATE SET concurrency = excluded.concurrency, rate_limit = excluded.rate_limit,
  rate_interval_ms = excluded.rate_interval_ms, rate_burst = excluded.rate_burst, updated_at = excluded.updated_at
WHERE (r.concurrency, r.rate_limit, r.rate_interval_ms, r.rate_burst)
  IS DISTINCT FROM (excluded.concurrency, excluded.rate_limit, excluded.rate_interval_ms, excluded.rate_burst)`;

interface RuleRow {
  queue: string;
  pattern: string;
  concurrency: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  rate_burst: number | null;
  updated_at: number;
}

export async function flowRuleList(ctx: PgContext): Promise<FlowRuleRecord[]> {
  ctx.assertOpen();
  const rows = await ctx.query<RuleRow>('flowRuleList', ruleListSql(ctx.s), []);
  return rows.map((r) => ({
    queue: r.queue,
    key: r.pattern === '' ? null : r.pattern,
    concurrency: r.concurrency,
    rate:
      r.rate_limit === null
        ? null
        : { limit: r.rate_limit, intervalMs: Number(r.rate_interval_ms), burst: r.rate_burst! },
    updatedAt: r.updated_at,
  }));
}

export async function flowRuleSet(ctx: PgContext, params: FlowRuleSetParams): Promise<void> {
  ctx.assertOpen();
  params.rules.forEach((rule, i) => {
    assertFlowRule(rule, `rules[${i}]`);
  });
  // One row per (queue, key): ON CONFLICT cannot touch a row twice in one statement.
  const rules = [...new Map(params.rules.map((r) => [`${r.queue}\u0000${r.key ?? ''}`, r])).values()];
  if (rules.length === 0) return;
  await ctx.query('flowRuleSet', ruleSetSql(ctx.s), [
    rules.map((r) => r.queue),
    rules.map((r) => r.key ?? ''),
    rules.map((r) => r.concurrency),
    rules.map((r) => r.rate?.limit ?? null),
    rules.map((r) => r.rate?.intervalMs ?? null),
    rules.map((r) => r.rate?.burst ?? null),
    params.now ?? null,
  ]);
  flowChanged(ctx, true);
}

export async function flowRuleRemove(ctx: PgContext, params: FlowRuleRemoveParams): Promise<boolean> {
  ctx.assertOpen();
  assertFlowRuleName(params.queue, params.key, 'params');
  const rows = await ctx.query<{ queue: string }>(
    'flowRuleRemove',
    `DELETE FROM ${ctx.s}.flow_rules WHERE queue = $1 AND pattern = $2 RETURNING queue`,
    [params.queue, params.key ?? ''],
  );
  return rows.length === 1;
}

/** The rule of key `k.key` in queue `k.queue`: the exact one, else the longest matching prefix. */
const keyRuleSql = (s: string, k: string): string => `
  SELECT r.concurrency, r.rate_limit, r.rate_interval_ms, r.rate_burst FROM ${s}.flow_rules r
  WHERE r.queue = ${k}.queue AND r.pattern <> ''
    AND (r.pattern = ${k}.key OR (right(r.pattern, 1) = '*' AND starts_with(${k}.key, left(r.pattern, -1))))
  ORDER BY r.pattern = ${k}.key DESC, length(r.pattern) DESC
  LIMIT 1`;

/** Room in key `k` by this snapshot: a free slot and a start its rate allows (statement 2 checks again). */
const keyReadySql = (s: string): string => `((kr.concurrency IS NULL OR kr.concurrency > (
      SELECT count(*) FROM ${s}.jobs x
      WHERE x.queue = k.queue AND x.concurrency_key = k.key AND x.state = 'running'))
    AND (kr.rate_limit IS NULL OR k.tat IS NULL OR k.tat <= ${epochMs(nowSql('$3'))}
      + (kr.rate_burst - 1) * (kr.rate_interval_ms::float8 / kr.rate_limit) + 1e-6))`;

/**
 * Statement 1 (which also makes the transaction commit without waiting for the WAL flush, as
 * the ordinary claim does, even when it finds nothing to start): lock the queue-wide rule rows (claims of a limited queue take turns) and up to $2
 * ready keys per queue in fairness order. A key is ready when it has a due job and, by this
 * snapshot, a free slot and a start its rate allows (statement 2 checks again, exactly); a key
 * with nothing waiting and nothing running is taken too, so that statement 2 can mark it idle,
 * and so is a due key without room that is not marked held yet (`hold`; see flow-holds.ts) —
 * once per hold, within the same limit. $4 and $5 are the keys earlier rounds of the same claim
 * took (flowClaim): each key gives one claim one quantum at most.
 */
export const lockSql = (s: string): string => `
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
queue_locks AS (
  SELECT r.queue, r.last_started_at FROM ${s}.flow_rules r
  WHERE r.queue = ANY ($1::text[]) AND r.pattern = ''
    AND NOT EXISTS (SELECT 1 FROM ${s}.queues p WHERE p.name = r.queue AND p.paused)
  ORDER BY r.queue
  FOR UPDATE OF r
)
SELECT queue, NULL::text AS key, ${epochMs('last_started_at')} AS last_started_at, false AS idle, false AS hold,
  NULL::tid AS tid, NULL::int AS concurrency, NULL::int AS rate_limit, NULL::bigint AS rate_interval_ms,
  NULL::int AS rate_burst
FROM queue_locks
UNION ALL
SELECT q.name, NULL, NULL, true, false, NULL, NULL, NULL, NULL, NULL FROM unnest($1::text[]) AS q(name)
WHERE NOT EXISTS (SELECT 1 FROM ${s}.flow_keys k WHERE k.queue = q.name AND k.active)
  AND NOT EXISTS (SELECT 1 FROM ${s}.flow_rules r WHERE r.queue = q.name AND r.pattern = '')
UNION ALL
SELECT k.queue, k.key, ${epochMs('k.last_started_at')}, false, k.hold, k.tid, k.concurrency, k.rate_limit,
  k.rate_interval_ms, k.rate_burst
FROM unnest($1::text[]) AS q(name)
CROSS JOIN LATERAL (
  SELECT k.queue, k.key, k.last_started_at, f.due AND NOT f.ready AS hold, k.ctid AS tid,
    kr.concurrency, kr.rate_limit, kr.rate_interval_ms, kr.rate_burst
  FROM ${s}.flow_keys k
  LEFT JOIN LATERAL (${keyRuleSql(s, 'k')}) kr ON true
  -- Each key's tests once (OFFSET 0: not pulled up, so not evaluated again for \`hold\`).
  CROSS JOIN LATERAL (
    SELECT d.due, CASE WHEN d.due THEN ${keyReadySql(s)} ELSE false END AS ready
    FROM (SELECT ${keyDueSql(s, 'k', nowSql('$3'))} AS due OFFSET 0) d OFFSET 0
  ) f
  WHERE k.queue = q.name AND k.active
    AND NOT EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[]) AS v(queue, key) WHERE v.queue = k.queue AND v.key = k.key)
    AND CASE WHEN f.due
        THEN f.ready OR k.held_since IS NULL
        -- Two tests, one per partial index: no index covers the three states, and one test of
        -- them was planned as a scan of the whole jobs table per key.
        ELSE NOT EXISTS (
          SELECT 1 FROM ${s}.jobs x WHERE x.queue = k.queue AND x.concurrency_key = k.key
            AND x.state IN ('pending', 'scheduled'))
          AND NOT EXISTS (
          SELECT 1 FROM ${s}.jobs x WHERE x.queue = k.queue AND x.concurrency_key = k.key
            AND x.state = 'running')
        END
  ORDER BY k.last_started_at NULLS FIRST, k.key
  LIMIT $2
  FOR UPDATE OF k SKIP LOCKED
) k
WHERE NOT EXISTS (SELECT 1 FROM ${s}.queues p WHERE p.name = q.name AND p.paused)
  AND (SELECT count(*) FROM async_commit) >= 0`;

/** GCRA starts allowed now (see `gcraAllowed` in driver/flow.ts), as SQL over rate columns. */
const gcraSql = (r: string, tat: string): string => `greatest(0, floor(
  (clock.ms + (${r}.rate_burst - 1) * (${r}.rate_interval_ms::float8 / ${r}.rate_limit)
   - greatest(coalesce(${tat}, clock.ms), clock.ms)) / (${r}.rate_interval_ms::float8 / ${r}.rate_limit) + 1e-9) + 1)`;

/** The new theoretical arrival time after `n` starts (see `gcraAdvance`). */
const gcraAdvanceSql = (r: string, tat: string, n: string): string =>
  `greatest(coalesce(${tat}, clock.ms), clock.ms) + ${n} * (${r}.rate_interval_ms::float8 / ${r}.rate_limit)`;

/** Statement 2's caps of queues with a queue-wide rule (none in the lean variant). */
const queueCapCte = (s: string): string => `qc AS (
  SELECT r.queue, r.tat, r.rate_limit, r.rate_interval_ms, r.rate_burst, ${heldSinceSql('r')}, q.running,
    greatest(0, least($3::int,
      CASE WHEN r.concurrency IS NULL THEN $3::int ELSE r.concurrency - q.running END,
      CASE WHEN r.rate_limit IS NULL THEN $3::int ELSE ${gcraSql('r', 'r.tat')} END)) AS cap
  FROM ${s}.flow_rules r CROSS JOIN clock
  -- Running jobs are counted for a concurrency rule only (null otherwise).
  CROSS JOIN LATERAL (SELECT CASE WHEN r.concurrency IS NULL THEN NULL ELSE (
    SELECT count(*) FROM ${s}.jobs x WHERE x.state = 'running' AND x.queue = r.queue) END AS running) q
  WHERE r.queue = ANY ($1::text[]) AND r.pattern = ''
),
`;

/** Statement 2's heads of the unkeyed jobs of queues with a queue-wide rule. */
const unkeyedHeadsSql = (s: string): string => `  UNION ALL
  SELECT caps.ord, caps.queue, caps.key, h.id, h.ctid AS tid,
         row_number() OVER (PARTITION BY caps.ord ORDER BY h.priority DESC, h.run_at, h.id) AS n
  FROM caps CROSS JOIN LATERAL (
    SELECT j.id, j.ctid, j.priority, j.run_at FROM ${s}.jobs j
    WHERE caps.key IS NULL AND j.queue = caps.queue AND j.state IN ('pending', 'scheduled')
      AND j.concurrency_key IS NULL AND j.run_at <= ${nowSql('$6')} AND ${notSuspectSql('j', '$15')}
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT caps.cap
    FOR UPDATE OF j SKIP LOCKED
  ) h
`;

/** Statement 2's writes to queue-wide rules, and its holds (flow-holds.ts). */
const queueWritesSql = (s: string): string => `queues_started AS (
  UPDATE ${s}.flow_rules r
  SET tat = CASE WHEN r.rate_limit IS NULL THEN r.tat ELSE ${gcraAdvanceSql('r', 'r.tat', 'p.started')} END,
      last_started_at = CASE WHEN p.unkeyed THEN clock.now ELSE r.last_started_at END, held_since = NULL
  FROM (SELECT queue, count(*) AS started, bool_or(key IS NULL) AS unkeyed FROM picked GROUP BY queue) p
  JOIN qc ON qc.queue = p.queue CROSS JOIN clock
  WHERE r.queue = p.queue AND r.pattern = ''
  RETURNING ${unheldReturningSql('started', 'r.queue', 'NULL', 'qc.held_since')}
)${holdCtesSql(s, keyRuleSql(s, 'h'), gcraSql('h', 'h.tat'))},
`;

/**
 * Statement 2 (see the module comment). Candidates come in as arrays in fairness order (key null:
 * the unkeyed jobs of a queue with a queue-wide rule). $3 is the number of jobs wanted; $7 and
 * $8 the keys statement 1 locked to mark them held (flow-holds.ts); $9 and $10 the addresses of
 * the candidates' and the held keys' rows, as statement 1 locked them (a TID scan: a bloated
 * `flow_keys` between vacuums was once read whole by a cached plan, 3 ms per claim); $11 to $14
 * the candidates' rules (concurrency, rate limit, interval, burst) as statement 1 found them;
 * $15 the claim's `excludeSuspects`.
 */
export function pickSql(s: string, log: boolean, lean = false): string {
  const ctes = lean ? LEAN_FLOW_CTES : FLOW_CTES;
  return `
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
clock AS (SELECT ${nowSql('$6')} AS now, ${epochMs(nowSql('$6'))} AS ms),
c AS (
  SELECT c.ord, c.queue, c.key, k.tat, k.held_since, c.concurrency, c.rate_limit, c.rate_interval_ms, c.rate_burst,
         CASE WHEN c.concurrency IS NULL THEN 0 ELSE (
           SELECT count(*) FROM ${s}.jobs x
           WHERE x.queue = c.queue AND x.concurrency_key = c.key AND x.state = 'running') END AS running
  FROM unnest($1::text[], $2::text[], $11::int[], $12::int[], $13::bigint[], $14::int[]) WITH ORDINALITY
       AS c(queue, key, concurrency, rate_limit, rate_interval_ms, rate_burst, ord)
  LEFT JOIN (
    SELECT k.queue, k.key, k.tat, ${heldSinceSql('k')} FROM ${s}.flow_keys k WHERE k.ctid = ANY ($9::tid[])
  ) k ON k.queue = c.queue AND k.key = c.key
),
${lean ? '' : queueCapCte(s)}caps AS (
  -- Round-robin gives no key more than its share of the claim: fetching (and locking) more of
  -- its jobs would only be given back. A claim may then start fewer than asked when some keys
  -- have fewer jobs than their share; the next claim takes the rest.
  SELECT c.*, greatest(0, least($3::int, ${lean ? '' : 'coalesce(qc.cap, $3::int), '}ceil($3::int::float8 / cardinality($1::text[])),
    CASE WHEN c.concurrency IS NULL THEN $3::int ELSE c.concurrency - c.running END,
    CASE WHEN c.rate_limit IS NULL THEN $3::int ELSE ${gcraSql('c', 'c.tat')} END))::int AS cap
  FROM c CROSS JOIN clock${lean ? '' : ' LEFT JOIN qc ON qc.queue = c.queue'}
),
heads AS (
  SELECT caps.ord, caps.queue, caps.key, h.id, h.ctid AS tid,
         row_number() OVER (PARTITION BY caps.ord ORDER BY h.priority DESC, h.run_at, h.id) AS n
  FROM caps CROSS JOIN LATERAL (
    SELECT j.id, j.ctid, j.priority, j.run_at FROM ${s}.jobs j
    WHERE caps.key IS NOT NULL AND j.queue = caps.queue AND j.concurrency_key = caps.key
      AND j.state IN ('pending', 'scheduled') AND j.run_at <= ${nowSql('$6')} AND ${notSuspectSql('j', '$15')}
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT caps.cap
    FOR UPDATE OF j SKIP LOCKED
  ) h
${lean ? '' : unkeyedHeadsSql(s)}),
picked AS MATERIALIZED (${
    lean
      ? `
  SELECT r.id, r.tid, r.ord, r.queue, r.key, r.n FROM heads r`
      : `
  SELECT r.id, r.tid, r.ord, r.queue, r.key, r.n FROM (
    SELECT heads.*, row_number() OVER (PARTITION BY heads.queue ORDER BY heads.n, heads.ord) AS qn FROM heads
  ) r LEFT JOIN qc ON qc.queue = r.queue
  WHERE r.qn <= coalesce(qc.cap, $3::int)`
  }
  ORDER BY r.n, r.ord
  LIMIT $3::int
),
-- Jobs started per candidate, once: both key writes below join these few rows (one per key),
-- not the claim's hundreds of picked rows (a hash of them each, or a rescan per key).
started AS MATERIALIZED (
  SELECT ord, count(*) AS started FROM picked GROUP BY ord
),
keys_started AS (
  UPDATE ${s}.flow_keys k
  SET tat = CASE WHEN c.rate_limit IS NULL THEN k.tat ELSE ${gcraAdvanceSql('c', 'k.tat', 'p.started')} END,
      last_started_at = clock.now, held_since = NULL
  FROM started p JOIN c ON c.ord = p.ord CROSS JOIN clock
  WHERE k.ctid = ANY ($9::tid[]) AND k.queue = c.queue AND k.key = c.key
  RETURNING ${unheldReturningSql('started', 'k.queue', 'k.key', 'c.held_since')}
),
keys_idle AS (
  UPDATE ${s}.flow_keys k SET active = false, held_since = NULL
  FROM caps c CROSS JOIN clock
  WHERE k.ctid = ANY ($9::tid[]) AND k.queue = c.queue AND k.key = c.key
    AND c.cap > 0
    AND NOT EXISTS (SELECT 1 FROM started p WHERE p.ord = c.ord)
    AND NOT EXISTS (SELECT 1 FROM ${s}.jobs x
                    WHERE x.queue = c.queue AND x.concurrency_key = c.key AND x.state = 'running')
    AND NOT EXISTS (SELECT 1 FROM ${s}.jobs x
                    WHERE x.queue = c.queue AND x.concurrency_key = c.key AND x.state IN ('pending', 'scheduled'))
  RETURNING ${unheldReturningSql('cleared', 'k.queue', 'k.key', 'c.held_since')}
),
${lean ? '' : queueWritesSql(s)}claimed AS (
UPDATE ${s}.jobs j
SET state = 'running', attempt = j.attempt + 1, lease_token = j.lease_token + 1,
    lease_expires_at = ${leaseStartSql('$6')} + $5::float8 * interval '1 millisecond',
    worker_id = $4, started_at = ${nowSql('$6')}
FROM async_commit
-- By address alone, as the ordinary claim (claim.ts): a TID scan whatever the statistics say.
-- Joined to picked here, the generic plan reached each row by a primary-key descent instead
-- (a third more buffer reads); the result joins n and ord back by id.
WHERE j.ctid = ANY (ARRAY(SELECT picked.tid FROM picked))
RETURNING ${CLAIM_COLUMNS}
)${log ? `,\n${loggedStartedCte(s)}${flowLoggedCte(s, ctes)}` : ''}
${resultSql(ctes)}`;
}
