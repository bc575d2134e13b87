/**
 * Flow control on SQLite (docs/flow-control.md): the stored rules, and the part of a claim that
 * serves keyed jobs and queues with a queue-wide rule. It runs inside the claim's IMMEDIATE
 * transaction, so every count it reads is exact: no other claim, finalize or rescue can commit
 * between its reads and its writes.
 */
import type { EpochMs } from '../../core/types.js';
import { packedToClaimed } from '../../driver/claim-pack.js';
import type { ClaimedJob } from '../../driver/driver.js';
import type { LogEntry } from '../../driver/event-log.js';
import {
  assertFlowRule,
  assertFlowRuleName,
  compareFlowEntries,
  type FlowRate,
  type FlowRuleRecord,
  type FlowRuleRemoveParams,
  type FlowRuleSetParams,
  flowKeyBudget,
  flowPatternMatches,
  flowUnheldEntry,
  gcraAdvance,
  gcraAllowed,
  nextFlowKeyBudget,
} from '../../driver/flow.js';
import { SUSPECT_INTERRUPTIONS } from '../../driver/records.js';
import { type SqliteContext, START_ATTEMPT_SQL } from './context.js';
import { createFlowHolds } from './flow-holds.js';
import { CLAIM_PACKED_SQL } from './row.js';

interface RuleRow {
  queue: string;
  pattern: string;
  concurrency: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  rate_burst: number | null;
  tat: number | null;
  last_started_at: number | null;
  held_since: number | null;
  updated_at: number;
}

interface KeyRow {
  key: string;
  tat: number | null;
  last_started_at: number | null;
  /** When a claim first passed it over while held by its limit (flow-holds.ts), or null. */
  held_since: number | null;
  /** Its running jobs (its slots in use). */
  running: number;
  /** Its first due job in claim order, or null. */
  head: number | null;
}

const rateOf = (row: RuleRow): FlowRate | null =>
  row.rate_limit === null
    ? null
    : { limit: row.rate_limit, intervalMs: row.rate_interval_ms!, burst: row.rate_burst! };

/** A stored rule row as the seam returns it. */
export function ruleRecord(row: RuleRow): FlowRuleRecord {
  return {
    queue: row.queue,
    key: row.pattern === '' ? null : row.pattern,
    concurrency: row.concurrency,
    rate: rateOf(row),
    updatedAt: row.updated_at,
  };
}

/** The rule of `key` among a queue's key rules: the exact one, else the longest matching prefix. */
export function ruleForKey<R extends { pattern: string }>(rules: readonly R[], key: string): R | undefined {
  let best: R | undefined;
  for (const rule of rules) {
    if (!flowPatternMatches(rule.pattern, key)) continue;
    if (rule.pattern === key) return rule;
    if (!best || rule.pattern.length > best.pattern.length) best = rule;
  }
  return best;
}

/** A candidate of the flow claim: one key (or the queue's unkeyed jobs, key null) and its picks. */
interface Candidate {
  key: string | null;
  row: KeyRow | null;
  rule: RuleRow | undefined;
  ids: number[];
}

/** Build the rule methods and the flow part of the claim (synchronous). */
export function createFlowMethods(ctx: SqliteContext) {
  const { db } = ctx;

  const listRules = db.prepare('SELECT * FROM jobwire_flow_rules ORDER BY queue, pattern');
  const upsertRule = db.prepare(
    `INSERT INTO jobwire_flow_rules (queue, pattern, concurrency, rate_limit, rate_interval_ms, rate_burst, updated_at)
     VALUES (@queue, @pattern, @concurrency, @rateLimit, @intervalMs, @burst, @now)
     ON CONFLICT (queue, pattern) DO UPDATE SET concurrency = excluded.concurrency,
       rate_limit = excluded.rate_limit, rate_interval_ms = excluded.rate_interval_ms,
       rate_burst = excluded.rate_burst, updated_at = excluded.updated_at
     WHERE concurrency IS NOT excluded.concurrency OR rate_limit IS NOT excluded.rate_limit
       OR rate_interval_ms IS NOT excluded.rate_interval_ms OR rate_burst IS NOT excluded.rate_burst`,
  );
  const deleteRule = db.prepare('DELETE FROM jobwire_flow_rules WHERE queue = ? AND pattern = ?');

  const setTx = db.transaction((params: FlowRuleSetParams, now: EpochMs) => {
    for (const rule of params.rules) {
      upsertRule.run({
        queue: rule.queue,
        pattern: rule.key ?? '',
        concurrency: rule.concurrency,
        rateLimit: rule.rate?.limit ?? null,
        intervalMs: rule.rate?.intervalMs ?? null,
        burst: rule.rate?.burst ?? null,
        now,
      });
    }
  });

  function flowRuleSet(params: FlowRuleSetParams): void {
    params.rules.forEach((rule, i) => {
      assertFlowRule(rule, `rules[${i}]`);
    });
    setTx.immediate(params, ctx.now(params.now));
  }

  function flowRuleRemove(params: FlowRuleRemoveParams): boolean {
    assertFlowRuleName(params.queue, params.key, 'params');
    return deleteRule.run(params.queue, params.key ?? '').changes === 1;
  }

  function flowRuleList(): FlowRuleRecord[] {
    return (listRules.all() as RuleRow[]).map(ruleRecord);
  }

  // -- the flow part of a claim ------------------------------------------------------------------

  const rulesOf = db.prepare('SELECT * FROM jobwire_flow_rules WHERE queue = ?');
  const paused = db.prepare('SELECT 1 FROM jobwire_queues WHERE name = ? AND paused = 1');
  // Each key with its slots in use and its head job, read lazily row by row: a claim usually
  // stops after `limit` keys, and one statement per key is most of a claim's cost.
  const readyKeys = db.prepare(
    `SELECT k.key, k.tat, k.last_started_at, k.held_since,
       (SELECT count(*) FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_running
        WHERE state = 'running' AND concurrency_key IS NOT NULL
          AND queue = k.queue AND concurrency_key = k.key) AS running,
       (SELECT id FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
        WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL
          AND queue = k.queue AND concurrency_key = k.key AND state = 'pending'
        ORDER BY priority DESC, run_at, id LIMIT 1) AS head
     FROM jobwire_flow_keys k INDEXED BY jobwire_flow_keys_ready
     WHERE k.queue = ? AND k.active = 1 ORDER BY k.last_started_at, k.key`,
  );
  const runningInQueue = db.prepare(
    `SELECT count(*) AS n FROM jobwire_jobs WHERE state = 'running' AND queue = ?`,
  );
  const headsOfKey = db.prepare(
    `SELECT id FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
     WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL AND queue = ? AND concurrency_key = ?
       AND state = 'pending' AND (interruptions < ${SUSPECT_INTERRUPTIONS} OR ? = 0)
     ORDER BY priority DESC, run_at, id LIMIT ?`,
  );
  const waitingForKey = db.prepare(
    `SELECT 1 FROM jobwire_jobs INDEXED BY jobwire_jobs_flow_waiting
     WHERE state IN ('pending', 'scheduled') AND concurrency_key IS NOT NULL AND queue = ? AND concurrency_key = ? LIMIT 1`,
  );
  // Two forms: the test of `interruptions` reads the row, which the partial index alone spares.
  const headsUnkeyedSql = (exclude: boolean) =>
    `SELECT id FROM jobwire_jobs INDEXED BY jobwire_jobs_claim
     WHERE queue = ? AND state = 'pending' AND concurrency_key IS NULL
       ${exclude ? `AND interruptions < ${SUSPECT_INTERRUPTIONS}` : ''}
     ORDER BY priority DESC, run_at, id LIMIT ?`;
  const headsUnkeyed = [db.prepare(headsUnkeyedSql(false)), db.prepare(headsUnkeyedSql(true))] as const;
  const claimIds = db
    .prepare(
      `UPDATE jobwire_jobs
     SET ${START_ATTEMPT_SQL}
     WHERE id IN (SELECT value FROM json_each(@ids))
     RETURNING ${CLAIM_PACKED_SQL}`,
    )
    .pluck();
  // The started keys of a claim: their last start in one statement (the keys as a JSON array,
  // each found by primary key), and the GCRA state of those with a rate limit one by one.
  const keysStarted = db.prepare(
    `UPDATE jobwire_flow_keys SET last_started_at = @now, held_since = NULL
     WHERE queue = @queue AND key IN (SELECT value FROM json_each(@keys))`,
  );
  const keyTat = db.prepare('UPDATE jobwire_flow_keys SET tat = ? WHERE queue = ? AND key = ?');
  const keyIdle = db.prepare(
    'UPDATE jobwire_flow_keys SET active = 0, held_since = NULL WHERE queue = ? AND key = ?',
  );
  const holds = createFlowHolds(db);
  const queueStarted = db.prepare(
    `UPDATE jobwire_flow_rules SET tat = ?, last_started_at = coalesce(?, last_started_at), held_since = NULL
     WHERE queue = ? AND pattern = ''`,
  );

  /**
   * Pick up to `limit` jobs of one queue through its keys (and, with a queue-wide rule, its
   * unkeyed jobs), least recently started key first, round-robin within the fairness quantum
   * (driver/flow.ts): a batch of keys shares the claim, the first job of each before the second
   * of any, up to its share; the next keys when they run short. Returns the picked ids in that order and writes the keys' and
   * the queue's new GCRA state and last start, and the holds that began or ended (to `events`).
   */
  function pickFromQueue(
    queue: string,
    limit: number,
    now: EpochMs,
    events: LogEntry[],
    exclude: 0 | 1,
  ): number[] {
    if (paused.get(queue)) return [];
    const rules = rulesOf.all(queue) as RuleRow[];
    const queueRule = rules.find((r) => r.pattern === '');
    const keyRules = rules.filter((r) => r.pattern !== '');
    let queueCap = limit;
    let queueRunning = 0;
    if (queueRule?.concurrency != null) {
      queueRunning = (runningInQueue.get(queue) as { n: number }).n;
      queueCap = Math.min(queueCap, queueRule.concurrency - queueRunning);
    }
    const queueRate = queueRule ? rateOf(queueRule) : null;
    if (queueRate) queueCap = Math.min(queueCap, gcraAllowed(queueRate, queueRule!.tat, now));
    if (queueCap <= 0) {
      // Only a queue-wide rule can leave no room (limit ≥ 1): the queue is held.
      const rule = queueRule!;
      holds.queueHeld(
        queue,
        { concurrency: rule.concurrency, rate: queueRate },
        rule.held_since,
        queueRunning,
        now,
        events,
      );
      return [];
    }

    const candidates: Candidate[] = [];
    /** Each candidate's cap (how many of its jobs may start now). */
    const caps = new Map<Candidate, number>();
    /** Each candidate's due jobs read so far, and how many of them it gave. */
    const taken = new Map<Candidate, number>();
    const idle: KeyRow[] = [];
    const held: { row: KeyRow; rule: RuleRow }[] = [];
    const picked: number[] = [];
    // The queue's unkeyed jobs take their turn as one more "key" (only with a queue-wide rule:
    // otherwise the ordinary claim serves them), placed by their last start.
    let unkeyedDue = queueRule !== undefined;
    const keys = readyKeys.iterate(queue) as IterableIterator<KeyRow>;
    /** A key row read but not visited yet (the unkeyed jobs' turn came first). */
    let carried: KeyRow | undefined;
    let exhausted = false;
    let budget = flowKeyBudget(queueCap);
    // Batches of keys in fairness order (the fairness quantum, driver/flow.ts): each batch shares
    // what is still wanted among its keys round-robin; one that comes up short while more keys
    // may be ready is followed by the next keys, sized by the yield per key just seen.
    while (picked.length < queueCap && !exhausted) {
      const batch: Candidate[] = [];
      const visitUnkeyed = () => {
        unkeyedDue = false;
        const candidate: Candidate = { key: null, row: null, rule: undefined, ids: [] };
        candidate.ids = (headsUnkeyed[exclude].all(queue, queueCap) as { id: number }[]).map((r) => r.id);
        candidates.push(candidate);
        caps.set(candidate, candidate.ids.length);
        if (candidate.ids.length > 0) batch.push(candidate);
      };
      while (batch.length < budget) {
        const row = carried ?? (keys.next().value as KeyRow | undefined);
        carried = undefined;
        if (row === undefined) {
          exhausted = true;
          if (unkeyedDue) visitUnkeyed();
          break;
        }
        if (unkeyedDue && (queueRule!.last_started_at ?? -Infinity) <= (row.last_started_at ?? -Infinity)) {
          visitUnkeyed();
          carried = row;
          continue;
        }
        const rule = ruleForKey(keyRules, row.key);
        let cap = queueCap;
        if (rule?.concurrency != null) cap = Math.min(cap, rule.concurrency - row.running);
        const rate = rule ? rateOf(rule) : null;
        if (rate) cap = Math.min(cap, gcraAllowed(rate, row.tat, now));
        if (cap > 0 && row.head !== null) {
          // Its head may be a suspect this pool must not take (excludeSuspects): then its first
          // job it may take, if any; a key left with none is passed over (it is not idle).
          const ids = exclude
            ? (headsOfKey.all(queue, row.key, exclude, 1) as { id: number }[]).map((r) => r.id)
            : [row.head];
          if (ids.length > 0) {
            const candidate: Candidate = { key: row.key, row, rule, ids };
            candidates.push(candidate);
            batch.push(candidate);
            caps.set(candidate, cap);
          }
        } else if (row.head === null && row.running === 0) {
          // Nothing due and nothing running: unless a job waits for a later due time, the key
          // leaves the ready index (a trigger brings it back when one of its jobs waits again).
          idle.push(row);
        } else if (row.head !== null && row.held_since === null && rule) {
          // A due job and no room (the queue had some): the key's own limit holds it.
          held.push({ row, rule });
        }
      }
      const wanted = queueCap - picked.length;
      // Each key's share of this batch; the last batch (every ready key read) takes all it can.
      const share = exhausted ? wanted : Math.ceil(wanted / Math.max(1, batch.length));
      for (const candidate of batch) {
        const n = Math.min(caps.get(candidate)!, share);
        if (candidate.key !== null && n > 1) {
          candidate.ids = (headsOfKey.all(queue, candidate.key, exclude, n) as { id: number }[]).map(
            (r) => r.id,
          );
        }
      }
      const before = picked.length;
      roundRobin(batch, share, wanted);
      if (picked.length < queueCap && !exhausted) {
        budget = nextFlowKeyBudget(queueCap - picked.length, picked.length - before, batch.length);
      }
    }
    if (!exhausted) keys.return?.();
    // Every ready key read and still short: the keys of earlier batches that gave their whole
    // share may have more.
    if (picked.length < queueCap && exhausted) {
      const more = candidates.filter((c) => {
        const t = taken.get(c) ?? 0;
        return t > 0 && t === c.ids.length && t < caps.get(c)!;
      });
      for (const candidate of more) {
        const t = taken.get(candidate)!;
        const n = Math.min(caps.get(candidate)!, t + queueCap - picked.length);
        if (candidate.key !== null) {
          candidate.ids = (headsOfKey.all(queue, candidate.key, exclude, n) as { id: number }[]).map(
            (r) => r.id,
          );
        }
      }
      roundRobin(more, queueCap, queueCap - picked.length);
    }

    /**
     * Round-robin over `batch` in its order, from each candidate's next unread id: up to `limit`
     * more jobs, none past the `share`-th of a candidate.
     */
    function roundRobin(batch: readonly Candidate[], share: number, limit: number): void {
      let got = 0;
      let any = true;
      while (any && got < limit) {
        any = false;
        for (const candidate of batch) {
          const index = taken.get(candidate) ?? 0;
          if (index < candidate.ids.length && index < share && got < limit) {
            picked.push(candidate.ids[index]!);
            taken.set(candidate, index + 1);
            got++;
            any = true;
          }
        }
      }
    }

    // Written after the iteration: the connection cannot write while a read is open.
    for (const row of idle) {
      if (waitingForKey.get(queue, row.key)) continue;
      keyIdle.run(queue, row.key);
      if (row.held_since !== null)
        events.push(flowUnheldEntry(queue, row.key, 'cleared', row.held_since, now));
    }
    for (const { row, rule } of held) {
      holds.keyHeld(
        queue,
        row.key,
        { concurrency: rule.concurrency, rate: rateOf(rule) },
        row.running,
        now,
        events,
      );
    }

    let unkeyedStarted = false;
    const started: string[] = [];
    for (const [candidate, n] of taken) {
      if (candidate.key === null) {
        unkeyedStarted = true;
        continue;
      }
      started.push(candidate.key);
      const since = candidate.row!.held_since;
      if (since !== null) events.push(flowUnheldEntry(queue, candidate.key, 'started', since, now));
      const rate = candidate.rule ? rateOf(candidate.rule) : null;
      if (rate) keyTat.run(gcraAdvance(rate, candidate.row!.tat, now, n), queue, candidate.key);
    }
    if (started.length > 0) keysStarted.run({ now, queue, keys: JSON.stringify(started) });
    if (queueRule && picked.length > 0) {
      const tat = queueRate ? gcraAdvance(queueRate, queueRule.tat, now, picked.length) : queueRule.tat;
      queueStarted.run(tat, unkeyedStarted ? now : null, queue);
      if (queueRule.held_since !== null)
        events.push(flowUnheldEntry(queue, null, 'started', queueRule.held_since, now));
    } else if (queueRule?.held_since != null) {
      // Room again but nothing of the queue to start: its hold ends all the same.
      holds.queueCleared(queue);
      events.push(flowUnheldEntry(queue, null, 'cleared', queueRule.held_since, now));
    }
    return picked;
  }

  /**
   * The flow part of a claim: up to `limit` jobs from `queues`, each queue in turn. Must run in
   * the claim's transaction (after scheduled jobs were promoted). Returns the claimed jobs (in the
   * order picked), and
   * the `flow:held` / `flow:unheld` entries of the holds it began or ended (the caller stores
   * them with the claim's events).
   */
  function flowClaim(
    queues: readonly string[],
    limit: number,
    bindings: { expiresAt: number; leaseMs: number; poolId: string; now: EpochMs; exclude: 0 | 1 },
  ): { jobs: ClaimedJob[]; events: LogEntry[] } {
    const ids: number[] = [];
    const events: LogEntry[] = [];
    for (const queue of new Set(queues)) {
      if (ids.length >= limit) break;
      ids.push(...pickFromQueue(queue, limit - ids.length, bindings.now, events, bindings.exclude));
    }
    events.sort(compareFlowEntries);
    if (ids.length === 0) return { jobs: [], events };
    const rows = claimIds.all({ ...bindings, ids: JSON.stringify(ids) }) as string[];
    const order = new Map(ids.map((id, i) => [String(id), i]));
    const jobs = rows.map(packedToClaimed);
    return { jobs: jobs.sort((a, b) => order.get(a.id)! - order.get(b.id)!), events };
  }

  return { flowClaim, flowRuleList, flowRuleRemove, flowRuleSet };
}

export type FlowMethods = ReturnType<typeof createFlowMethods>;
