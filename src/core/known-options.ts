/**
 * Refusing options nobody reads. An options object is a bag of optional fields, so a misspelt
 * or foreign one (`concurency`, BullMQ's `attempts`, `retry: { … }`) would otherwise be ignored
 * without a word and its default used — the worst kind of bad input, since nothing fails until
 * production behaves differently from what was written.
 */
import { InvalidOptionError } from './errors.js';

/** Longest key quoted back in an error: a key can be any string, a megabyte one included. */
const MAX_QUOTED_KEY = 80;

/**
 * The names of every field of an options interface `T`, from an object literal the compiler
 * checks both ways: leaving a field out, or naming one `T` lacks, is a type error — so the list a
 * check uses cannot drift from the interface it guards.
 *
 * ```ts
 * const NAMES = optionNames<PoolOptions>({ concurrency: true, queues: true, … });
 * ```
 */
export function optionNames<T>(fields: Record<keyof T, true>): ReadonlySet<string> {
  return new Set(Object.keys(fields));
}

/**
 * Throw `InvalidOptionError` when `value` has an own key that `known` does not list. The error
 * names the field (`at.key`, or `key` when `at` is empty), suggests the known name closest to a
 * misspelling, and lists the known names. `what` words the message: "unknown pool option …".
 */
export function assertKnownOptions(
  at: string,
  value: object,
  known: Iterable<string>,
  what = 'option',
): void {
  const names = known instanceof Set ? (known as ReadonlySet<string>) : new Set(known);
  for (const key of Object.keys(value)) {
    if (names.has(key)) continue;
    const quoted = key.length > MAX_QUOTED_KEY ? `${key.slice(0, MAX_QUOTED_KEY)}…` : key;
    const near = closestName(key, names);
    throw new InvalidOptionError(
      at === '' ? quoted : `${at}.${quoted}`,
      `unknown ${what}${near ? ` — did you mean "${near}"?` : ''} (known: ${[...names].join(', ')})`,
    );
  }
}

/**
 * The candidate a typo most likely meant, for "did you mean" hints: the closest by edit distance
 * (case ignored), if it is at most a third of the word's letters (at least two) away.
 */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > MAX_QUOTED_KEY) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}
