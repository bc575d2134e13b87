#!/usr/bin/env node
// Side-by-side benchmark of two builds of jobwire in one run:
//   node bench/compare.mjs --before <checkout> --after <checkout> [--rounds 3] [--db postgres://…] [-- run.mjs options]
// Each checkout must have been built (`npm run build`). Rounds alternate before/after so drift on a
// shared machine hits both alike; the table shows each build's median and after/before.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '3' },
    db: { type: 'string' },
  },
  allowPositionals: true,
});
if (!args.before) {
  console.error(
    'usage: node bench/compare.mjs --before <checkout> [--after <checkout>] [--rounds N] [--db URL]',
  );
  process.exit(2);
}
const rounds = Number(args.rounds);
const builds = { before: resolve(args.before), after: resolve(args.after) };
const extra = [...(args.db ? ['--db', args.db] : []), ...positionals, '--json'];
const samples = { before: [], after: [] };

for (let round = 1; round <= rounds; round++) {
  // Alternate which build goes first, so neither always runs on a warmer machine.
  const order = round % 2 ? ['before', 'after'] : ['after', 'before'];
  for (const name of order) {
    process.stderr.write(`round ${round}/${rounds}: ${name} (${builds[name]})\n`);
    const run = spawnSync(process.execPath, [`${builds[name]}/bench/run.mjs`, ...extra], {
      cwd: builds[name],
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`${name} benchmark failed with exit code ${run.status}`);
    samples[name].push(JSON.parse(run.stdout.trim().split('\n').at(-1)));
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const measures = Object.keys(samples.after[0]).filter((key) => typeof samples.after[0][key] === 'number');
const format = (value) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));
console.log(`\njobwire before/after — ${samples.after[0].driver ?? ''}, ${rounds} rounds, medians\n`);
console.log('| measure | before | after | after/before |');
console.log('| --- | ---: | ---: | ---: |');
for (const key of measures) {
  const before = median(samples.before.map((s) => s[key]));
  const after = median(samples.after.map((s) => s[key]));
  console.log(`| ${key} | ${format(before)} | ${format(after)} | ${(after / before).toFixed(2)} |`);
}
