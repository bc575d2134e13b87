/**
 * What the scheduler does with a schedule whose tick has come: a pure function of the stored
 * schedule, its definition and the time, so every policy can be tested without a database.
 *
 * Ticks from the due one (`nextTickAt`) up to now are split into on-time ones (handled within
 * `graceMs` of their time: they run) and late ones (the cluster was down: the missed-run policy
 * decides). Then comes the next tick after now, whose job is enqueued ahead (overlap `allow`).
 */
import type { ScheduleRecord } from '../driver/driver.js';
import { type StoredScheduleDefinition, tickRuleOf } from './schedule-definition.js';
import { nextTick, type TickRule } from './schedule-time.js';

/** Most ticks one plan walks through (a 1 s schedule down for a day has 86 400). */
export const MAX_TICKS_SCANNED = 200_000;

/** One tick that gets a job: a new one, or the job already enqueued ahead for it. */
export interface PlannedRun {
  tick: number;
  late: boolean;
  /** The job enqueued ahead for this tick (kept as it is), if any. */
  existingJobId: string | null;
  backfill: boolean;
}

/** The decision for one due schedule. */
export interface AdvancePlan {
  runs: PlannedRun[];
  /** Ticks the policy does not run. */
  missed: { count: number; firstTick: number; lastTick: number } | null;
  /** Ticks not run because the previous job was still active (overlap `skip`). */
  skipped: number[];
  /** Jobs enqueued ahead that must not run (still waiting). */
  cancelJobIds: string[];
  /** The tick after now, or null when the schedule ended. */
  next: number | null;
  /** Enqueue `next`'s job now (overlap `allow`). */
  enqueueAhead: boolean;
}

/** The first tick strictly after `after` that the definition allows (start and end), or null. */
export function firstTickAfter(definition: StoredScheduleDefinition, after: number): number | null {
  return boundedNext(tickRuleOf(definition), definition, after);
}

function boundedNext(rule: TickRule, definition: StoredScheduleDefinition, after: number): number | null {
  const from = definition.startAt === null ? after : Math.max(after, definition.startAt - 1);
  const tick = nextTick(rule, from);
  if (tick === null || (definition.endAt !== null && tick > definition.endAt)) return null;
  return tick;
}

/**
 * Ticks in (from, to], as a count with the first and last, and the ticks at or after `keepFrom`
 * listed (the ones that may run). Intervals are counted by arithmetic; cron ticks are walked,
 * up to MAX_TICKS_SCANNED.
 */
function ticksBetween(
  rule: TickRule,
  definition: StoredScheduleDefinition,
  from: number,
  to: number,
  keepFrom: number,
): { count: number; first: number | null; last: number | null; kept: number[]; lastBefore: number | null } {
  if (rule.kind === 'every' && definition.endAt === null && definition.startAt === null) {
    const k0 = Math.floor((from - rule.anchor) / rule.everyMs) + 1;
    const k1 = Math.floor((to - rule.anchor) / rule.everyMs);
    if (k1 < k0) return { count: 0, first: null, last: null, kept: [], lastBefore: null };
    const keepK = Math.max(k0, Math.ceil((keepFrom - rule.anchor) / rule.everyMs));
    const kept: number[] = [];
    for (let k = keepK; k <= k1; k++) kept.push(rule.anchor + k * rule.everyMs);
    const beforeK = Math.min(keepK - 1, k1);
    return {
      count: k1 - k0 + 1,
      first: rule.anchor + k0 * rule.everyMs,
      last: rule.anchor + k1 * rule.everyMs,
      kept,
      lastBefore: beforeK >= k0 ? rule.anchor + beforeK * rule.everyMs : null,
    };
  }
  let count = 0;
  let first: number | null = null;
  let last: number | null = null;
  const kept: number[] = [];
  let lastBefore: number | null = null;
  for (
    let tick = boundedNext(rule, definition, from);
    tick !== null && tick <= to;
    tick = boundedNext(rule, definition, tick)
  ) {
    count++;
    first ??= tick;
    last = tick;
    if (tick >= keepFrom) kept.push(tick);
    else lastBefore = tick;
    if (count >= MAX_TICKS_SCANNED) break;
  }
  return { count, first, last, kept, lastBefore };
}

/**
 * Plan the advance of `schedule` (due: its next tick is at or before `now`). `previousActive`:
 * the schedule's last job is still pending or running (read only for overlap `skip`).
 */
export function planAdvance(
  schedule: ScheduleRecord,
  definition: StoredScheduleDefinition,
  now: number,
  previousActive: boolean,
): AdvancePlan {
  const rule = tickRuleOf(definition);
  const due = schedule.nextTickAt!;
  const onTimeFrom = now - definition.graceMs;
  const { policy, windowMs, max } = definition.missed;
  const keepFrom = policy === 'backfill' ? Math.min(onTimeFrom, now - windowMs) : onTimeFrom;
  const later = ticksBetween(rule, definition, due, now, keepFrom);
  const dueJob = schedule.nextJobId;
  // Every tick up to now, oldest first: the due one, then those after it (listed when they may run).
  const dueLate = due < onTimeFrom;
  const lateLater = later.kept.filter((t) => t < onTimeFrom);
  const onTime = [...(dueLate ? [] : [due]), ...later.kept.filter((t) => t >= onTimeFrom)];
  const lateCount = (dueLate ? 1 : 0) + later.count - later.kept.filter((t) => t >= onTimeFrom).length;

  const runs: PlannedRun[] = [];
  const cancelJobIds: string[] = [];
  let runLate: number[] = [];
  if (lateCount > 0) {
    if (policy === 'run-once') runLate = [dueLate && dueJob !== null ? due : (lateLater.at(-1) ?? due)];
    else if (policy === 'backfill') {
      const candidates = [
        ...(dueLate && due >= now - windowMs ? [due] : []),
        ...lateLater.filter((t) => t >= now - windowMs),
      ];
      runLate = candidates.slice(-max);
    }
  }
  // A late tick is always before every on-time one, and the due tick is the earliest of all.
  // The latest late tick: listed, or the last one before the listed ones.
  const lastLate = lateLater.at(-1) ?? later.lastBefore ?? due;
  const missedCount = lateCount - runLate.length;
  const missed = missedCount > 0 ? { count: missedCount, firstTick: due, lastTick: lastLate } : null;
  if (dueLate && dueJob !== null && !runLate.includes(due)) cancelJobIds.push(dueJob);

  for (const tick of runLate) {
    runs.push({
      tick,
      late: true,
      existingJobId: tick === due ? dueJob : null,
      backfill: policy === 'backfill',
    });
  }
  for (const tick of onTime)
    runs.push({ tick, late: false, existingJobId: tick === due ? dueJob : null, backfill: false });

  const skipped: number[] = [];
  if (definition.overlap === 'skip' && runs.length > 0) {
    // At most one job at a time: the latest tick runs unless the previous job is still active.
    const keep = previousActive ? [] : [runs.at(-1)!];
    for (const run of runs) if (!keep.includes(run)) skipped.push(run.tick);
    runs.splice(0, runs.length, ...keep);
  }
  const next = boundedNext(rule, definition, now);
  return {
    runs,
    missed,
    skipped,
    cancelJobIds,
    next,
    enqueueAhead: next !== null && definition.overlap === 'allow',
  };
}
