#!/usr/bin/env node
// What the durable event log costs a worker that has just started, counted in CPU instructions
// rather than timed, so that the figure does not move with the machine's neighbours:
//   npm run build && node bench/log-instructions.mjs [--db postgres://…] [--jobs 50000] [--rounds 2]
//
// Each round, for the log on and off: one process enqueues --jobs no-op jobs and a FRESH process
// drains them (bench/log-cost.mjs's own steps), the drain run under valgrind's cachegrind, which
// counts every instruction the process executed in user space, on all its threads. They are
// split by where they ran: SQLite, V8's optimizing compiler (its background threads), garbage
// collection, JSON, V8's builtins and runtime, the code V8 generated from JavaScript (where the
// log's builders run), and the rest (Node, libc, the kernel interface). On PostgreSQL only the
// worker's side is counted, not the server's. Counts of one variant differ by 1–2 % between
// runs (when the compiler's threads finish moves what runs optimized), against 10–20 % for the
// wall time of the same drains on this machine.
// Needs valgrind (Debian: apt install valgrind); a drain of 50,000 jobs takes ~40 s under it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { analyzeSchema, dropSchema } from './pg-schema.mjs';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    jobs: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '2' },
  },
});
const script = new URL('./log-cost.mjs', import.meta.url).pathname;
const postgres = args.db !== undefined && /^postgres(ql)?:/.test(args.db);
const progress = (message) => process.stderr.write(`${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed: install it (Debian: apt install valgrind) and run this again.');
  process.exit(1);
}

/** Where a function's instructions count (cachegrind's file and function names). */
function category(file, fn) {
  if (fn.startsWith('sqlite3') || /^(wal|pager|btree|vdbe)[A-Z]/.test(fn)) return 'SQLite';
  if (fn.includes('::compiler::') || fn.includes('turboshaft') || fn.includes('maglev')) return 'V8 compiler';
  if (/Heap|Scaveng|MarkCompact|Sweeper|Marking|Evacuat|GCTracer/.test(fn)) return 'garbage collection';
  if (fn.includes('Json')) return 'JSON';
  if (fn.startsWith('Builtins_') || fn.includes('v8::') || fn.startsWith('Runtime_'))
    return 'V8 builtins and runtime';
  if (file === '???' && fn === '???') return 'generated code (JavaScript)';
  return 'other (Node, libc)';
}

/** Instructions per category in a cachegrind output file. */
function instructions(path) {
  const totals = new Map();
  let file = '';
  let fn = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('fl=')) file = line.slice(3);
    else if (line.startsWith('fn=')) fn = line.slice(3);
    else if (line.charCodeAt(0) >= 48 && line.charCodeAt(0) <= 57) {
      const ir = Number(line.split(' ')[1]);
      if (Number.isFinite(ir)) {
        const c = category(file, fn);
        totals.set(c, (totals.get(c) ?? 0) + ir);
      }
    }
  }
  totals.set(
    'total',
    [...totals.values()].reduce((a, b) => a + b, 0),
  );
  return totals;
}

function child(what, target, log, wrap) {
  const childArgs = [
    script,
    '--child',
    what,
    '--target',
    target,
    '--log',
    log ? 'on' : 'off',
    '--jobs',
    args.jobs,
  ];
  if (args.db) childArgs.push('--db', args.db);
  const command = wrap ? 'valgrind' : process.execPath;
  const run = spawnSync(command, wrap ? [...wrap, process.execPath, ...childArgs] : childArgs, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.status !== 0)
    throw new Error(`${what} (log ${log ? 'on' : 'off'}) failed: ${run.stderr.slice(-2000)}`);
}

/** One fresh drain under cachegrind: its instructions per category. */
async function countedDrain(label, log) {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-logir-'));
  const target = postgres ? `jobwire_logir_${process.pid}_${label}` : join(dir, 'bench.db');
  const out = join(dir, 'cachegrind.out');
  try {
    child('prefill', target, log);
    if (postgres) await analyzeSchema(args.db, target);
    child('drain', target, log, [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--smc-check=all-non-file',
      `--cachegrind-out-file=${out}`,
    ]);
    return instructions(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (postgres) await dropSchema(args.db, target);
  }
}

const rounds = Number(args.rounds);
const samples = { on: [], off: [] };
for (let round = 1; round <= rounds; round++) {
  for (const log of round % 2 ? [true, false] : [false, true]) {
    const name = log ? 'on' : 'off';
    const counts = await countedDrain(`r${round}_${name}`, log);
    samples[name].push(counts);
    progress(
      `round ${round}/${rounds} log ${name}: ${(counts.get('total') / 1e9).toFixed(2)} G instructions`,
    );
  }
}
const categories = [...new Set(samples.on.flatMap((s) => [...s.keys()]))].sort(
  (a, b) =>
    (a === 'total') - (b === 'total') ||
    median(samples.on.map((s) => s.get(b) ?? 0)) - median(samples.on.map((s) => s.get(a) ?? 0)),
);
const g = (n) => (n / 1e6).toFixed(0);
console.log(
  `\n${postgres ? 'PostgreSQL' : 'SQLite'}, a fresh worker draining ${args.jobs} jobs, ${rounds} rounds: median instructions, millions`,
);
console.log('\n| where | log on | log off | on − off |\n| --- | ---: | ---: | ---: |');
for (const c of categories) {
  const on = median(samples.on.map((s) => s.get(c) ?? 0));
  const off = median(samples.off.map((s) => s.get(c) ?? 0));
  console.log(`| ${c} | ${g(on)} | ${g(off)} | ${g(on - off)} |`);
}
const onTotal = median(samples.on.map((s) => s.get('total')));
const offTotal = median(samples.off.map((s) => s.get('total')));
console.log(
  `\nA drain with the log off executes ${((offTotal / onTotal) * 100).toFixed(1)} % of the instructions of one with it on.`,
);
