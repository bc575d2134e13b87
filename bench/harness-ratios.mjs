#!/usr/bin/env node
// How far apart the peer harness's scenario C puts jobwire's variants, over many harness runs:
//   node bench/harness-ratios.mjs results/*.json bench/results/*peers*.md
//
// jobwire's adapters run scenario C three times per harness run: `defaults` and `tuned` (the same
// code, both with the event log on) and `log-off`. Per run and driver this prints the log's ratio
// (log-on jobs/s ÷ log-off jobs/s, for each log-on variant) and the ratio of the two IDENTICAL
// variants (tuned ÷ defaults) — the second is this machine's run-to-run noise with nothing
// changed, the yardstick for reading the first. Then, per driver, the distribution of both over
// every run given, with a bootstrap interval of the log ratio's median. An adapter whose `tuned`
// is not the defaults' code (jobwire-postgres's deletes completed jobs as they complete) also runs
// `tuned-log-off`: its `tuned` is then compared with that, in a distribution of its own, and not
// counted as the same code as `defaults`. It reads the harness's
// JSON results and its Markdown reports (the per-scenario detail table), so reports committed
// under bench/results/ can be read again.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** C of each jobwire variant in one harness run: { driver: { variant: { jobsPerSec, cpuS } } }. */
function readRun(file) {
  const text = readFileSync(file, 'utf8');
  const runs = {};
  const put = (driver, variant, jobsPerSec, cpuS) => {
    runs[driver] ??= {};
    runs[driver][variant] = { jobsPerSec, cpuS };
  };
  if (file.endsWith('.json')) {
    for (const r of JSON.parse(text).results ?? []) {
      const m = /^jobwire-(postgres|sqlite)$/.exec(r.peer);
      if (m && r.scenario === 'C' && r.ok && r.jobsPerSec)
        put(m[1], r.variant, r.jobsPerSec, r.cpu?.nodeCpuS);
    }
    return runs;
  }
  // Markdown: "| jobwire-sqlite | tuned | C | 1.238 | … CPU node 1.563 s …" (seconds for 50,000).
  const row =
    /^\| jobwire-(postgres|sqlite) \| ([\w-]+) \| C \| ([\d.]+) \| .*?completed (\d+).*?CPU node ([\d.]+) s/gm;
  for (const m of text.matchAll(row)) put(m[1], m[2], Number(m[4]) / Number(m[3]), Number(m[5]));
  return runs;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/harness-ratios.mjs <harness result .json or report .md>...');
  process.exit(2);
}
const pct = (x) => `${(x * 100).toFixed(0)} %`;
const samples = {}; // driver → { log: number[], same: number[], tunedLog: number[] }
console.log(
  '| run | driver | log on ÷ off (defaults) | log on ÷ off (tuned) | tuned ÷ defaults (same code) |',
);
console.log('| --- | --- | ---: | ---: | ---: |');
for (const file of files) {
  for (const [driver, v] of Object.entries(readRun(file))) {
    if (!v.defaults || !v.tuned) continue;
    samples[driver] ??= { log: [], same: [], tunedLog: [] };
    const s = samples[driver];
    const ownTuned = v['tuned-log-off'] !== undefined;
    const same = ownTuned ? undefined : v.tuned.jobsPerSec / v.defaults.jobsPerSec;
    if (same !== undefined) s.same.push(same);
    const cells = ['—', '—'];
    if (v['log-off']) {
      const ratio = v.defaults.jobsPerSec / v['log-off'].jobsPerSec;
      s.log.push(ratio);
      cells[0] = pct(ratio);
    }
    if (ownTuned) {
      const ratio = v.tuned.jobsPerSec / v['tuned-log-off'].jobsPerSec;
      s.tunedLog.push(ratio);
      cells[1] = `${pct(ratio)} (÷ tuned-log-off)`;
    } else if (v['log-off']) {
      const ratio = v.tuned.jobsPerSec / v['log-off'].jobsPerSec;
      s.log.push(ratio);
      cells[1] = pct(ratio);
    }
    console.log(
      `| ${basename(file).replace(/\.(json|md)$/, '')} | ${driver} | ${cells.join(' | ')} | ${same === undefined ? '— (other code)' : pct(same)} |`,
    );
  }
}

const quantile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const describe = (xs, below) =>
  xs.length === 0
    ? '—'
    : `median ${pct(quantile(xs, 0.5))}, middle half ${pct(quantile(xs, 0.25))}–${pct(quantile(xs, 0.75))}, ` +
      `range ${pct(Math.min(...xs))}–${pct(Math.max(...xs))}, below ${pct(below)} in ${xs.filter((x) => x < below).length} of ${xs.length}`;
/**
 * A 95 % confidence interval of the median of `xs` by the percentile bootstrap (10,000 resamples
 * with replacement; a fixed seed, so the same results print the same interval): how far the
 * median of these runs could be from the median of all runs this machine would give.
 */
function medianInterval(xs) {
  let seed = 0x9e3779b9;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const medians = [];
  for (let r = 0; r < 10_000; r++) {
    const sample = Array.from(xs, () => xs[Math.floor(random() * xs.length)]);
    medians.push(quantile(sample, 0.5));
  }
  return [quantile(medians, 0.025), quantile(medians, 0.975)];
}

console.log();
for (const [driver, s] of Object.entries(samples)) {
  console.log(`${driver}: log on ÷ off: ${describe(s.log, 0.85)}`);
  if (s.log.length >= 5) {
    const [low, high] = medianInterval(s.log);
    console.log(`${driver}: log on ÷ off, 95 % interval of the median (bootstrap): ${pct(low)}–${pct(high)}`);
  }
  if (s.tunedLog.length > 0) {
    console.log(`${driver}: tuned, log on ÷ off: ${describe(s.tunedLog, 0.85)}`);
    if (s.tunedLog.length >= 5) {
      const [low, high] = medianInterval(s.tunedLog);
      console.log(
        `${driver}: tuned, log on ÷ off, 95 % interval of the median (bootstrap): ${pct(low)}–${pct(high)}`,
      );
    }
  }
  if (s.same.length === 0) continue;
  // Either identical variant can be the slow one: count a gap of more than 15 % either way.
  const apart = s.same.filter((x) => x < 0.85 || x > 1 / 0.85).length;
  console.log(
    `${driver}: same code (tuned ÷ defaults): ${describe(s.same, 0.85)}; more than 15 % apart (either way) in ${apart} of ${s.same.length}`,
  );
}
