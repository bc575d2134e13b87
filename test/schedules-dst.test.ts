/**
 * The DST oracle: every tick over two years, in zones with awkward rules, for fixed-time and
 * wildcard-hour patterns, computed by `nextTick` (croner for wall-clock matches + our DST rule)
 * and checked against an independent brute force that shares none of its code:
 *
 * - the zone's offsets come from hourly Intl samples refined to the minute (its own formatter);
 * - patterns are matched by a small matcher written here (no croner);
 * - the rule is applied from its definition: an instant runs when its local wall time matches
 *   (wildcard hour); a fixed-time wall time runs at its first instant, or — if it falls in a
 *   spring-forward gap — at the transition instant itself, once per instant.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWildcardHour, nextTick } from '../src/core/schedule-time.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.UTC(2025, 0, 1);
const END = Date.UTC(2027, 0, 1);

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Europe/Dublin', // negative DST in the tz data: winter is the "saving" time
  'Australia/Lord_Howe', // 30-minute shift
  'America/Santiago', // changes at midnight: 00:00 is skipped
  'Pacific/Apia',
  'Asia/Tehran',
  'Pacific/Chatham', // +12:45 / +13:45, shifts at 02:45 local
  'America/Havana', // midnight transitions
  'Africa/Casablanca', // DST suspended every Ramadan
  'America/St_Johns', // −3:30
  'Australia/Adelaide', // +9:30 / +10:30
  'Antarctica/Troll', // a two-hour shift
  'Asia/Gaza',
  'Asia/Kathmandu', // +5:45
  'UTC',
];

const PATTERNS = [
  '30 2 * * *', // in the spring gap of most zones that shift at 02:00
  '0 0 * * *', // in Santiago's and Havana's gaps
  '30 1 * * *', // in the autumn overlap of New York, London, Lord Howe
  '45 2 * * 0', // Sundays at Chatham's shift
  '15 3 L * *', // last day of the month
  '40 * * 2,3,4,9,10,11 *', // wildcard hour in the months with transitions
];

// -- The zone's offsets, found independently: hourly samples refined to the minute. ----------

const zoneFormat = (zone: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });

function rawOffset(format: Intl.DateTimeFormat, t: number): number {
  const p = Object.fromEntries(format.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const local = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!);
  return local - Math.floor(t / MINUTE) * MINUTE;
}

/** Segments [from, next.from) of constant offset covering [a, b). */
function segments(zone: string, a: number, b: number): { from: number; offset: number }[] {
  const key = `${zone} ${a} ${b}`;
  const cached = segmentCache.get(key);
  if (cached) return cached;
  const list = sampleSegments(zone, a, b);
  segmentCache.set(key, list);
  return list;
}

const segmentCache = new Map<string, { from: number; offset: number }[]>();

function sampleSegments(zone: string, a: number, b: number): { from: number; offset: number }[] {
  const format = zoneFormat(zone);
  const list = [{ from: a, offset: rawOffset(format, a) }];
  for (let t = a + HOUR; t < b; t += HOUR) {
    const offset = rawOffset(format, t);
    const last = list[list.length - 1]!;
    if (offset === last.offset) continue;
    let lo = t - HOUR;
    let hi = t;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
      if (rawOffset(format, mid) === offset) hi = mid;
      else lo = mid;
    }
    list.push({ from: hi, offset });
  }
  return list;
}

// -- A pattern matcher of its own (5 fields, `*`, `*/n`, ranges, lists, `L` in day of month). --

function field(text: string, min: number, max: number): Set<number> | 'L' {
  if (text === 'L') return 'L';
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    const [lo, hi] =
      range === '*'
        ? [min, max]
        : range!.includes('-')
          ? range!.split('-').map(Number)
          : [Number(range), Number(range)];
    for (let v = lo!; v <= hi!; v += step) values.add(v);
  }
  return values;
}

function matcher(pattern: string) {
  const [mi, h, dom, mo, dow] = pattern.split(' ');
  const minutes = field(mi!, 0, 59) as Set<number>;
  const hours = field(h!, 0, 23) as Set<number>;
  const days = field(dom!, 1, 31);
  const months = field(mo!, 1, 12) as Set<number>;
  const weekdays = field(dow!, 0, 6) as Set<number>;
  /** Wall times (floating UTC ms) of one local date that match. */
  return (y: number, m: number, d: number): number[] => {
    const date = new Date(Date.UTC(y, m, d));
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    if (!months.has(m + 1) || !weekdays.has(date.getUTCDay())) return [];
    if (days === 'L' ? d !== lastDay : !days.has(d)) return [];
    const walls: number[] = [];
    for (const hour of [...hours].sort((a, b) => a - b)) {
      for (const minute of [...minutes].sort((a, b) => a - b)) walls.push(Date.UTC(y, m, d, hour, minute));
    }
    return walls;
  };
}

/** Every tick in [START, END) by brute force. */
function bruteForce(zone: string, pattern: string): number[] {
  // Offsets cover a day more than the wall times on each side (zones are within ±14 h of UTC).
  const segs = segments(zone, START - 3 * DAY, END + 3 * DAY);
  const match = matcher(pattern);
  const walls: number[] = [];
  for (let day = START - 2 * DAY; day < END + 2 * DAY; day += DAY) {
    const d = new Date(day);
    walls.push(...match(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  }
  const instantsOf = (wall: number) =>
    segs
      .map((seg, i) => ({ t: wall - seg.offset, from: seg.from, to: segs[i + 1]?.from ?? Infinity }))
      .filter(({ t, from, to }) => t >= from && t < to)
      .map(({ t }) => t);
  const out = new Set<number>();
  const wildcard = pattern.split(' ')[1]!.startsWith('*');
  for (const wall of walls) {
    const instants = instantsOf(wall);
    if (wildcard) for (const t of instants) out.add(t);
    else if (instants.length > 0) out.add(Math.min(...instants));
    else {
      // In a gap: the transition whose jump skips this wall time.
      const i = segs.findIndex(
        (seg, k) => k > 0 && wall >= seg.from + segs[k - 1]!.offset && wall < seg.from + seg.offset,
      );
      assert.ok(i > 0, `${zone} ${new Date(wall).toISOString()}: no instant and no gap`);
      out.add(segs[i]!.from);
    }
  }
  return [...out].filter((t) => t >= START && t < END).sort((a, b) => a - b);
}

function computed(zone: string, pattern: string): number[] {
  const ticks: number[] = [];
  for (let t = nextTick({ kind: 'cron', pattern, timezone: zone }, START - 1); t !== null && t < END; ) {
    ticks.push(t);
    t = nextTick({ kind: 'cron', pattern, timezone: zone }, t);
  }
  return ticks;
}

describe('DST oracle: nextTick against a brute force over 2025–2026', () => {
  for (const zone of ZONES) {
    it(zone, () => {
      for (const pattern of PATTERNS) {
        const expected = bruteForce(zone, pattern);
        const actual = computed(zone, pattern);
        const show = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
        const firstDiff = expected.findIndex((t, i) => actual[i] !== t);
        assert.deepEqual(
          show(actual),
          show(expected),
          `${zone} "${pattern}" (${isWildcardHour(pattern) ? 'wildcard hour' : 'fixed time'}): first difference at #${firstDiff}`,
        );
      }
    });
  }

  it('the rule shows where it matters: gaps run after the jump, overlaps once (fixed) or twice (wildcard)', () => {
    const ny = (pattern: string, from: string, count: number) => {
      const out: string[] = [];
      let t = Date.parse(from);
      for (let i = 0; i < count; i++) {
        t = nextTick({ kind: 'cron', pattern, timezone: 'America/New_York' }, t)!;
        out.push(new Date(t).toISOString());
      }
      return out;
    };
    // 2026-03-08 02:30 does not exist in New York: it runs at 03:00 EDT (07:00Z), right after the jump.
    assert.deepEqual(ny('30 2 * * *', '2026-03-07T12:00:00Z', 2), [
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
    // 2026-11-01 01:30 happens twice: a fixed-time job runs at the first (EDT) only.
    assert.deepEqual(ny('30 1 * * *', '2026-10-31T12:00:00Z', 2), [
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    // A wildcard-hour job follows the clock: 01:30 EDT and 01:30 EST both run.
    assert.deepEqual(ny('30 * * * *', '2026-11-01T04:00:00Z', 3), [
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    // `?` in the hour field means any hour, as `*` does (croner reads it so): the repeated hour
    // runs twice. Before, it was taken for a fixed hour and the second 01:30 did not run.
    assert.deepEqual(ny('30 ? * * *', '2026-11-01T04:00:00Z', 3), [
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });
});
