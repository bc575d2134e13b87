/**
 * Reading Prometheus exposition text in tests with a real parser (parse-prometheus-text-format),
 * not with regular expressions of our own: a line the parser cannot read fails the test.
 */
import { createRequire } from 'node:module';

interface ParsedSample {
  labels?: Record<string, string>;
  value?: string;
}
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: ParsedSample[];
}
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

/** One sample: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** A parsed scrape: family types, and the samples of every series name. */
export interface Exposition {
  /** Family name → its TYPE (COUNTER, GAUGE, HISTOGRAM…). */
  types: Map<string, string>;
  /** Every sample of every series (for checks over the whole scrape). */
  all(): Sample[];
  /** Samples of a series name (a histogram's are `<name>_bucket`, `_sum`, `_count`). */
  samples(name: string): Sample[];
  /** The value of the one sample of `name` whose labels are exactly `labels`; undefined if none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

/** Parse `text`; throws when the parser rejects it. */
export function parseExposition(text: string): Exposition {
  const families = parse(text);
  const types = new Map(families.map((family) => [family.name, family.type]));
  // The parser folds all series of a labelled histogram into one set of buckets and drops their
  // labels; declared untyped, a histogram's _bucket, _sum and _count lines are read as series
  // of their own with every label kept. Their TYPE was read above.
  const flat = parse(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const series = new Map<string, Sample[]>();
  for (const family of flat) {
    // A histogram's series interleave (buckets, sum, count, next series…): the same name comes
    // back as another family.
    const samples = series.get(family.name) ?? [];
    for (const sample of family.metrics)
      samples.push({ labels: sample.labels ?? {}, value: Number(sample.value) });
    series.set(family.name, samples);
  }
  const samples = (name: string) => series.get(name) ?? [];
  return {
    types,
    samples,
    all: () => [...series.values()].flat(),
    value(name, labels = {}) {
      const wanted = JSON.stringify(Object.entries(labels).sort());
      const found = samples(name).filter((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted);
      if (found.length > 1) throw new Error(`${name} has ${found.length} samples with labels ${wanted}`);
      return found[0]?.value;
    },
  };
}

/**
 * Check every series of histogram `name`: buckets cumulative (non-decreasing in `le`), the +Inf
 * bucket equal to `_count`, a finite `_sum` >= 0. Returns the series' label sets (without `le`) with
 * their count and sum.
 */
export function checkHistogram(
  exposition: Exposition,
  name: string,
): { labels: Record<string, string>; count: number; sum: number }[] {
  if (exposition.types.get(name) !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
  const bySeries = new Map<string, { labels: Record<string, string>; buckets: [number, number][] }>();
  for (const sample of exposition.samples(`${name}_bucket`)) {
    const { le, ...labels } = sample.labels;
    if (le === undefined) throw new Error(`${name}_bucket without le`);
    const key = JSON.stringify(Object.entries(labels).sort());
    const entry = bySeries.get(key) ?? { labels, buckets: [] };
    entry.buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), sample.value]);
    bySeries.set(key, entry);
  }
  return [...bySeries.values()].map(({ labels, buckets }) => {
    buckets.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]![1] < buckets[i - 1]![1])
        throw new Error(`${name} buckets not cumulative for ${JSON.stringify(labels)}`);
    }
    const last = buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${name} has no +Inf bucket`);
    const count = exposition.value(`${name}_count`, labels);
    const sum = exposition.value(`${name}_sum`, labels);
    if (count !== last[1])
      throw new Error(`${name}_count ${count} != +Inf bucket ${last[1]} for ${JSON.stringify(labels)}`);
    if (sum === undefined || !Number.isFinite(sum) || sum < 0) throw new Error(`${name}_sum is ${sum}`);
    return { labels, count, sum };
  });
}
