/**
 * The claim of a PostgreSQL process whose queues may have flow work (keyed jobs, queue-wide
 * rules; docs/flow-control.md), in one round trip: a PL/pgSQL function that runs the ordinary
 * claim, then the flow claim's two statements (flow.ts) for what is left, and returns it all.
 *
 * Why a function: the flow claim must lock its keys in one statement and count their running
 * jobs in a later one, whose snapshot sees every claim that held those locks before (flow.ts).
 * From the client that took five statements per claim (the ordinary claim, BEGIN, lock, pick,
 * COMMIT), each about 0.3 ms of client CPU and more on the server: dropping three of them alone
 * took keyed processing from 6.6k to 9.1k jobs/s (bench/results/2026-12-01-flow-quantum.md).
 * Inside a VOLATILE function each statement still takes a fresh snapshot (READ COMMITTED), so
 * the function keeps the two-statement guarantee in one call.
 *
 * The function's body is generated from the same statement builders the driver uses elsewhere
 * (`claimSql`, `lockSql`, `pickSql`), and its name carries a hash of that body: a process always
 * calls the body it was built with, processes of different versions can share a schema, and a
 * change to a builder needs no migration. `migrate()` installs it; a process that finds it
 * missing (a schema migrated by another version) installs it on first use.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { SchemaVersionError } from '../../core/errors.js';
import { byClaimOrder, packedToClaimed } from '../../driver/claim-pack.js';
import {
  type ClaimedJob,
  compareFlowEntries,
  FLOW_MIN_KEYS,
  FLOW_QUANTUM,
  type JobClaimParams,
  type LogEntry,
  nextFlowKeyBudget,
} from '../../driver/driver.js';
import { claimSql } from './claim-sql.js';
import type { PgContext } from './context.js';
import { lockSql, pickSql } from './flow.js';
import { flowRowEntries } from './flow-holds.js';
import { IDLE_TRUST_MS, idleMarks } from './flow-idle.js';

/** The function's result columns after the packed job (see `claimSql`). */
const EXTRA_COLUMNS = ', NULL::bigint AS n, NULL::bigint AS ord, NULL::text AS flow';

/** The parameters, in order; `$n` of an embedded statement becomes one of these names. */
const PARAMS = [
  'p_queues text[]',
  'p_flow_queues text[]',
  'p_limit int',
  'p_budget int',
  'p_now float8',
  'p_pool text',
  'p_lease float8',
  'p_log boolean',
  'p_visited_q text[]',
  'p_visited_k text[]',
  'p_exclude_suspects boolean',
];

/** `sql` with its `$1`, `$2`, … replaced by `names[0]`, `names[1]`, … */
function bindNames(sql: string, names: readonly string[]): string {
  return sql.replace(/\$(\d+)(?!\d)/g, (_, n: string) => {
    const name = names[Number(n) - 1];
    if (name === undefined) throw new Error(`flow claim function: no name for $${n}`);
    return name;
  });
}

const claimNames = ['p_queues', 'p_limit', 'p_lease', 'p_pool', 'p_now', 'p_exclude_suspects'];
const lockNames = ['p_flow_queues', 'v_budget', 'p_now', 'p_visited_q', 'p_visited_k'];
const pickNames = [
  'v_locked_q',
  'v_locked_k',
  'v_wanted',
  'p_pool',
  'p_lease',
  'p_now',
  'v_held_q',
  'v_held_k',
  'v_locked_t',
  'v_held_t',
  'v_conc',
  'v_rate_limit',
  'v_rate_interval',
  'v_rate_burst',
  'p_exclude_suspects',
];

/** The body of the function (see the module comment). */
function functionBody(s: string): string {
  const fairness = `array_position(p_flow_queues, l.queue), l.last_started_at NULLS FIRST, l.key COLLATE "C" NULLS FIRST`;
  const candidate = 'NOT l.idle AND NOT l.hold';
  // A row that is not a job: no packed job, no round-robin position.
  const nullRow = 'NULL::text, NULL::bigint, NULL::bigint';
  return `
#variable_conflict use_column
DECLARE
  v_plain int := 0;
  v_wanted int;
  v_budget int;
  v_locked_q text[];
  v_locked_k text[];
  v_locked_t tid[];
  v_conc int[];
  v_rate_limit int[];
  v_rate_interval bigint[];
  v_rate_burst int[];
  v_held_q text[];
  v_held_k text[];
  v_held_t tid[];
  v_idle text[];
  v_key_rows int;
  v_sort text := current_setting('enable_sort');
  v_bitmap text := current_setting('enable_bitmapscan');
BEGIN
  IF cardinality(p_queues) > 0 THEN
    IF p_log THEN
      RETURN QUERY ${bindNames(claimSql(s, true, EXTRA_COLUMNS), claimNames)};
    ELSE
      RETURN QUERY ${bindNames(claimSql(s, false, EXTRA_COLUMNS), claimNames)};
    END IF;
    GET DIAGNOSTICS v_plain = ROW_COUNT;
  END IF;
  v_wanted := p_limit - v_plain;
  IF cardinality(p_flow_queues) = 0 THEN
    RETURN;
  END IF;
  IF v_wanted <= 0 THEN
    -- Full without the flow path: only say which queues have no flow work (they are skipped).
    RETURN QUERY SELECT ${nullRow}, json_build_object('idle', coalesce(array_agg(q.name), '{}'))::text
    FROM unnest(p_flow_queues) AS q(name)
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.flow_keys k WHERE k.queue = q.name AND k.active)
      AND NOT EXISTS (SELECT 1 FROM ${s}.flow_rules r WHERE r.queue = q.name AND r.pattern = '');
    RETURN;
  END IF;
  v_budget := coalesce(p_budget, least(v_wanted, greatest(${FLOW_MIN_KEYS}, ceil(v_wanted::float8 / ${FLOW_QUANTUM})::int)));
  -- The lock walks a queue's ready keys in their index's order and stops at the budget: planned
  -- with sorts allowed, it read and tested every active key, then sorted them (see lockSql).
  PERFORM set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true);
  WITH l AS MATERIALIZED (${bindNames(lockSql(s), lockNames)})
  SELECT coalesce(array_agg(l.queue ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.key ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.tid ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.concurrency ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.rate_limit ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.rate_interval_ms ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.rate_burst ORDER BY ${fairness}) FILTER (WHERE ${candidate}), '{}'),
         coalesce(array_agg(l.queue ORDER BY l.queue, l.key) FILTER (WHERE l.hold), '{}'),
         coalesce(array_agg(l.key ORDER BY l.queue, l.key) FILTER (WHERE l.hold), '{}'),
         coalesce(array_agg(l.tid ORDER BY l.queue, l.key) FILTER (WHERE l.hold), '{}'),
         coalesce(array_agg(DISTINCT l.queue) FILTER (WHERE l.idle), '{}'),
         (SELECT coalesce(max(c.n), 0) FROM (SELECT count(*) AS n FROM l WHERE l.key IS NOT NULL GROUP BY l.queue) c)
  INTO v_locked_q, v_locked_k, v_locked_t, v_conc, v_rate_limit, v_rate_interval, v_rate_burst, v_held_q, v_held_k, v_held_t, v_idle, v_key_rows
  FROM l;
  PERFORM set_config('enable_sort', v_sort, true), set_config('enable_bitmapscan', v_bitmap, true);
  IF cardinality(v_held_q) = 0 AND cardinality(v_locked_q) > 0 AND array_position(v_locked_k, NULL) IS NULL THEN
    -- Keys only, none to mark held: the lean statement (less to plan, start and run).
    IF p_log THEN
      RETURN QUERY ${bindNames(pickSql(s, true, true), pickNames)};
    ELSE
      RETURN QUERY ${bindNames(pickSql(s, false, true), pickNames)};
    END IF;
  ELSIF cardinality(v_locked_q) > 0 OR cardinality(v_held_q) > 0 THEN
    IF p_log THEN
      RETURN QUERY ${bindNames(pickSql(s, true), pickNames)};
    ELSE
      RETURN QUERY ${bindNames(pickSql(s, false), pickNames)};
    END IF;
  END IF;
  RETURN QUERY SELECT ${nullRow}, json_build_object(
    'idle', v_idle, 'wanted', v_wanted, 'budget', v_budget, 'keyRows', v_key_rows,
    'candidates', cardinality(v_locked_q), 'keys', v_locked_k || v_held_k, 'queues', v_locked_q || v_held_q)::text;
END`;
}

/**
 * The function's name and the statement that creates it, for schema `s` (quoted). Its statements
 * are planned once per connection (`force_generic_plan`: no five custom plans first, each as
 * costly as a claim) and never as sequential scans (`enable_seqscan = off`): `flow_keys` and
 * `flow_rules` are tiny when analyzed and grow by a row version per claim between vacuums, and a
 * cached plan that scanned them cost 3 ms per claim; with keys at their limit the claim ran 1.5×
 * faster (bench/results/2026-12-01-flow-quantum.md).
 */
export function flowClaimFunction(s: string): { name: string; create: string } {
  const body = functionBody(s);
  const name = `flow_claim_${createHash('sha1').update(body).digest('hex').slice(0, 16)}`;
  // A dollar-quote tag the body cannot contain (a schema name could hold the usual one).
  let tag = '$jobwire_flow_claim$';
  for (let i = 0; body.includes(tag); i++) tag = `$jobwire_flow_claim_${i}$`;
  const create = `CREATE OR REPLACE FUNCTION ${s}.${name}(${PARAMS.join(', ')})
RETURNS TABLE (job text, n bigint, ord bigint, flow text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS ${tag}${body}${tag}`;
  return { name, create };
}

/**
 * Create this version's function unless it exists, under a transaction-scoped advisory lock so
 * processes starting together create it once (`run` must be inside a transaction).
 */
export async function installFlowClaimFunction(
  s: string,
  schema: string,
  run: (text: string, values?: unknown[]) => Promise<unknown[]>,
): Promise<void> {
  const { name, create } = flowClaimFunction(s);
  await run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`jobwire:flow-claim:${schema}`]);
  const [found] = (await run('SELECT to_regproc($1) IS NOT NULL AS present', [`${s}.${name}`])) as {
    present: boolean;
  }[];
  if (!found?.present) await run(create);
}

const installed = new WeakMap<PgContext, Promise<string>>();

/** This version's function, installed if missing (once per driver). */
function ensureFunction(ctx: PgContext): Promise<string> {
  let ready = installed.get(ctx);
  if (!ready) {
    const { name } = flowClaimFunction(ctx.s);
    ready = ctx
      .query<{ present: boolean }>('jobClaim', 'SELECT to_regproc($1) IS NOT NULL AS present', [
        `${ctx.s}.${name}`,
      ])
      .then(async ([found]) => {
        if (!found?.present) {
          try {
            await ctx.transaction('jobClaim', (client: pg.PoolClient) =>
              installFlowClaimFunction(ctx.s, ctx.schema, (text, values = []) =>
                ctx.query('jobClaim', text, values, client, false),
              ),
            );
          } catch (err) {
            if ((err as { cause?: { code?: unknown } }).cause?.code !== '42501') throw err;
            throw new SchemaVersionError(
              `The claim function of this jobwire version (${name}) is missing from schema "${ctx.schema}" on ` +
                `${ctx.target}, and this role may not create it. Run \`jobwire migrate\` (or driver.migrate()) ` +
                'with this version of jobwire and a role that can create functions in that schema.',
            );
          }
        }
        return `${ctx.s}.${name}`;
      });
    ready.catch(() => installed.delete(ctx));
    installed.set(ctx, ready);
  }
  return ready;
}

/** What the function says of one round, besides the jobs (its last row). */
interface RoundInfo {
  idle: string[];
  wanted?: number;
  budget?: number;
  keyRows?: number;
  candidates?: number;
  keys?: (string | null)[];
  queues?: string[];
}

/** A row of the function: a claimed job packed as claim-row.ts packs it, or a flow row. */
type FunctionRow = { job: string | null; n: string | null; ord: string | null; flow: string | null };

/** The most rounds of one claim (each takes more keys; see `claimWithFlow`). */
const MAX_ROUNDS = 8;

/**
 * A claim of `params.limit` jobs through the function: the ordinary claim, then keyed jobs (and
 * the unkeyed jobs of queues with a queue-wide rule) of the queues in `flowQueues`, least
 * recently started key first, round-robin within the fairness quantum (driver/flow.ts).
 *
 * A round whose lock was full (as many key rows as its budget: more keys may be ready past it)
 * and that came up short is followed by another for what is missing, over keys not yet taken
 * and sized by the yield per key just seen; a round that took every ready key and came up short
 * while some key gave its whole share goes round those keys again. Each round commits on its own.
 */
export async function claimWithFlow(
  ctx: PgContext,
  params: JobClaimParams,
  flowQueues: readonly string[],
): Promise<ClaimedJob[]> {
  const fn = await ensureFunction(ctx);
  // The announcements' LISTEN must be in place before silence can be trusted.
  await ctx.notifier.ready();
  const marks = idleMarks(ctx);
  const epoch = marks.epoch;
  const startedAt = Date.now();
  const limit = Math.floor(params.limit);
  const plainQueues = [...new Set(params.queues)];
  const idle = new Set<string>();
  const flowEvents: LogEntry[] = [];
  const claimed: ClaimedJob[] = [];
  const flow: { job: ClaimedJob; round: number; n: number; ord: number }[] = [];
  let visited: { queues: string[]; keys: (string | null)[] } = { queues: [], keys: [] };
  let budget: number | null = null;
  let queues = flowQueues;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const rows = await ctx.query<FunctionRow>(
      'jobClaim',
      `SELECT * FROM ${fn}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        round === 0 ? plainQueues : [],
        queues,
        limit - claimed.length - flow.length,
        budget,
        params.now ?? null,
        params.poolId,
        Math.floor(params.leaseMs),
        params.log === true,
        visited.queues,
        visited.keys,
        params.excludeSuspects === true,
      ],
    );
    let info: RoundInfo = { idle: [] };
    const started = new Map<string, number>();
    for (const row of rows) {
      if (row.job !== null) {
        if (row.ord === null) claimed.push(packedToClaimed(row.job));
        else {
          flow.push({ job: packedToClaimed(row.job), round, n: Number(row.n), ord: Number(row.ord) });
          started.set(row.ord, (started.get(row.ord) ?? 0) + 1);
        }
      } else if (row.flow?.startsWith('{')) info = JSON.parse(row.flow) as RoundInfo;
      else if (row.flow) flowEvents.push(...flowRowEntries([row.flow]));
    }
    for (const queue of info.idle) idle.add(queue);
    const missing = limit - claimed.length - flow.length;
    if (missing <= 0 || info.budget === undefined || (!info.candidates && !info.keys?.length)) break;
    const took = [...started.values()].reduce((a, b) => a + b, 0);
    if (info.keyRows! >= info.budget) {
      // More keys may be ready past this round's: take the next ones.
      visited = {
        queues: [...visited.queues, ...info.queues!],
        keys: [...visited.keys, ...info.keys!],
      };
      budget = nextFlowKeyBudget(missing, took, info.candidates!);
    } else {
      // Every ready key was taken: go round again only if some key gave its whole share.
      const share = Math.ceil(info.wanted! / Math.max(1, info.candidates!));
      if (took === 0 || ![...started.values()].some((n) => n >= share)) break;
      visited = { queues: [], keys: [] };
      budget = null;
    }
    queues = flowQueues.filter((q) => !idle.has(q));
    if (queues.length === 0) break;
  }
  if (marks.epoch === epoch) {
    for (const queue of idle) marks.idleUntil.set(queue, startedAt + IDLE_TRUST_MS);
  }
  if (flowEvents.length > 0) params.onFlowEvents?.(flowEvents.sort(compareFlowEntries));
  // The ordinary claim's jobs in claim order, then the flow's in round-robin order.
  claimed.sort(byClaimOrder);
  flow.sort((a, b) => a.round - b.round || a.n - b.n || a.ord - b.ord);
  for (const f of flow) claimed.push(f.job);
  return claimed;
}
