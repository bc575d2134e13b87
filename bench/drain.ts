#!/usr/bin/env node
// Processing throughput, quick: `node --import tsx bench/drain.ts [jobs] [postgres://…]` drains a backlog
// of no-op jobs (enqueued first) with one pool of concurrency 10 and prints jobs/s. Used to check
// that an index change costs the claim-and-finish path nothing measurable (run it on two trees,
// alternating). `npm run bench` (bench/run.mjs) is the full benchmark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobwire, defineTask, openDriver } from '../src/index.js';

const N = Number(process.argv[2] ?? 20000);
const db = process.argv[3];
const dir = mkdtempSync(join(tmpdir(), 'drain-'));
const target = db ?? join(dir, 'd.db');
const noop = defineTask({ name: 'noop', handler: async () => 'ok' });
const client = await createJobwire({ driver: await openDriver(target), tasks: [noop], retention: false });
for (let i = 0; i < N; i += 1000)
  await client.enqueueMany(
    Array.from({ length: Math.min(1000, N - i) }, () => ({ task: noop, payload: {} })),
  );
let done = 0;
const finished = new Promise<void>((resolve) =>
  client.events.on('job:completed', () => {
    if (++done === N) resolve();
  }),
);
const pool = client.createPool({ concurrency: 10, handleSignals: false });
const t = performance.now();
await pool.start();
await finished;
const s = (performance.now() - t) / 1000;
await pool.stop();
await client.close();
rmSync(dir, { recursive: true, force: true });
console.log(`${(N / s).toFixed(0)} jobs/s`);
