/**
 * Outcomes with real OS processes (test/fixtures/outcome-worker.ts), checked against the
 * per-execution record and the stored jobs:
 *
 * - poison jobs whose errors a database could refuse (NUL, lone surrogates, an emoji string cut at
 *   4,096 characters, 10 MB) among 1,000 jobs, one worker killed with SIGKILL mid-run and replaced:
 *   every other job completes, the poison jobs end abandoned with storable errors, nothing stays
 *   `running` (SQLite and PostgreSQL);
 * - a process that stops its pool and closes its client while a large result is being written
 *   exits by itself (PostgreSQL);
 * - an outage longer than the lease (a TCP proxy the test cuts): no job that had finished runs
 *   again once the connection comes back (PostgreSQL).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clientInternals } from '../src/core/internals.js';
import { unstorableTextReason } from '../src/core/storable.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import type { TestDatabaseFactory } from './support/database.js';
import { until } from './support/harness.js';
import { postgresDatabases } from './support/postgres.js';
import { compiledFixture } from './support/processes.js';
import { sqliteDatabases } from './support/sqlite.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/outcome-worker.ts', import.meta.url));
const work = defineTask<{ i?: number; poison?: string }>({ name: 'work', handler: async () => {} });

interface Worker {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(location: string, log: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [compiledFixture(FIXTURE)], {
    env: { ...process.env, JOBWIRE_TEST_DB: location, EXEC_LOG: log, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out.slice(-4000), exited };
}

const running = (w: Worker) => w.child.exitCode === null && w.child.signalCode === null;

/** Every `start`/`end` record of the logs. */
function records(...logs: string[]): { what: string; jobId: string; attempt: number }[] {
  const out: { what: string; jobId: string; attempt: number }[] = [];
  for (const log of logs) {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [what, jobId, attempt] = line.split(' ');
      if (what && jobId) out.push({ what, jobId, attempt: Number(attempt) });
    }
  }
  return out;
}

async function setUp(t: TestContext, factory: TestDatabaseFactory) {
  const db = await factory.create();
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outcomes-'));
  const client = await createJobwire({ driver: await db.open(), tasks: [work] });
  const workers: Worker[] = [];
  t.after(async () => {
    for (const w of workers) if (running(w)) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await client.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const spawnWorker = (name: string, env: Record<string, string>, location = db.location) => {
    const worker = startWorker(location, join(dir, `${name}.log`), env);
    workers.push(worker);
    return worker;
  };
  return { client, db, dir, spawnWorker, log: (name: string) => join(dir, `${name}.log`) };
}

async function countActive(client: Jobwire): Promise<number> {
  const counts = await client.countJobs();
  return counts.running + counts.pending + counts.scheduled;
}

const POISON_KINDS = ['nul', 'emoji', 'lone', 'huge', 'name'];

function runPoisonSuite(factory: TestDatabaseFactory): void {
  describe(`poison outcomes with real processes (${factory.name})`, () => {
    it('1,000 jobs with poison errors, a worker killed and replaced: all others complete, nothing stays running', async (t) => {
      const { client, spawnWorker, log } = await setUp(t, factory);
      const JOBS = 1000;
      const items = Array.from({ length: JOBS }, (_, i) => {
        const poison = i % 100 === 37 ? POISON_KINDS[((i / 100) % POISON_KINDS.length) | 0] : undefined;
        return {
          task: work,
          payload: poison ? { poison } : { i },
          options: { maxAttempts: 2, backoff: { type: 'fixed' as const, delayMs: 10 } },
        };
      });
      const jobs = await client.enqueueMany(items);
      const env = { LEASE_MS: '2000', CONCURRENCY: '8', SLEEP_MS: '15' };
      const victim = spawnWorker('victim', env);
      const other = spawnWorker('other', env);
      await until(
        () => records(log('victim')).filter((r) => r.what === 'start').length >= 150,
        60_000,
        'the victim well into the run',
      );
      victim.child.kill('SIGKILL');
      await victim.exited;
      const replacement = spawnWorker('replacement', env);
      await until(async () => (await countActive(client)) === 0, 120_000, 'every job finished').catch(
        async (error) => {
          const counts = await client.countJobs();
          throw new Error(
            `${(error as Error).message}: ${JSON.stringify(counts)}\n${other.output()}\n${replacement.output()}`,
          );
        },
      );
      assert.ok(running(other) && running(replacement), 'the workers are still up');
      let completed = 0;
      for (const [i, job] of jobs.entries()) {
        const stored = (await client.getJob(job.id))!;
        const poison = (items[i]!.payload as { poison?: string }).poison;
        if (!poison) {
          assert.equal(stored.state, 'completed', `job ${job.id}`);
          completed++;
          continue;
        }
        assert.equal(stored.state, 'abandoned', `poison ${poison}`);
        assert.ok(stored.errors.length >= 1);
        for (const error of stored.errors) {
          for (const text of [error.name, error.message, error.stack ?? '']) {
            assert.equal(unstorableTextReason(text), undefined, `poison ${poison}: stored text is storable`);
          }
          assert.ok(error.message.length < 4200, `poison ${poison}: ${error.message.length} characters`);
        }
      }
      assert.equal(completed, JOBS - 10);
      t.diagnostic(
        `victim killed after ${records(log('victim')).filter((r) => r.what === 'start').length} starts`,
      );
    });
  });
}

runPoisonSuite(sqliteDatabases);
runPoisonSuite(postgresDatabases);

/** A TCP proxy to PostgreSQL that the test can cut (every connection dropped and refused) and restore. */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('storage outages and shutdown with real processes (postgres)', () => {
  it('stop() and close() while a large result is being written: the process exits by itself', async (t) => {
    const { client, spawnWorker, log } = await setUp(t, postgresDatabases);
    const job = await client.enqueue(work, { i: 1 });
    const worker = spawnWorker('closing', { MODE: 'stop-during-write', RESULT_MB: '60', LEASE_MS: '1000' });
    await until(() => records(log('closing')).some((r) => r.what === 'end'), 60_000, 'the job returned');
    // The pool stops (no more heartbeats) while its 60 MB write is in flight; once the lease has
    // expired, rescue the job here, so the write, when it lands, is refused by the fence and the
    // driver is closed by then.
    let rescued = false;
    await until(
      async () => {
        rescued ||= (await clientInternals(client).runtime.driver.jobRescueExpired({ limit: 10 })).some(
          (r) => r.id === job.id,
        );
        return rescued || !running(worker);
      },
      60_000,
      'the rescue of the job being written',
    );
    // The timer is cleared once the process exited: left pending, it kept this file's test process
    // alive (and its slot in `npm test` busy) for the rest of the 30 s.
    let timer: NodeJS.Timeout | undefined;
    const exitedInTime = await Promise.race([
      worker.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 30_000);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(exitedInTime, `the process did not exit within 30 s:\n${worker.output()}`);
    assert.equal((await worker.exited).code, 0, worker.output());
    assert.match(worker.output(), /^closed$/m);
    t.diagnostic(`rescued while the write was in flight: ${rescued}`);
  });

  it('an outage longer than the lease: no job that had finished runs again', async (t) => {
    const { client, db, spawnWorker, log } = await setUp(t, postgresDatabases);
    const url = new URL(db.location);
    const proxy = await startProxy({ host: url.hostname, port: Number(url.port || 5432) });
    t.after(() => proxy.close());
    url.host = `127.0.0.1:${proxy.port}`;
    const JOBS = 40;
    await client.enqueueMany(Array.from({ length: JOBS }, (_, i) => ({ task: work, payload: { i } })));
    const worker = spawnWorker(
      'cut',
      { LEASE_MS: '1500', CONCURRENCY: '10', SLEEP_MS: '600', RESCUE_MS: '100' },
      url.toString(),
    );
    // Cut while ten jobs run: they finish during the outage, their outcomes wait in the worker.
    await until(
      () => records(log('cut')).filter((r) => r.what === 'start').length >= 10,
      30_000,
      'ten jobs running',
    );
    proxy.cut();
    // The outage itself is the point: it must outlast the lease (1.5 s) and a rescue interval.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const finishedDuringCut = records(log('cut')).filter((r) => r.what === 'end').length;
    proxy.restore();
    await until(
      async () => (await client.countJobs()).completed === JOBS,
      60_000,
      'every job completed',
    ).catch(async (error) => {
      throw new Error(
        `${(error as Error).message}: ${JSON.stringify(await client.countJobs())}\n${worker.output()}`,
      );
    });
    const all = records(log('cut'));
    const ended = new Set(all.filter((r) => r.what === 'end').map((r) => r.jobId));
    const starts = new Map<string, number>();
    for (const r of all) if (r.what === 'start') starts.set(r.jobId, (starts.get(r.jobId) ?? 0) + 1);
    const rerun = [...ended].filter((id) => (starts.get(id) ?? 0) > 1);
    assert.ok(finishedDuringCut >= 10, `${finishedDuringCut} jobs finished before the connection came back`);
    assert.deepEqual(rerun, [], `finished jobs that ran again (of ${ended.size})`);
    assert.ok(running(worker));
  });
});
