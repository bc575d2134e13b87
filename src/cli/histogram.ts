/**
 * A fixed-size histogram of durations for the run summaries: log-spaced buckets (each 5 % wider
 * than the one before), so memory stays the same after a billion samples and a percentile is off
 * by at most 5 %. A worker that runs for weeks must not keep one number per job.
 */

/** Each bucket's upper bound is this factor times the one before. */
const GROWTH = 1.05;
/** Buckets: 1.05^600 ms is about 160 years, so no duration is ever out of range. */
const BUCKETS = 600;
const LOG_GROWTH = Math.log(GROWTH);

/** Counts, sum, extremes and log-spaced buckets of non-negative durations in ms. */
export class DurationHistogram {
  readonly #buckets = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** How many samples were recorded. */
  get count(): number {
    return this.#count;
  }

  /** Record one duration (negative or non-finite values count as 0: clocks step back). */
  record(ms: number): void {
    const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#count++;
    this.#sum += value;
    if (value > this.#max) this.#max = value;
    this.#buckets[bucketOf(value)]!++;
  }

  /** Add every sample of `other` to this histogram. */
  merge(other: DurationHistogram): void {
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#max > this.#max) this.#max = other.#max;
    for (let i = 0; i < BUCKETS; i++) this.#buckets[i]! += other.#buckets[i]!;
  }

  /** The rounded mean, or null without samples. */
  mean(): number | null {
    return this.#count ? Math.round(this.#sum / this.#count) : null;
  }

  /**
   * The nearest-rank percentile `p` (0–100) as its bucket's upper bound, never above the largest
   * sample; null without samples.
   */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.min(this.#count, Math.max(1, Math.ceil((p / 100) * this.#count)));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.round(upperBound(i)));
    }
    return Math.round(this.#max);
  }
}

/** Bucket 0 holds [0, 1] ms; bucket i holds (1.05^(i-1), 1.05^i]. */
function bucketOf(ms: number): number {
  if (ms <= 1) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms) / LOG_GROWTH));
}

function upperBound(bucket: number): number {
  return GROWTH ** bucket;
}
