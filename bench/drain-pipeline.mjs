#!/usr/bin/env node
// Where a drain waits: `npm run build && node bench/drain-pipeline.mjs [--db postgres://…]
// [--scenario unkeyed|keyed] [--keys K] [--jobs N] [--rounds R] [--log on|off|both]
// [--completed keep|delete|both] [--cpu-prof dir] [--dist a/dist --dist b/dist]`.
//
// Drains a backlog of N no-op jobs with one pool (concurrency 10, event log on) and reports, per
// drain: jobs/s; the Node process's CPU and (PostgreSQL on this machine) the server's CPU per job;
// how many claims and finalize writes it took; the share of the drain during which a claim, and a
// finalize write, was in flight, with their median durations; and the longest event-loop stall
// (a 5 ms timer's worst gap). A lane in flight nearly all
// the time is what bounds the drain (bench/results/2026-12-02-claim-ahead.md found every claim
// going out with an empty buffer this way). `keyed`: every job has one of `--keys` (default 100) concurrency keys
// under a rule that never binds (as bench/flow.mjs). Several `--dist` builds alternate drain by
// drain (ABBA), so the machine's drift hits them alike; the last table gives their medians.
// The server's CPU is that of this run's own connections (found by their application name), so
// other work on a shared server does not count.
// `--completed`: completed jobs kept (the default retention) or deleted as they complete
// (`retention: { completed: 'immediately' }`), or each in turn. `--cpu-prof <dir>` writes a V8
// CPU profile of each drain alone (not the enqueue before it) there.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    dist: { type: 'string', multiple: true },
    scenario: { type: 'string', default: 'unkeyed' },
    jobs: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '3' },
    keys: { type: 'string', default: '100' },
    log: { type: 'string', default: 'on' },
    completed: { type: 'string', default: 'keep' },
    'cpu-prof': { type: 'string' },
  },
});
if (!['unkeyed', 'keyed'].includes(args.scenario)) throw new Error('--scenario must be unkeyed or keyed');
const dists = (args.dist ?? [new URL('../dist', import.meta.url).pathname]).map((d) => resolve(d));
if (!['on', 'off', 'both'].includes(args.log)) throw new Error('--log must be on, off or both');
if (!['keep', 'delete', 'both'].includes(args.completed))
  throw new Error('--completed must be keep, delete (retention completed: immediately) or both');
// What alternates: every build, with the event log on, off or each in turn, and completed jobs
// kept or deleted as they complete (or each in turn).
const variants = dists.flatMap((dist) =>
  (args.log === 'both' ? [true, false] : [args.log === 'on']).flatMap((log) =>
    (args.completed === 'both' ? [false, true] : [args.completed === 'delete']).map((deleteCompleted) => ({
      dist,
      log,
      deleteCompleted,
      name:
        dist +
        (args.log === 'both' ? ` (log ${log ? 'on' : 'off'})` : '') +
        (args.completed === 'both' ? ` (completed ${deleteCompleted ? 'deleted' : 'kept'})` : ''),
    })),
  ),
);
const N = Number(args.jobs);
const KEYS = Number(args.keys);
if (!Number.isInteger(KEYS) || KEYS < 1) throw new Error('--keys must be a positive integer');
const postgres = args.db !== undefined && /^postgres(ql)?:/.test(args.db);
const progress = (message) => process.stderr.write(`${message}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU ms of each of `pids` that is a server process, by pid. */
function serverCpuMsByPid(pids) {
  const cpu = new Map();
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10); // USER_HZ is 100 on Linux
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return cpu;
}

/**
 * The server CPU ms spent between `before` (serverCpuMsByPid at the start) and now by the backends
 * of this run's connections, found by their application name at the end (a backend that started
 * during the drain counts from zero), so other work on a shared server does not count.
 */
async function ownServerCpuMsSince(before) {
  const after = serverCpuMsByPid(await ownBackendPids());
  let ms = 0;
  for (const [pid, total] of after) ms += total - (before.get(pid) ?? 0);
  return ms;
}

/** The time within [from, to] covered by at least one of `spans` (spans of one lane never overlap). */
const covered = (spans, from) => spans.reduce((sum, [a, b]) => sum + Math.max(0, b - Math.max(a, from)), 0);

async function drain({ dist, log, deleteCompleted }, run) {
  const base = pathToFileURL(`${dist}/`);
  const { createJobwire, defineTask } = await import(new URL('index.js', base).href);
  const keyed = args.scenario === 'keyed';
  let driver;
  let cleanup;
  if (postgres) {
    const { postgresDriver } = await import(new URL('drivers/postgres/index.js', base).href);
    const schema = `jobwire_pipeline_${run}_${process.pid}`;
    driver = postgresDriver({ connectionString: ownConnectionString(args.db), schema });
    cleanup = () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    driver.analyze = () =>
      sql(`ANALYZE "${schema}".jobs; ANALYZE "${schema}".events; ANALYZE "${schema}".flow_keys`);
  } else {
    const { sqliteDriver } = await import(new URL('drivers/sqlite/index.js', base).href);
    const dir = mkdtempSync(join(tmpdir(), 'jobwire-pipeline-'));
    driver = sqliteDriver({ path: join(dir, 'bench.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const spans = { claim: [], finalize: [] };
  let claimed = 0;
  const claim = driver.jobClaim.bind(driver);
  driver.jobClaim = async (params) => {
    const start = performance.now();
    try {
      const jobs = await claim(params);
      claimed += jobs.length;
      return jobs;
    } finally {
      spans.claim.push([start, performance.now()]);
    }
  };
  const finalize = driver.jobFinalizeMany.bind(driver);
  driver.jobFinalizeMany = async (params) => {
    const start = performance.now();
    try {
      return await finalize(params);
    } finally {
      spans.finalize.push([start, performance.now()]);
    }
  };
  let done = 0;
  let drained;
  const all = new Promise((r) => (drained = r));
  const task = defineTask({
    name: 'noop',
    handler: async () => {
      if (++done === N) drained();
    },
  });
  const flow = keyed ? [{ queue: 'default', key: 'tenant:*', concurrency: 1000 }] : undefined;
  const client = await createJobwire({
    driver,
    tasks: [task],
    ...(flow ? { flow } : {}),
    ...(log ? {} : { events: { log: false } }),
    ...(deleteCompleted ? { retention: { completed: 'immediately' } } : {}),
  });
  try {
    for (let start = 0; start < N; start += 1000) {
      await client.enqueueMany(
        Array.from({ length: Math.min(1000, N - start) }, (_, k) => ({
          task,
          payload: { i: start + k },
          ...(keyed ? { options: { concurrencyKey: `tenant:${(start + k) % KEYS}` } } : {}),
        })),
      );
    }
    await driver.analyze?.();
    const pool = client.createPool({ concurrency: 10, handleSignals: false });
    // The longest gap between ticks of a 5 ms timer: how long the event loop was held at once.
    let lastTick = performance.now();
    let stallMs = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - lastTick - 5);
      lastTick = now;
    }, 5);
    const profiler = args['cpu-prof'] === undefined ? undefined : await startProfiler();
    const cpu0 = process.cpuUsage();
    const server0 = postgres ? serverCpuMsByPid(await ownBackendPids()) : undefined;
    const t0 = performance.now();
    claimed = 0;
    await pool.start();
    await all;
    await pool.whenIdle();
    const ms = performance.now() - t0;
    clearInterval(ticker);
    const cpu = process.cpuUsage(cpu0);
    const serverMs = postgres ? await ownServerCpuMsSince(server0) : 0;
    await profiler?.stop(join(args['cpu-prof'], `drain-${run}${log ? '' : '-log-off'}.cpuprofile`));
    await pool.stop();
    const lane = (name) => {
      const own = spans[name].filter(([a]) => a >= t0);
      return {
        count: own.length,
        busy: covered(own, t0) / ms,
        median: own.length ? median(own.map(([a, b]) => b - a)) : 0,
      };
    };
    return {
      rate: N / (ms / 1000),
      nodeUs: (cpu.user + cpu.system) / N,
      serverUs: postgres ? (serverMs * 1000) / N : null,
      claims: lane('claim'),
      finalizes: lane('finalize'),
      perClaim: claimed / Math.max(1, lane('claim').count),
      stallMs,
    };
  } finally {
    await client.close();
    await cleanup();
  }
}

/** A V8 CPU profile of this process from now until `stop(file)`, which writes it there. */
async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(args['cpu-prof'], { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function sql(text, values) {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: args.db });
  await client.connect();
  const { rows } = await client.query(text, values);
  await client.end();
  return rows;
}

/** This run's application name: the driver's connections carry it, so their backends can be found. */
const APPLICATION = `jobwire-pipeline-${process.pid}`;
const ownConnectionString = (url) => `${url}${url.includes('?') ? '&' : '?'}application_name=${APPLICATION}`;
/** The server processes of this run's connections (the pool's and the notifier's). */
const ownBackendPids = async () =>
  (await sql('SELECT pid::text AS pid FROM pg_stat_activity WHERE application_name = $1', [APPLICATION])).map(
    (r) => r.pid,
  );

const results = new Map(variants.map((v) => [v.name, []]));
const pct = (x) => `${Math.round(100 * x)} %`;
console.log(
  '| build | jobs/s | Node µs/job | server µs/job | claims (jobs each) | claim in flight (median ms) | finalizes | finalize in flight (median ms) | longest stall (ms) |',
);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (let round = 0; round < Number(args.rounds); round++) {
  for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
    const r = await drain(v, `${round}_${variants.indexOf(v)}`);
    results.get(v.name).push(r);
    progress(`round ${round + 1}: ${v.name} ${Math.round(r.rate)} jobs/s`);
    console.log(
      `| ${v.name} | ${Math.round(r.rate)} | ${r.nodeUs.toFixed(1)} | ${r.serverUs === null ? '—' : r.serverUs.toFixed(1)} | ` +
        `${r.claims.count} (${Math.round(r.perClaim)}) | ${pct(r.claims.busy)} (${r.claims.median.toFixed(1)}) | ` +
        `${r.finalizes.count} | ${pct(r.finalizes.busy)} (${r.finalizes.median.toFixed(1)}) | ${r.stallMs.toFixed(1)} |`,
    );
  }
}
console.log(`\n${args.scenario}, ${postgres ? 'PostgreSQL' : 'SQLite'}, ${N} jobs — medians per build:`);
// With the log both on and off, each build's ratio within every round (its two drains ran back to
// back, so drift disturbs this least).
if (args.log === 'both' && args.completed !== 'both') {
  for (const dist of dists) {
    const on = results.get(`${dist} (log on)`);
    const off = results.get(`${dist} (log off)`);
    const ratios = on.map((r, i) => r.rate / off[i].rate);
    console.log(
      `- ${dist}: log on / off within a round: median ${pct(median(ratios))} (${ratios.map(pct).join(', ')})`,
    );
  }
}
for (const [name, rs] of results) {
  console.log(
    `- ${name}: ${Math.round(median(rs.map((r) => r.rate)))} jobs/s, Node ${median(rs.map((r) => r.nodeUs)).toFixed(1)} µs/job, ` +
      `server ${rs[0].serverUs === null ? '—' : median(rs.map((r) => r.serverUs)).toFixed(1)} µs/job, claim in flight ${pct(median(rs.map((r) => r.claims.busy)))}, ` +
      `finalize in flight ${pct(median(rs.map((r) => r.finalizes.busy)))}, ` +
      `longest stall ${Math.max(...rs.map((r) => r.stallMs)).toFixed(1)} ms`,
  );
}
