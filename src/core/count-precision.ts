/**
 * How bounded counts (`queueCounts`, docs/counts.md) are shown and summed, the same way on every
 * surface: the CLI's tables and the dashboard mark a lower bound `≥` and an estimate `~`.
 */
import type { CountPrecision } from './types.js';

/** The mark a count carries: none when exact, `≥` when a lower bound, `~` when an estimate. */
export const COUNT_PRECISION_MARK: Readonly<Record<CountPrecision, string>> = {
  exact: '',
  atLeast: '≥',
  estimate: '~',
};

/**
 * The precision of a sum of two counts: exact only when both are; an estimate when either is
 * (a lower bound plus an estimate may be above or below the truth); else a lower bound.
 */
export function combinePrecision(a: CountPrecision, b: CountPrecision): CountPrecision {
  if (a === 'estimate' || b === 'estimate') return 'estimate';
  return a === 'atLeast' || b === 'atLeast' ? 'atLeast' : 'exact';
}
