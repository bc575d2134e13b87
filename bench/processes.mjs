#!/usr/bin/env node
// Separate worker processes on one PostgreSQL, on an analyzed jobs table:
// `npm run bench:processes [-- --db postgres://… --jobs 60000 --processes 1,2,4 --concurrency 10 --dist ./dist]`.
//
// For each process count: a fresh schema, `--jobs` no-op jobs enqueued (enqueueMany of 1,000),
// then `VACUUM ANALYZE` — what autovacuum does on any production server, and the statistics it
// takes while nothing runs estimate one running row. Then that many OS processes each start one
// jobwire pool (`--concurrency`, every other option default) at the same moment, and the parent
// measures jobs/s until every job is completed. Meanwhile it samples, every 100 ms, the running
// rows, the active backends' statements and wait events (pg_stat_activity), and the machine's CPU
// (/proc/stat). `--dist` points at another build (e.g. an older version built in /tmp) to compare
// side by side. Absolute numbers drift on shared machines: compare runs from the same session.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    jobs: { type: 'string', default: '60000' },
    processes: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '10' },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
    label: { type: 'string', default: '' },
    child: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const dist = (file) => pathToFileURL(resolve(args.dist, file)).href;
const progress = (message) => process.stderr.write(`${message}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (args.child) await child(args.child);
else await main();

/** A worker process: one pool on `schema`, started on "go", stopped on "stop". */
async function child(schema) {
  const { createJobwire, defineTask } = await import(dist('index.js'));
  const { postgresDriver } = await import(dist('drivers/postgres/index.js'));
  const task = defineTask({ name: 'noop', handler: async () => {} });
  const client = await createJobwire({
    driver: postgresDriver({ connectionString: args.db, schema }),
    tasks: [task],
  });
  const pool = client.createPool({ concurrency: Number(args.concurrency), handleSignals: false });
  let failures = 0;
  client.events.on('pool:error', () => failures++);
  process.stdout.write('ready\n');
  let atGo = process.cpuUsage();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'go') {
      atGo = process.cpuUsage();
      await pool.start();
    }
    if (line === 'stop') break;
  }
  const cpu = process.cpuUsage(atGo);
  await pool.stop();
  await client.close();
  process.stdout.write(`done ${JSON.stringify({ failures, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`, () =>
    process.exit(0),
  );
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 if it is gone). */
function processCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

function cpuTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = fields.map(Number);
  const idle = n[3] + n[4];
  return { idle, total: n.reduce((a, b) => a + b, 0) };
}

/** Which hot statement a pg_stat_activity query text is. */
function statementKind(query) {
  if (query.includes('async_commit')) return 'claim';
  if (query.includes('WITH clock AS')) return 'finalize';
  if (query.includes('lease_expires_at = ') && query.includes('progress = COALESCE')) return 'heartbeat';
  if (query.includes('INSERT INTO')) return 'enqueue';
  return 'other';
}

async function run(admin, processes) {
  const { createJobwire, defineTask } = await import(dist('index.js'));
  const { postgresDriver } = await import(dist('drivers/postgres/index.js'));
  const schema = `jobwire_bench_procs_${process.pid}_${processes}`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const task = defineTask({ name: 'noop', handler: async () => {} });
  const client = await createJobwire({
    driver: postgresDriver({ connectionString: args.db, schema }),
    tasks: [task],
  });
  const total = Number(args.jobs);
  for (let i = 0; i < total; i += 1000) {
    const n = Math.min(1000, total - i);
    await client.enqueueMany(Array.from({ length: n }, (_, k) => ({ task, payload: { i: i + k } })));
  }
  await client.close();
  await admin.query(`VACUUM ANALYZE ${schema}.jobs`);

  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [new URL(import.meta.url).pathname, '--child', schema, ...forwarded()], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout })[Symbol.asyncIterator]());
  for (const it of lines) {
    const { value } = await it.next();
    if (value !== 'ready') throw new Error(`worker said ${value}`);
  }
  const samples = { n: 0, running: 0, maxRunning: 0, kinds: new Map(), waits: new Map(), active: 0 };
  const cpu0 = cpuTicks();
  const t0 = performance.now();
  for (const c of children) c.stdin.write('go\n');
  let completed = 0;
  while (completed < total) {
    await sleep(100);
    const [{ done, running }] = (
      await admin.query(
        `SELECT count(*) FILTER (WHERE state = 'completed')::int AS done,
                count(*) FILTER (WHERE state = 'running')::int AS running FROM ${schema}.jobs`,
      )
    ).rows;
    completed = done;
    samples.n++;
    samples.running += running;
    samples.maxRunning = Math.max(samples.maxRunning, running);
    const { rows } = await admin.query(
      `SELECT query, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait FROM pg_stat_activity
       WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE $1`,
      [`%${schema}%`],
    );
    samples.active += rows.length;
    for (const r of rows) {
      const kind = statementKind(r.query);
      samples.kinds.set(kind, (samples.kinds.get(kind) ?? 0) + 1);
      samples.waits.set(r.wait, (samples.waits.get(r.wait) ?? 0) + 1);
    }
    if (performance.now() - t0 > 600_000)
      throw new Error(`not drained after 10 minutes: ${completed}/${total}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuTicks();
  // The workers' backends: every statement names the schema, so their last query does too.
  const backends = await admin.query(
    'SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1',
    [`%${schema}%`],
  );
  const serverCpu = backends.rows.reduce((sum, r) => sum + processCpuSeconds(r.pid), 0);
  const done = [];
  for (const [i, c] of children.entries()) {
    c.stdin.write('stop\n');
    for (;;) {
      const { value, done: ended } = await lines[i].next();
      if (ended) break;
      if (value.startsWith('done ')) {
        done.push(JSON.parse(value.slice(5)));
        break;
      }
    }
  }
  for (const c of children) c.stdin.end();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const share = (map) =>
    Object.fromEntries(
      [...map.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, `${Math.round((100 * v) / samples.active)}%`]),
    );
  return {
    processes,
    jobsPerSecond: Math.round(total / seconds),
    seconds: Number(seconds.toFixed(1)),
    meanRunning: Math.round(samples.running / samples.n),
    maxRunning: samples.maxRunning,
    meanActiveBackends: Number((samples.active / samples.n).toFixed(1)),
    statements: share(samples.kinds),
    waits: share(samples.waits),
    machineCpuBusy: `${Math.round(100 * (1 - (cpu1.idle - cpu0.idle) / (cpu1.total - cpu0.total)))}%`,
    workerCpuSeconds: done.map((d) => Number((d.cpuMs / 1000).toFixed(1))),
    // CPU seconds per 1,000 jobs while draining: the worker processes, and their PostgreSQL backends.
    cpuPer1kJobs: {
      workers: Number((done.reduce((a, d) => a + d.cpuMs, 0) / total).toFixed(3)),
      server: Number(((1000 * serverCpu) / total).toFixed(3)),
    },
    poolErrors: done.reduce((a, d) => a + d.failures, 0),
  };
}

function forwarded() {
  return ['--db', args.db, '--concurrency', args.concurrency, '--dist', args.dist];
}

async function main() {
  const admin = new pg.Client({ connectionString: args.db });
  await admin.connect();
  const settings = {};
  for (const name of [
    'server_version',
    'shared_buffers',
    'synchronous_commit',
    'max_connections',
    'autovacuum',
  ]) {
    settings[name] = (await admin.query(`SHOW ${name}`)).rows[0][name];
  }
  progress(`postgres ${JSON.stringify(settings)}; dist ${args.dist}`);
  const results = [];
  for (const processes of args.processes.split(',').map(Number)) {
    progress(`${args.label} ${processes} process(es): enqueue ${args.jobs}, VACUUM ANALYZE, drain…`);
    const result = await run(admin, processes);
    progress(JSON.stringify(result));
    results.push(result);
  }
  await admin.end();
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ label: args.label, settings, results }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${args.label} (${args.jobs} jobs, concurrency ${args.concurrency} per process)\n`);
  process.stdout.write(
    '| processes | jobs/s | s | mean / max running rows | active backends | top statements | top waits | CPU s per 1k jobs (workers + server) | machine CPU |\n',
  );
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const r of results) {
    const top = (o) =>
      Object.entries(o)
        .slice(0, 3)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    process.stdout.write(
      `| ${r.processes} | ${r.jobsPerSecond} | ${r.seconds} | ${r.meanRunning} / ${r.maxRunning} | ${r.meanActiveBackends} | ${top(r.statements)} | ${top(r.waits)} | ${r.cpuPer1kJobs.workers} + ${r.cpuPer1kJobs.server} | ${r.machineCpuBusy} |\n`,
    );
  }
}
