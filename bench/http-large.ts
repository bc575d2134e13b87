#!/usr/bin/env node
// The HTTP API and the dashboard on a large jobs table: `node --import tsx bench/http-large.ts
// [--db postgres://…] [--pending 1000000] [--finished 5000000] [--runs 5] [--keep]`.
//
// Why: the HTTP surface must stay fast with millions of jobs (no unbounded count per request).
// This seeds bench/large-seed.ts's table (the one bench/counts.ts uses: `--pending` pending,
// 1,000 scheduled, `--finished` finished jobs, 50 pending in the small queue `reports`; VACUUM
// ANALYZE on PostgreSQL), enqueues 100 jobs through the client so the event log has a page,
// then builds `createHttpHandler` over a client of that database (no worker pool) and times each
// API route and dashboard page through `handler.fetch` (routing, auth, the reads, rendering and
// reading the body): one warm-up, then `--runs` timed requests. Every answer must be a 200, but
// the `/readyz` whose `maxPending` the backlog exceeds: a 503.
// Dashboard pages that show counts read them through a cache that asks the database at most once
// a second; the bench waits that second out before each of their requests, so every timing
// includes a count read. SQLite: a file in a temp dir. PostgreSQL: a schema of its own
// (`jw_http_large_<pid>`), dropped at the end. `--keep` keeps the file or schema (for EXPLAIN).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { createHttpHandler, type HttpHandler } from '../src/http/index.js';
import { createJobwire, type Driver, type Jobwire, openDriver } from '../src/index.js';
import { SCHEDULED, seedLargeTable } from './large-seed.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    pending: { type: 'string', default: '1000000' },
    finished: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
  },
});
const PENDING = Number(args.pending);
const FINISHED = Number(args.finished);
const RUNS = Number(args.runs);
const dir = args.db ? undefined : mkdtempSync(join(tmpdir(), 'jobwire-http-large-'));
const target = args.db ?? join(dir!, 'bench.db');
const isPg = target.startsWith('postgres');
const schema = `jw_http_large_${process.pid}`;
const TOKEN = 'http-large-bench-token-0123456789';
/** The dashboard's counts cache reads again once its last read is a second old. */
const COUNTS_CACHE_MS = 1000;

const openBenchDriver = async (): Promise<Driver> =>
  isPg ? postgresDriver({ connectionString: target, schema }) : openDriver(target);

interface Route {
  name: string;
  path: string;
  /** A dashboard page that reads the cached counts: wait the cache out before each request. */
  counts?: boolean;
  handler?: HttpHandler;
  /** The status the route must answer (default 200). */
  status?: number;
}

interface Reading {
  route: Route;
  status: number;
  bytes: number;
  ms: number[];
}

async function request(
  handler: HttpHandler,
  path: string,
  expected = 200,
): Promise<{ status: number; bytes: number }> {
  const response = await handler.fetch(
    new Request(`http://bench.local${path}`, {
      headers: {
        authorization: `Bearer ${TOKEN}`,
        accept: path.startsWith('/api/') ? 'application/json' : 'text/html',
      },
    }),
  );
  const body = await response.arrayBuffer();
  if (response.status !== expected) {
    const text = Buffer.from(body).toString('utf8').slice(0, 300);
    throw new Error(`GET ${path} answered ${response.status}, not ${expected}: ${text}`);
  }
  return { status: response.status, bytes: body.byteLength };
}

async function measure(route: Route, handler: HttpHandler): Promise<Reading> {
  const ms: number[] = [];
  let answer = { status: 0, bytes: 0 };
  for (let run = 0; run <= RUNS; run++) {
    if (route.counts) await sleep(COUNTS_CACHE_MS + 50);
    const start = performance.now();
    answer = await request(route.handler ?? handler, route.path, route.status);
    if (run > 0) ms.push(performance.now() - start); // run 0 is the warm-up
  }
  return { route, ...answer, ms: ms.sort((a, b) => a - b) };
}

const median = (ms: number[]) => ms[Math.floor(ms.length / 2)]!;
const f = (n: number) => n.toFixed(1);

const driverName = isPg ? 'postgres' : 'sqlite';
console.log(
  `http-large bench · ${driverName} · ${PENDING} pending + ${SCHEDULED} scheduled + ${FINISHED} finished rows · ${RUNS} runs each after one warm-up`,
);
let client: Jobwire | undefined;
const handlers: HttpHandler[] = [];
try {
  const migrator = await openBenchDriver();
  await migrator.migrate();
  await migrator.close();
  const t0 = Date.now();
  await seedLargeTable({
    target,
    schema,
    pending: PENDING,
    finished: FINISHED,
    onChunk: (done, total) =>
      console.log(`  seeded ${done}/${total} rows (${((Date.now() - t0) / 1000).toFixed(1)} s)`),
  });
  console.log(`seeded${isPg ? ' and vacuum-analyzed' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  client = await createJobwire({ driver: await openBenchDriver(), retention: false, strictTasks: false });
  // Through the client, so the event log holds a page of events (bulk SQL writes none).
  for (let n = 0; n < 100; n++) await client.enqueue('t', { n }, { queue: 'reports' });
  const handler = createHttpHandler(client, { auth: { token: TOKEN } });
  // /readyz reads queueStats() only when a threshold is set: a second handler with loose ones.
  // Its timeout is raised from 5 s to 60 s, so a slow check is timed rather than a 503.
  const probed = createHttpHandler(client, {
    auth: { token: TOKEN },
    health: { maxPending: 100_000_000, maxOldestPendingMs: 7 * 86_400_000, timeoutMs: 60_000 },
  });
  // A threshold a real deployment would set, with the default 5 s timeout: the backlog of
  // `bulk` is over it, so the right answer is a 503 saying so — quickly (the read stops at
  // maxPending + 1 per queue), not a timeout.
  const tight = createHttpHandler(client, {
    auth: { token: TOKEN },
    health: { maxPending: 10_000, maxOldestPendingMs: 7 * 86_400_000 },
  });
  handlers.push(handler, probed, tight);

  const firstPage = await client.listJobs({ limit: 50 });
  const middle = String(Math.floor(PENDING + SCHEDULED + FINISHED / 2));
  const [job] = (await client.listJobs({ state: 'completed', cursor: middle, limit: 1 })).jobs;
  if (!firstPage.nextCursor || !job)
    throw new Error('the seeded table has no second page or no completed job');

  const routes: Route[] = [
    { name: 'API queues with counts', path: '/api/queues' },
    { name: 'API jobs, no filter', path: '/api/jobs' },
    { name: 'API jobs, completed', path: '/api/jobs?state=completed' },
    { name: 'API jobs, pending in `reports` (small queue)', path: '/api/jobs?state=pending&queue=reports' },
    {
      name: 'API jobs, pending in `email` (1 % of pending, oldest ids)',
      path: '/api/jobs?state=pending&queue=email',
    },
    { name: 'API jobs, running (none: the filter matches nothing)', path: '/api/jobs?state=running' },
    { name: 'API jobs, second page (cursor)', path: `/api/jobs?cursor=${firstPage.nextCursor}` },
    { name: 'API one job', path: `/api/jobs/${job.id}` },
    { name: 'API stats (60 s window)', path: '/api/stats' },
    { name: 'API event log page', path: '/api/events' },
    { name: 'readyz (no thresholds)', path: '/readyz' },
    { name: 'readyz (maxPending, maxOldestPendingMs; timeoutMs 60 s)', path: '/readyz', handler: probed },
    {
      name: 'readyz (maxPending 10,000: over it, so 503; default 5 s timeout)',
      path: '/readyz',
      handler: tight,
      status: 503,
    },
    { name: 'Dashboard overview', path: '/', counts: true },
    { name: 'Dashboard jobs', path: '/jobs', counts: true },
    { name: 'Dashboard jobs, completed', path: '/jobs?state=completed', counts: true },
    { name: 'Dashboard queues', path: '/queues', counts: true },
    { name: 'Dashboard one job', path: `/jobs/${job.id}` },
    { name: 'Dashboard schedules', path: '/schedules' },
    { name: 'Dashboard workers', path: '/workers' },
  ];
  const readings: Reading[] = [];
  for (const [i, route] of routes.entries()) {
    const reading = await measure(route, handler);
    readings.push(reading);
    console.log(
      `  ${i + 1}/${routes.length} ${route.name}: median ${f(median(reading.ms))} ms (${reading.bytes} bytes)`,
    );
  }

  console.log(`\n${driverName}: median, min and max of ${RUNS} requests after one warm-up\n`);
  console.log('| route | path | status | bytes | median ms | min ms | max ms |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const { route, status, bytes, ms } of readings) {
    const path = route.path.replace(/cursor=\d+/, 'cursor=…').replace(/\/jobs\/\d+/, '/jobs/{id}');
    console.log(
      `| ${route.name} | \`${path}\` | ${status} | ${bytes} | ${f(median(ms))} | ${f(ms[0]!)} | ${f(ms.at(-1)!)} |`,
    );
  }
} finally {
  for (const handler of handlers) handler.close();
  await client?.close();
  if (args.keep) {
    console.log(`\nkept: ${isPg ? `schema ${schema} in ${target}` : target}`);
  } else {
    if (isPg) {
      const admin = new pg.Client({ connectionString: target });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
