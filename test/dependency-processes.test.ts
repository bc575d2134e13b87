/**
 * Dependencies with real worker processes (test/fixtures/dependency-worker.ts) completing
 * dependencies at the same time, on SQLite and PostgreSQL. A DAG of 300 jobs (each later job
 * waits for 1–3 earlier ones, so diamonds abound); half is enqueued while the workers already
 * run it, so dependents are inserted while their dependencies finish. Checked from the handlers'
 * execution log and the durable event log: every job ran exactly once, none started before every
 * one of its dependencies ended, and every job stored blocked became due exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createJobwire, defineTask } from '../src/index.js';
import type { TestDatabaseFactory } from './support/database.js';
import { until } from './support/harness.js';
import { postgresDatabases } from './support/postgres.js';
import { compiledFixture } from './support/processes.js';
import { sqliteDatabases } from './support/sqlite.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/dependency-worker.ts', import.meta.url));
const node = defineTask<{ i: number }>({ name: 'node', handler: async () => {} });
const WORKERS = 3;
const JOBS = 300;

function startWorker(location: string, log: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [compiledFixture(FIXTURE)], {
    env: { ...process.env, JOBWIRE_TEST_DB: location, EXEC_LOG: log, CONCURRENCY: '4' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before ready`)));
  });
  return { child, ready };
}

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

for (const factory of [sqliteDatabases, postgresDatabases] as TestDatabaseFactory[]) {
  describe(`dependencies across processes (${factory.name})`, () => {
    it(`${WORKERS} workers: every job runs once, never before its dependencies, unblocked once`, async (t) => {
      const db = await factory.create();
      const dir = mkdtempSync(join(tmpdir(), 'jobwire-deps-proc-'));
      const log = join(dir, 'exec.log');
      const client = await createJobwire({ driver: await db.open(), tasks: [node] });
      const workers: ChildProcess[] = [];
      t.after(async () => {
        for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
        await client.close();
        await db.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });

      const next = random(10);
      const deps = new Map<string, string[]>();
      const ids: string[] = [];
      const add = async (from: number, to: number) => {
        const items: { task: typeof node; payload: { i: number }; options: { dependsOn: string[] } }[] = [];
        for (let i = from; i < to; i++) {
          const count = i < 20 ? 0 : 1 + Math.floor(next() * 3);
          const named = [
            ...new Set(Array.from({ length: count }, () => ids[Math.floor(next() * ids.length)]!)),
          ];
          items.push({ task: node, payload: { i }, options: { dependsOn: named } });
        }
        // One at a time in the second half: each insert races the workers finishing its dependencies.
        const jobs =
          from < JOBS / 2
            ? await client.enqueueMany(items)
            : await Promise.all(items.map((item) => client.enqueue(item.task, item.payload, item.options)));
        jobs.forEach((job, k) => {
          deps.set(job.id, items[k]!.options.dependsOn as string[]);
          ids.push(job.id);
        });
      };
      for (let from = 0; from < JOBS / 2; from += 10) await add(from, from + 10);
      for (let w = 0; w < WORKERS; w++) {
        const worker = startWorker(db.location, log);
        workers.push(worker.child);
        await worker.ready;
      }
      for (let from = JOBS / 2; from < JOBS; from += 10) await add(from, from + 10);

      await until(
        async () => (await client.countJobs()).completed === JOBS,
        120_000,
        'every job to complete',
      );
      for (const w of workers) w.kill('SIGTERM');

      // Times are the machine's monotonic clock in ns (see the fixture), with the writer's pid.
      const starts = new Map<string, { at: bigint; pid: string }[]>();
      const ends = new Map<string, { at: bigint; pid: string }>();
      for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
        const [what, id, at, pid] = line.split(' ');
        const entry = { at: BigInt(at!), pid: pid! };
        if (what === 'start') starts.set(id!, [...(starts.get(id!) ?? []), entry]);
        else ends.set(id!, entry);
      }
      assert.equal(starts.size, JOBS);
      for (const [id, times] of starts) assert.equal(times.length, 1, `job ${id} ran ${times.length} times`);
      let edges = 0;
      for (const [id, on] of deps) {
        for (const dep of on) {
          edges++;
          const start = starts.get(id)![0]!;
          const end = ends.get(dep)!;
          assert.ok(
            start.at >= end.at,
            `job ${id} started (process ${start.pid}) ${Number(end.at - start.at) / 1e6} ms before its dependency ${dep} ended (process ${end.pid})`,
          );
        }
      }
      let blocked = 0;
      for (const id of ids) {
        const types = (await client.jobEvents(id)).map((e) => e.type);
        const count = (type: string) => types.filter((x) => x === type).length;
        if (count('job:blocked') > 0) blocked++;
        assert.equal(count('job:unblocked'), count('job:blocked'), `job ${id}: ${types.join(', ')}`);
        assert.ok(count('job:unblocked') <= 1);
      }
      t.diagnostic(
        `${factory.name}: ${JOBS} jobs, ${edges} edges, ${blocked} stored blocked, ${WORKERS} processes`,
      );
      assert.ok(blocked > JOBS / 3, 'most dependents were stored blocked');
    });
  });
}
