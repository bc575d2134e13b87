/**
 * When a schedule ticks. A cron library (croner) finds the wall-clock times a pattern matches;
 * this module owns how those map to instants in a time zone, by our own daylight-saving rule:
 *
 * - A **fixed-time** pattern (its hour field names hours: `30 2 * * *`, `0 9-17 * * 1-5`,
 *   `@daily`) runs once per matching wall-clock time. A time that falls in a spring-forward gap
 *   runs right after the jump (as Vixie/ISC cron does: a daily job is never lost); a time that
 *   occurs twice in a fall-back overlap runs once, at its first occurrence.
 * - A **wildcard-hour** pattern (the hour field is `*` or `*∕n`: `*∕15 * * * *`, `@hourly`) runs by
 *   elapsed time: at every instant whose local wall-clock time matches, so the hour skipped in
 *   spring has no runs and the repeated hour in autumn runs twice, as the clock shows it.
 * - Several gap times of one fixed pattern that map to the same instant run once there.
 *
 * Intervals (`every`) ignore zones: they tick at `anchor + k·every`, so a restart never resets
 * their phase.
 */
import { Cron } from 'croner';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** No zone's offset is further than this from UTC (Kiribati is +14). */
const MAX_OFFSET = 15 * HOUR;
/** Longer than any daylight-saving shift in the tz database (2 h, Antarctica/Troll): where to look back. */
const MAX_SHIFT = 3 * HOUR;

/** How a schedule's ticks are computed (from its definition). */
export type TickRule =
  | { kind: 'cron'; pattern: string; timezone: string }
  | { kind: 'every'; everyMs: number; anchor: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let found = formatters.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(zone, found);
  }
  return found;
}

/** True for an IANA zone name this runtime knows (`UTC` included). */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The canonical spelling of a zone `isTimeZone` accepted (`europe/paris` → `Europe/Paris`). */
export function canonicalTimeZone(zone: string): string {
  return formatter(zone).resolvedOptions().timeZone ?? zone;
}

/**
 * Offsets, cached per zone: by UTC day (one lookup covers a whole day without a transition),
 * and by quarter hour on the few days with one — every transition of the tz database in this
 * century falls on a quarter hour (UTC), so the offset is constant within each quarter.
 */
const offsetCache = new Map<string, { days: Map<number, number | null>; quarters: Map<number, number> }>();
const QUARTER = 15 * MINUTE;
const DAY = 24 * HOUR;

/** The offset at instant `at` as the runtime's tz data gives it (ms, local = at + offset). */
function formatOffset(zone: string, at: number): number {
  const parts: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(new Date(at))) parts[part.type] = part.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const wall = Date.UTC(
    year,
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - Math.floor(at / 1000) * 1000;
}

/** The zone's offset from UTC at instant `t`, in ms (local wall time = t + offset). */
export function offsetAt(zone: string, t: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  let cache = offsetCache.get(zone);
  if (!cache) {
    cache = { days: new Map(), quarters: new Map() };
    offsetCache.set(zone, cache);
  }
  if (cache.days.size > 100_000) cache.days.clear();
  if (cache.quarters.size > 100_000) cache.quarters.clear();
  const day = Math.floor(t / DAY);
  let whole = cache.days.get(day);
  if (whole === undefined) {
    const start = formatOffset(zone, day * DAY);
    // Null: the offset changes during this day; read it per quarter hour.
    whole = start === formatOffset(zone, (day + 1) * DAY - QUARTER) ? start : null;
    cache.days.set(day, whole);
  }
  if (whole !== null) return whole;
  const quarter = Math.floor(t / QUARTER);
  let offset = cache.quarters.get(quarter);
  if (offset === undefined) {
    offset = formatOffset(zone, quarter * QUARTER);
    cache.quarters.set(quarter, offset);
  }
  return offset;
}

/**
 * The instants whose local time in `zone` is the wall time `wall` (a UTC-based "floating" ms
 * value), earliest first: one normally, two in a fall-back overlap, none in a spring-forward gap.
 */
export function wallToInstants(zone: string, wall: number): number[] {
  const before = offsetAt(zone, wall - MAX_OFFSET);
  const after = offsetAt(zone, wall + MAX_OFFSET);
  const found: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wall - offset;
    if (offsetAt(zone, t) === offset && !found.includes(t)) found.push(t);
  }
  return found.sort((a, b) => a - b);
}

/**
 * The transition between `from` and `to`: the first instant whose offset is the one at `to`.
 * Offsets are read per quarter hour (see `offsetAt`), so the transition is a quarter-hour
 * boundary and a search over quarters finds it exactly.
 */
function transitionBetween(zone: string, from: number, to: number): number {
  const target = offsetAt(zone, to);
  let lo = Math.floor(from / QUARTER);
  let hi = Math.floor(to / QUARTER);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid * QUARTER) === target) hi = mid;
    else lo = mid;
  }
  return hi * QUARTER;
}

/**
 * Where a fixed-time wall clock `wall` runs: its first occurrence, or — in a spring-forward gap —
 * the instant right after the jump.
 */
function fixedInstant(zone: string, wall: number): number {
  const instants = wallToInstants(zone, wall);
  if (instants.length > 0) return instants[0]!;
  return transitionBetween(zone, wall - MAX_OFFSET, wall + MAX_OFFSET);
}

/** The hour field of a pattern (after nicknames), to tell fixed-time from wildcard-hour patterns. */
function hourField(pattern: string): string {
  const text = pattern.trim().toLowerCase();
  const nicknames: Record<string, string> = {
    '@yearly': '0',
    '@annually': '0',
    '@monthly': '0',
    '@weekly': '0',
    '@daily': '0',
    '@midnight': '0',
    '@hourly': '*',
  };
  if (text.startsWith('@')) return nicknames[text] ?? '*';
  const fields = text.split(/\s+/);
  return (fields.length === 5 ? fields[1] : fields[2]) ?? '*';
}

/** True when the pattern's hour field is a wildcard (`*`, `*∕n`): it runs by elapsed time. */
export function isWildcardHour(pattern: string): boolean {
  // croner reads `?` as `*` (any hour): a `?` hour is a wildcard too, not a fixed time.
  return /^[*?]/.test(hourField(pattern));
}

const crons = new Map<string, Cron>();

/** A croner matcher of wall-clock times: it runs in UTC on "floating" local times. */
export function wallMatcher(pattern: string): Cron {
  let cron = crons.get(pattern);
  if (!cron) {
    // domAndDow false: a day matches its day-of-month OR its day-of-week, as in Vixie cron.
    cron = new Cron(pattern, { utcOffset: 0, paused: true, domAndDow: false });
    if (crons.size > 1000) crons.clear();
    crons.set(pattern, cron);
  }
  return cron;
}

/** The next wall time strictly after `wall` that the pattern matches, or null (none ever again). */
function nextWall(cron: Cron, wall: number): number | null {
  return cron.nextRun(new Date(wall))?.getTime() ?? null;
}

/** Most wall matches examined for one tick: a guard against patterns that match nothing reachable. */
const MAX_STEPS = 10_000;

/** The first tick strictly after `after`, or null when the rule never ticks again. */
export function nextTick(rule: TickRule, after: number): number | null {
  if (rule.kind === 'every') {
    const k = Math.floor((after - rule.anchor) / rule.everyMs) + 1;
    return rule.anchor + k * rule.everyMs;
  }
  const zone = rule.timezone;
  const cron = wallMatcher(rule.pattern);
  const afterWall = after + offsetAt(zone, after);
  if (!isWildcardHour(rule.pattern)) {
    // Fixed-time: wall → instant is non-decreasing, and no wall before `after`'s own maps past it.
    let wall = nextWall(cron, afterWall - 1000);
    for (let step = 0; wall !== null && step < MAX_STEPS; step++) {
      const instant = fixedInstant(zone, wall);
      if (instant > after) return instant;
      wall = nextWall(cron, wall);
    }
    return null;
  }
  // Wildcard-hour: every instant whose wall time matches. In an overlap a wall time before
  // `after`'s may occur again after it, so near a transition look back by the largest shift,
  // and keep the earliest instant found.
  const stable = offsetAt(zone, after - MAX_OFFSET) === offsetAt(zone, after + MAX_OFFSET);
  let best: number | null = null;
  let wall = nextWall(cron, afterWall - (stable ? 0 : MAX_SHIFT) - 1000);
  for (let step = 0; wall !== null && step < MAX_STEPS; step++) {
    // Instants of this wall time and later ones are at least wall − (largest nearby offset).
    const largest = Math.max(offsetAt(zone, wall - MAX_OFFSET), offsetAt(zone, wall + MAX_OFFSET));
    if (best !== null && wall - largest > best) break;
    for (const instant of wallToInstants(zone, wall)) {
      if (instant > after && (best === null || instant < best)) best = instant;
    }
    wall = nextWall(cron, wall);
  }
  return best;
}

/** The local wall-clock parts of `t` in `zone`, for display (`2026-03-08 03:00:00`). */
export function formatInZone(t: number, zone: string): string {
  const wall = new Date(t + offsetAt(zone, t));
  return wall.toISOString().replace('T', ' ').slice(0, 19);
}
