/**
 * SQLite liveness when the processes sharing a file disagree about the time. No process's wall
 * clock may decide that a lease or a leadership ended: a rescuer only takes a job (and a
 * process only takes leadership) after watching it stay unchanged for longer than its length on
 * its own clock.
 *
 * - Two driver instances on one file stand for two processes (each has its own memory of what
 *   it saw); their injected `now`s are a minute apart, as the clocks of two processes can be.
 * - Real worker processes (test/fixtures/worker-process.ts) with their wall clock moved by a
 *   preload (test/fixtures/skewed-clock.mjs): skewed a minute ahead and behind, stepped in the
 *   middle of a run, and frozen with SIGSTOP past the lease (at-least-once with fencing).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { until } from './support/harness.js';
import {
  type Execution,
  killWorkers,
  readExecutions,
  startWorker,
  type WorkerProcess,
} from './support/processes.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const SKEW = 60_000;
const LEASE = 1000;

/** Two drivers on one fresh file: `a` and `b` stand for two processes. */
async function twoProcesses(t: TestContext): Promise<{ a: Driver; b: Driver }> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-skew-'));
  const path = join(dir, 'jobs.db');
  const a = sqliteDriver({ path });
  await a.migrate();
  const b = sqliteDriver({ path });
  t.after(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { a, b };
}

async function insertOne(driver: Driver, now: number, maxAttempts = 3): Promise<string> {
  const result = await driver.jobInsertMany({ jobs: [jobParams({ maxAttempts })], now });
  assert.ok('inserted' in result);
  return result.inserted[0]!.job.id;
}

async function claimOne(driver: Driver, now: number, workerId: string) {
  const [lease] = await driver.jobClaim({
    queues: ['default'],
    limit: 1,
    leaseMs: LEASE,
    poolId: workerId,
    now,
  });
  assert.ok(lease, 'a job to claim');
  return lease;
}

describe('SQLite liveness between processes whose clocks disagree', () => {
  for (const skew of [SKEW, -SKEW]) {
    const where = skew > 0 ? 'ahead' : 'behind';
    it(`a heart-beating job of a worker whose clock is a minute ${where} is never rescued`, async (t) => {
      const { a: worker, b: rescuer } = await twoProcesses(t);
      const id = await insertOne(worker, T0 + skew);
      const lease = await claimOne(worker, T0 + skew, 'skewed');
      // The rescuer sweeps every 200 ms of its clock, the worker heart-beats every 300 ms of its.
      for (let ms = 0; ms <= 10 * LEASE; ms += 50) {
        if (ms % 200 === 0) {
          assert.deepEqual(
            await rescuer.jobRescueExpired({ limit: 10, now: T0 + ms }),
            [],
            `sweep at +${ms}`,
          );
        }
        if (ms % 300 === 150) {
          const lost = await worker.jobHeartbeatMany({
            leases: [lease],
            leaseMs: LEASE,
            now: T0 + skew + ms,
          });
          assert.deepEqual(lost, [], `heartbeat at +${ms}`);
        }
      }
      const job = await rescuer.jobGet({ id });
      assert.equal(job?.state, 'running');
      assert.equal(job.errors.length, 0);
    });

    it(`a worker whose clock is a minute ${where} and falls silent is rescued a lease later, on the rescuer's clock`, async (t) => {
      const { a: worker, b: rescuer } = await twoProcesses(t);
      const id = await insertOne(worker, T0 + skew);
      const lease = await claimOne(worker, T0 + skew, 'skewed');
      let rescuedAt: number | undefined;
      const lastBeat = 350; // rescuer time of the worker's last heartbeat
      for (let ms = 0; rescuedAt === undefined && ms <= 5 * LEASE; ms += 50) {
        if (ms === lastBeat) {
          assert.deepEqual(
            await worker.jobHeartbeatMany({ leases: [lease], leaseMs: LEASE, now: T0 + skew + ms }),
            [],
          );
        }
        if (ms % 200 !== 0) continue;
        const rescued = await rescuer.jobRescueExpired({ limit: 10, now: T0 + ms });
        if (rescued.length > 0) {
          assert.deepEqual(
            rescued.map((job) => job.id),
            [id],
          );
          rescuedAt = ms;
        }
      }
      assert.ok(rescuedAt !== undefined, 'rescued');
      // First seen at the sweep after the heartbeat (400), rescued at the first sweep more than a
      // lease after that: never within a lease of the heartbeat, at most a lease and two sweeps.
      assert.equal(rescuedAt, 1600);
      assert.ok(rescuedAt - lastBeat > LEASE && rescuedAt - lastBeat <= LEASE + 400);
      assert.equal((await rescuer.jobGet({ id }))?.state, 'pending');
    });

    it(`leadership renewed by a process whose clock is a minute ${where} is not taken over; a silent one is, after its ttl`, async (t) => {
      const { a: holder, b: other } = await twoProcesses(t);
      const TTL = 2000;
      const elect = (driver: Driver, ownerId: string, now: number) =>
        driver.leaderAttemptElect({ name: 'maintenance', ownerId, ttlMs: TTL, now });
      assert.equal(await elect(holder, 'holder', T0 + skew), true);
      for (let ms = 100; ms <= 5 * TTL; ms += 200) {
        assert.equal(await elect(other, 'other', T0 + ms), false, `other at +${ms}`);
        assert.equal(await elect(holder, 'holder', T0 + skew + ms + 100), true, `holder at +${ms + 100}`);
      }
      // The holder stops renewing (its last renewal: +10 000); `other` keeps asking every 200 ms.
      let takenAt: number | undefined;
      for (let ms = 5 * TTL + 100; takenAt === undefined && ms <= 10 * TTL; ms += 200) {
        if (await elect(other, 'other', T0 + ms)) takenAt = ms;
      }
      // First seen unchanged at +10 100; taken at the first attempt more than the ttl later.
      assert.equal(takenAt, 5 * TTL + 100 + TTL + 200);
      assert.equal(await elect(holder, 'holder', T0 + skew + 20 * TTL), false, 'the old holder lost it');
    });
  }

  it('two rescuers at once never rescue a job twice, nor take a re-claimed job for the one they watched', async (t) => {
    const { a: first, b: second } = await twoProcesses(t);
    const id = await insertOne(first, T0, 2);
    await claimOne(first, T0, 'dead');
    // Both watch the silent lease; `second`'s clock is a minute ahead of `first`'s.
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW }), []);
    const [rescued] = await first.jobRescueExpired({ limit: 10, now: T0 + LEASE + 1 });
    assert.equal(rescued?.id, id);
    // A live worker claims it again; `second` last saw the old lease more than a lease ago.
    const again = await claimOne(first, T0 + LEASE + 2, 'alive');
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW + 5 * LEASE }), []);
    assert.deepEqual(
      await first.jobHeartbeatMany({ leases: [again], leaseMs: LEASE, now: T0 + LEASE + 500 }),
      [],
    );
    assert.deepEqual(await second.jobRescueExpired({ limit: 10, now: T0 + SKEW + 5 * LEASE + 900 }), []);
    const job = await first.jobGet({ id });
    assert.equal(job?.state, 'running');
    assert.equal(job.poolId, 'alive');
  });
});

// -- real worker processes ------------------------------------------------------------------------

/** The fixture's task; only its name and types matter here (the parent runs no pool). */
const work = defineTask<{ i: number }, number>({ name: 'work', handler: async () => 0 });
const PRELOAD = pathToFileURL(fileURLToPath(new URL('./fixtures/skewed-clock.mjs', import.meta.url))).href;
const EVENTS = 'job:rescued,job:abandoned,job:lease-lost,job:completed,pool:error';

/** A fresh file, a client on it, and worker processes that are all killed when the test ends. */
/** True once the kernel reports `pid` stopped (Linux's /proc); elsewhere after a short wait. */
async function whenStopped(pid: number): Promise<void> {
  const stat = `/proc/${pid}/stat`;
  for (let waited = 0; waited < 500; waited += 2) {
    if (!existsSync(stat)) break;
    // The state is the field after the parenthesised command name.
    const state = readFileSync(stat, 'utf8').split(') ')[1]?.[0];
    if (state === 'T' || state === 't') return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * SIGSTOP `child` at a moment it holds no write lock on the SQLite file. SQLite has one writer at
 * a time: a process frozen inside a write transaction (a heartbeat, say) blocks every other
 * writer until it resumes — nobody could rescue its jobs, which is not what this test is about
 * (the README says so under Known limits). So freeze, check the lock is free, else thaw and retry.
 */
async function freezeOutsideWriteLock(child: ChildProcess, path: string): Promise<void> {
  const probe = new Database(path, { timeout: 0 });
  try {
    for (let attempt = 1; ; attempt++) {
      child.kill('SIGSTOP');
      await whenStopped(child.pid!);
      try {
        probe.exec('BEGIN IMMEDIATE');
        probe.exec('ROLLBACK');
        return;
      } catch (error) {
        if (attempt >= 200) throw error;
        child.kill('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    }
  } finally {
    probe.close();
  }
}

async function setUpFile(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-skew-proc-'));
  const path = join(dir, 'jobs.db');
  const client = await createJobwire({ driver: sqliteDriver({ path }), tasks: [work] });
  const workers: WorkerProcess[] = [];
  t.after(async () => {
    await killWorkers(workers);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** A worker whose wall clock is moved by the preload (CLOCK_SKEW_MS, CLOCK_STEP_MS). */
  const spawnWorker = (name: string, env: Record<string, string>) => {
    const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import ${PRELOAD}`.trim();
    const worker = startWorker(path, join(dir, `${name}.log`), { ...env, NODE_OPTIONS: nodeOptions });
    workers.push(worker);
    return worker;
  };
  const executions = (name: string): Execution[] => readExecutions(join(dir, `${name}.log`));
  const enqueue = async (count: number) =>
    (
      await client.enqueueMany(
        Array.from({ length: count }, (_, i) => ({
          task: work,
          payload: { i },
        })),
      )
    ).map((job) => job.id);
  return { client, path, spawnWorker, executions, enqueue };
}

/** Wait until `count` jobs ended, completed or abandoned. */
async function settled(client: Jobwire, count: number): Promise<void> {
  await until(
    async () => {
      const counts = await client.countJobs();
      return counts.completed + counts.abandoned === count;
    },
    120_000,
    'every job ended',
  );
}

/** Stop a worker with SIGTERM and check it shut down gracefully. */
async function stopGracefully(w: WorkerProcess, name: string): Promise<void> {
  w.child.kill('SIGTERM');
  const exit = await w.exited;
  assert.ok(
    exit.signal === 'SIGTERM' || exit.code === 0,
    `${name} exit ${JSON.stringify(exit)}\n${w.output()}`,
  );
  assert.match(w.output(), /^stopped$/m, `${name} stopped gracefully`);
}

/**
 * Every job ran exactly once and completed; no worker saw a rescue, an abandonment, a lost lease
 * or an error. The counts are compared as one object, so a failure shows all of them.
 */
async function assertRanOnce(
  t: TestContext,
  ctx: Awaited<ReturnType<typeof setUpFile>>,
  ids: readonly string[],
  workers: Record<string, WorkerProcess>,
) {
  const perJob = new Map<string, number>();
  for (const name of Object.keys(workers)) {
    for (const e of ctx.executions(name)) perJob.set(e.jobId, (perJob.get(e.jobId) ?? 0) + 1);
  }
  const events = (name: string) => Object.values(workers).flatMap((w) => w.events(name)).length;
  const counts = await ctx.client.countJobs();
  const summary = {
    ranTwice: [...perJob.values()].filter((n) => n > 1).length,
    neverRan: ids.filter((id) => !perJob.has(id)).length,
    rescued: events('job:rescued'),
    abandoned: counts.abandoned,
    leaseLost: events('job:lease-lost'),
    poolErrors: Object.values(workers).filter((w) => /^event pool:error/m.test(w.output())).length,
    completed: counts.completed,
  };
  t.diagnostic(JSON.stringify(summary));
  assert.deepEqual(summary, {
    ranTwice: 0,
    neverRan: 0,
    rescued: 0,
    abandoned: 0,
    leaseLost: 0,
    poolErrors: 0,
    completed: ids.length,
  });
  for (const name of Object.keys(workers)) assert.ok(ctx.executions(name).length > 0, `${name} ran jobs`);
}

describe('SQLite worker processes whose wall clocks disagree', () => {
  // 3 processes × 4 slots, 600 jobs of 50 ms: about 2.5 s of work or more, many leases of 1 s.
  const JOBS = 600;
  const common = { LEASE_MS: String(LEASE), CONCURRENCY: '4', TASK_MODE: 'sleep:50', PRINT_EVENTS: EVENTS };

  it('clocks a minute ahead and a minute behind: no job rescued, abandoned or run twice', async (t) => {
    const ctx = await setUpFile(t);
    const workers = {
      ahead: ctx.spawnWorker('ahead', { ...common, CLOCK_SKEW_MS: String(SKEW) }),
      behind: ctx.spawnWorker('behind', { ...common, CLOCK_SKEW_MS: String(-SKEW) }),
      right: ctx.spawnWorker('right', common),
    };
    await Promise.all(Object.values(workers).map((w) => w.ready));
    const ids = await ctx.enqueue(JOBS);
    await settled(ctx.client, JOBS);
    await assertRanOnce(t, ctx, ids, workers);
    // The skew was real: each process stamped its first start with its own clock, against the
    // enqueue time the test's clock stamped (its first job started well within 30 s of that).
    for (const [name, skew] of [
      ['ahead', SKEW],
      ['behind', -SKEW],
      ['right', 0],
    ] as const) {
      const run = ctx.executions(name)[0]!;
      const job = (await ctx.client.getJob(run.jobId))!;
      const offset = job.startedAt!.getTime() - job.createdAt.getTime() - skew;
      assert.ok(Math.abs(offset) < SKEW / 2, `${name} stamped a start with its clock (${offset} ms off)`);
    }
    for (const [name, w] of Object.entries(workers)) await stopGracefully(w, name);
  });

  it('wall clocks stepped by ±90 s in the middle of a run: no job rescued, abandoned or run twice', async (t) => {
    const ctx = await setUpFile(t);
    const workers = {
      forward: ctx.spawnWorker('forward', { ...common, CLOCK_STEP_MS: '90000' }),
      back: ctx.spawnWorker('back', { ...common, CLOCK_STEP_MS: '-90000' }),
      still: ctx.spawnWorker('still', common),
    };
    await Promise.all(Object.values(workers).map((w) => w.ready));
    const ids = await ctx.enqueue(JOBS);
    await until(async () => (await ctx.client.countJobs()).completed >= JOBS / 4, 60_000, 'a quarter done');
    workers.forward.child.kill('SIGUSR2');
    workers.back.child.kill('SIGUSR2');
    await until(() => /^clock-stepped 90000$/m.test(workers.forward.output()), 10_000, 'forward stepped');
    await until(() => /^clock-stepped -90000$/m.test(workers.back.output()), 10_000, 'back stepped');
    const left = JOBS - (await ctx.client.countJobs()).completed;
    t.diagnostic(`${left} jobs left when the clocks stepped`);
    assert.ok(left > 0, 'the steps landed mid-run');
    await settled(ctx.client, JOBS);
    await assertRanOnce(t, ctx, ids, workers);
    for (const [name, w] of Object.entries(workers)) await stopGracefully(w, name);
  });

  it('SIGSTOP past the lease, then SIGCONT: the jobs run again elsewhere, the frozen writes are fenced off', async (t) => {
    const ctx = await setUpFile(t);
    const ids = await ctx.enqueue(4);
    const env = { LEASE_MS: '1500', LEADER_TTL_MS: '1000', CONCURRENCY: '4', PRINT_EVENTS: EVENTS };
    // Its handlers end 2 s in, while it is frozen: on SIGCONT they try to complete at once. Its
    // clock is a minute ahead, so the expiry it stored says its leases have a minute left.
    const frozen = ctx.spawnWorker('frozen', {
      ...env,
      TASK_MODE: 'sleep:2000',
      CLOCK_SKEW_MS: String(SKEW),
    });
    await frozen.ready;
    await until(
      () => ctx.executions('frozen').length === 4,
      20_000,
      'the frozen worker running all four jobs',
    );
    await freezeOutsideWriteLock(frozen.child, ctx.path);
    const frozenAt = Date.now();
    // The frozen worker was the leader: the rescuer takes over after watching it silent for the
    // leader ttl (1 s), then rescues the jobs after watching them silent for the lease (1.5 s).
    // Its attempts take 2.5 s and the frozen worker is woken as soon as all four started, so it
    // wakes while they run under new tokens.
    const rescuer = ctx.spawnWorker('rescuer', { ...env, TASK_MODE: 'sleep:2500' });
    await rescuer.ready;
    await until(() => ctx.executions('rescuer').length === 4, 30_000, 'the rescuer re-running all four jobs');
    const rescuedMs = Date.now() - frozenAt;
    t.diagnostic(`jobs rescued and re-run ${rescuedMs} ms after SIGSTOP (leader ttl 1 s + lease 1.5 s)`);
    assert.ok(rescuedMs < 30_000, 'rescued long before the skewed stored expiry (a minute away)');
    frozen.child.kill('SIGCONT');
    await until(
      () => new Set(frozen.events('job:lease-lost').map((e) => e.jobId)).size === 4,
      15_000,
      'the resumed worker reporting every lease lost',
    );
    assert.deepEqual(frozen.events('job:completed'), [], 'no completion of the resumed worker applied');
    await until(() => rescuer.events('job:completed').length === 4, 30_000, 'the rescuer completing');
    assert.equal(rescuer.events('job:rescued').length, 4, 'the rescuer (leader now) rescued all four');

    // At least once, with fencing: each job ran in both processes; the rescuer's result stands.
    const frozenPid = frozen.child.pid!;
    const rescuerPid = rescuer.child.pid!;
    const runs = [...ctx.executions('frozen'), ...ctx.executions('rescuer')];
    for (const id of ids) {
      assert.deepEqual(
        runs.filter((e) => e.jobId === id).map((e) => e.pid),
        [frozenPid, rescuerPid],
        `job ${id} executions`,
      );
      const job = await ctx.client.getJob(id);
      assert.equal(job?.state, 'completed');
      assert.equal(job.result, rescuerPid, `job ${id}: the new owner's result stands`);
    }
    assert.ok(frozen.child.exitCode === null && frozen.child.signalCode === null, 'the resumed worker runs');
    await stopGracefully(rescuer, 'rescuer');
    await stopGracefully(frozen, 'frozen');
  });
});
