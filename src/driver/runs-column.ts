/**
 * A column of whole numbers stored as runs of arithmetic progressions (a column batch's encoded
 * column, event-pack.ts): `{"r": [first, step, count, first, step, count, …]}`, or `{"R": …}` for
 * a column of decimal strings (job ids), which read back as strings.
 *
 * A claim takes jobs in id order, so its job ids are mostly one run (`[4001, 1, 500]` for 500
 * ids: 16 bytes instead of 4,001), and a claim or finalize spanning two enqueue batches has two
 * due times (two runs, instead of 14 bytes a job). Written only when it has at most a quarter as
 * many runs as values, so a column of scattered values is stored as its array.
 */

const RUNS_KEY = 'r';
const DECIMAL_RUNS_KEY = 'R';
/** Decimal ids of at most this many digits are safe integers. */
const MAX_DECIMAL_DIGITS = 15;

/** The value of `v` when it is a canonical decimal (no sign, no leading zero), else -1. */
function decimalValue(v: unknown): number {
  if (typeof v !== 'string') return -1;
  const length = v.length;
  if (length === 0 || length > MAX_DECIMAL_DIGITS || (length > 1 && v.charCodeAt(0) === 48)) return -1;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const digit = v.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/**
 * The JSON text of `values` as a runs column, or undefined when one of them is not a safe integer
 * (`{"r"}`) — or, for a column of strings, not a canonical decimal (`{"R"}`) — or when runs would
 * not save much (more than a quarter as many runs as values). Turned down at its first value when
 * that is neither.
 */
export function runsColumnJson(values: readonly unknown[]): string | undefined {
  const n = values.length;
  const most = n >> 2;
  const decimal = typeof values[0] === 'string';
  if (most === 0 || (!decimal && !Number.isSafeInteger(values[0]))) return undefined;
  // One pass, no array of the values: the run being read is (first, step, count).
  const runs: number[] = [];
  let first = 0;
  let step = 0;
  let count = 0;
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    let value: number;
    if (decimal) {
      value = decimalValue(v);
      if (value < 0) return undefined;
    } else {
      if (!Number.isSafeInteger(v)) return undefined;
      value = v as number;
    }
    if (count === 0) {
      first = value;
      count = 1;
    } else if (count === 1) {
      // A run's second value always joins it and sets its step.
      step = value - first;
      if (!Number.isSafeInteger(step)) return undefined;
      count = 2;
    } else if (value - previous === step) count++;
    else {
      // Closing this run and opening another must leave at most `most` runs.
      if (runs.length >= 3 * (most - 1)) return undefined;
      runs.push(first, step, count);
      first = value;
      count = 1;
    }
    previous = value;
  }
  runs.push(first, count === 1 ? 0 : step, count);
  return `{"${decimal ? DECIMAL_RUNS_KEY : RUNS_KEY}":${JSON.stringify(runs)}}`;
}

/** Whether `column` (an encoded column's object) is a runs column. */
export const isRunsColumn = (column: object): boolean => RUNS_KEY in column || DECIMAL_RUNS_KEY in column;

/** The `n` values of a runs column, as they were written; throws on a malformed one. */
export function runsColumnValues(column: object, n: number): (number | string)[] {
  const record = column as Record<string, unknown>;
  const decimal = DECIMAL_RUNS_KEY in record;
  const runs = record[decimal ? DECIMAL_RUNS_KEY : RUNS_KEY];
  const malformed = () =>
    new Error(
      `malformed runs column in the event log: ${JSON.stringify(column).slice(0, 200)} for ${n} values`,
    );
  if (!Array.isArray(runs) || runs.length % 3 !== 0 || Object.keys(record).length !== 1) throw malformed();
  const values: (number | string)[] = [];
  for (let r = 0; r < runs.length; r += 3) {
    const first: unknown = runs[r];
    const step: unknown = runs[r + 1];
    const count: unknown = runs[r + 2];
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(step) || !Number.isSafeInteger(count))
      throw malformed();
    const [a, d, c] = [first as number, step as number, count as number];
    const last = a + (c - 1) * d;
    if (c < 1 || values.length + c > n || !Number.isSafeInteger(last)) throw malformed();
    // A decimal column never holds a negative number (see `decimalValue`).
    if (decimal && (a < 0 || last < 0)) throw malformed();
    for (let k = 0; k < c; k++) values.push(decimal ? String(a + k * d) : a + k * d);
  }
  if (values.length !== n) throw malformed();
  return values;
}
