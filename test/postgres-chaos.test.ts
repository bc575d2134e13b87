/**
 * Chaos with real OS processes on PostgreSQL (test/fixtures/worker-process.ts), checked against the
 * per-execution record and the stored jobs, never against counters alone:
 *
 * - a worker killed with SIGKILL mid-job: another process runs its jobs again after the lease
 *   expires (within a generous bound), as attempt 1 again (an interruption does not use up an
 *   attempt), and every job ends completed;
 * - a worker frozen with SIGSTOP past its lease: another process rescues its jobs; woken with
 *   SIGCONT while the rescuer runs them, the frozen one's completions and heartbeats are rejected
 *   by the fencing token (it reports `job:lease-lost`), the rescuer's results stand, and the
 *   resumed process keeps working;
 * - every backend of the workers terminated with `pg_terminate_backend`, repeatedly, while thousands
 *   of jobs run: no worker exits, every job runs exactly once, and the LISTEN connections come back
 *   (with polling all but off, a new job is still picked up at once).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobwire, defineTask } from '../src/index.js';
import { until } from './support/harness.js';
import { getAdminPool, postgresDatabases } from './support/postgres.js';
import {
  type Execution,
  killWorkers,
  readExecutions,
  startWorker,
  type WorkerProcess,
} from './support/processes.js';

/** The fixture's task; only its name and types matter here (the parent runs no pool). */
const work = defineTask<{ i: number }, number>({ name: 'work', handler: async () => 0 });

/** A fresh schema, a client on it, and worker processes that are all killed when the test ends. */
async function setUp(t: TestContext, options: { applicationName?: string } = {}) {
  const db = await postgresDatabases.create();
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-chaos-'));
  const client = await createJobwire({ driver: await db.open(), tasks: [work] });
  const workers: WorkerProcess[] = [];
  t.after(async () => {
    await killWorkers(workers);
    await client.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  // The URL part of `postgres://…?application_name=…#schema` reaches pg, where it overrides the
  // driver's own application_name (values parsed from connectionString win).
  const url = new URL(db.location);
  if (options.applicationName) url.searchParams.set('application_name', options.applicationName);
  const location = url.toString();
  const spawnWorker = (name: string, env: Record<string, string>) => {
    const worker = startWorker(location, join(dir, `${name}.log`), env);
    workers.push(worker);
    return worker;
  };
  const executions = (name: string): Execution[] => readExecutions(join(dir, `${name}.log`));
  const enqueue = async (count: number, queue = 'default') => {
    const ids: string[] = [];
    for (let start = 0; start < count; start += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - start) }, (_, k) => ({
        task: work,
        payload: { i: start + k },
        options: { queue },
      }));
      for (const job of await client.enqueueMany(batch)) ids.push(job.id);
    }
    return ids;
  };
  return { client, spawnWorker, executions, enqueue };
}

const alive = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;

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

describe('PostgreSQL worker processes under chaos', () => {
  it('SIGKILL mid-job: another process re-runs the same attempt once the lease expires', async (t) => {
    const { client, spawnWorker, executions, enqueue } = await setUp(t);
    const ids = await enqueue(6);
    // A leader ttl of 1 s: the rescuer takes over the maintenance from the killed one sooner.
    const lease = { LEASE_MS: '1500', CONCURRENCY: '6', LEADER_TTL_MS: '1000' };
    // The victim's jobs would take 20 s: the kill always lands while all six are running.
    const victim = spawnWorker('victim', { ...lease, TASK_MODE: 'sleep:20000' });
    await victim.ready;
    await until(() => executions('victim').length === 6, 20_000, 'the victim running all six jobs');
    const rescuer = spawnWorker('rescuer', { ...lease, TASK_MODE: 'sleep:300' });
    await rescuer.ready;
    assert.equal(executions('rescuer').length, 0, 'the rescuer found every job leased');

    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    assert.equal((await victim.exited).signal, 'SIGKILL');
    await until(() => executions('rescuer').length === 6, 30_000, 'the rescuer re-running all six jobs');
    const rerunMs = Date.now() - killedAt;
    assert.ok(rerunMs < 15_000, `re-run ${rerunMs} ms after the kill (lease 1.5 s)`);
    await until(async () => (await client.countJobs()).completed === 6, 20_000, 'all six completed');
    t.diagnostic(`jobs re-run ${rerunMs} ms after SIGKILL`);

    const victimPid = victim.child.pid!;
    const rescuerPid = rescuer.child.pid!;
    const runs = [...executions('victim'), ...executions('rescuer')];
    for (const id of ids) {
      const mine = runs.filter((e) => e.jobId === id).map((e) => `${e.attempt}@${e.pid}`);
      // The kill interrupted attempt 1; it is given back, so the rescuer runs attempt 1 again.
      assert.deepEqual(mine, [`1@${victimPid}`, `1@${rescuerPid}`], `job ${id} executions`);
      const job = await client.getJob(id);
      assert.equal(job?.state, 'completed');
      assert.equal(job.attempt, 1);
      assert.equal(job.interruptions, 1);
      assert.equal(job.result, rescuerPid);
      assert.deepEqual(
        job.errors.map((e) => e.name),
        ['LeaseExpiredError'],
      );
    }
    const counts = await client.countJobs();
    assert.equal(counts.running + counts.pending + counts.scheduled, 0, 'nothing left running');
    await stopGracefully(rescuer, 'rescuer');
  });

  it('SIGSTOP past the lease, then SIGCONT: the fence rejects the frozen writes, the rescue stands', async (t) => {
    const { client, spawnWorker, executions, enqueue } = await setUp(t);
    const ids = await enqueue(4);
    const env = {
      LEASE_MS: '1500',
      LEADER_TTL_MS: '1000',
      CONCURRENCY: '4',
      PRINT_EVENTS: 'job:lease-lost,job:completed,pool:error',
    };
    // Its handlers end 2 s in, while it is frozen: on SIGCONT they try to complete at once.
    const frozen = spawnWorker('frozen', { ...env, TASK_MODE: 'sleep:2000' });
    await frozen.ready;
    await until(() => executions('frozen').length === 4, 20_000, 'the frozen worker running all four jobs');
    const frozenAt = Date.now();
    frozen.child.kill('SIGSTOP');
    // The rescuer's attempts take 2.5 s (the frozen worker wakes at most ~1 s into them), so the
    // frozen worker wakes while they run under new tokens.
    const rescuer = spawnWorker('rescuer', { ...env, TASK_MODE: 'sleep:2500' });
    await rescuer.ready;
    await until(() => executions('rescuer').length === 4, 30_000, 'the rescuer re-running all four jobs');
    t.diagnostic(`jobs rescued and re-run ${Date.now() - frozenAt} ms after SIGSTOP`);
    // Stay frozen past the handlers' end, so the resumed process really tries to complete them.
    await sleep(Math.max(0, frozenAt + 3_000 - Date.now()));
    frozen.child.kill('SIGCONT');
    await until(
      () => new Set(frozen.events('job:lease-lost').map((e) => e.jobId)).size === 4,
      15_000,
      'the resumed worker reporting every lease lost',
    );
    assert.deepEqual(frozen.events('job:completed'), [], 'no completion of the resumed worker applied');
    assert.deepEqual(
      frozen
        .events('job:lease-lost')
        .map((e) => e.attempt)
        .sort(),
      [1, 1, 1, 1],
    );
    // Its own completions are reported once applied, after they commit: wait for the reports.
    await until(() => rescuer.events('job:completed').length === 4, 30_000, 'the rescuer completing');
    const rescuerPid = rescuer.child.pid!;
    assert.deepEqual(
      rescuer.events('job:completed').map((e) => e.attempt),
      [1, 1, 1, 1],
    );
    for (const id of ids) {
      const job = await client.getJob(id);
      assert.equal(job?.state, 'completed');
      assert.equal(job.attempt, 1, 'the expired lease gave its attempt back');
      assert.equal(job.interruptions, 1);
      assert.equal(job.result, rescuerPid, `job ${id}: the new owner's result stands`);
    }
    assert.deepEqual(
      executions('rescuer')
        .map((e) => `${e.jobId}:${e.attempt}`)
        .sort(),
      ids.map((id) => `${id}:1`).sort(),
    );

    // The resumed process did not crash and still works: alone now, it runs a new job.
    assert.ok(alive(frozen), `the resumed worker is running\n${frozen.output()}`);
    await stopGracefully(rescuer, 'rescuer');
    const [late] = await enqueue(1);
    await until(async () => (await client.getJob(late!))?.state === 'completed', 15_000, 'the late job');
    assert.equal((await client.getJob(late!))?.result, frozen.child.pid);
    await stopGracefully(frozen, 'frozen');
  });

  it('pg_terminate_backend on every worker connection, repeatedly: no exit, no loss, no duplicate', async (t) => {
    const applicationName = `jobwire-chaos-${randomBytes(6).toString('hex')}`;
    const { client, spawnWorker, executions, enqueue } = await setUp(t, { applicationName });
    const admin = await getAdminPool();
    /** Terminate this test's worker backends only: other test files share the server. */
    const terminate = async (): Promise<number> => {
      const { rows } = await admin.query(
        'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return rows.filter((r) => r.done).length;
    };
    const JOBS = 3_000;
    const ids = await enqueue(JOBS);
    const env = { TASK_MODE: 'sleep:40', CONCURRENCY: '10', LEASE_MS: '5000', PRINT_EVENTS: 'pool:error' };
    // a and b poll at the library's default; c polls every 10 minutes and alone serves `probe`, so
    // a probe job reaches it only by NOTIFY or by the wake-up that follows a LISTEN reconnect.
    const names = ['a', 'b', 'c'];
    const workers = [
      spawnWorker('a', { ...env, POLL_MS: '1000' }),
      spawnWorker('b', { ...env, POLL_MS: '1000' }),
      spawnWorker('c', { ...env, POLL_MS: '600000', QUEUES: 'default,probe' }),
    ];
    await Promise.all(workers.map((w) => w.ready));

    // At most 3 × 10 slots × 25 runs/s of 40 ms: the backlog takes 4 s or more, so these land mid-run.
    // (Longer jobs rather than more of them: the same 4 s with half the claims and completions.)
    const connected = async () => {
      const { rows } = await admin.query(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return rows[0].n >= names.length;
    };
    const terminated: number[] = [];
    while (terminated.length < 6 && (await client.countJobs()).completed < JOBS) {
      await sleep(300);
      await until(connected, 10_000, 'the workers connected again');
      terminated.push(await terminate());
    }
    t.diagnostic(`backends terminated per round: ${terminated.join(', ')}`);
    assert.ok(terminated.length >= 5, `several rounds while jobs ran (${terminated.length})`);
    await until(async () => (await client.countJobs()).completed === JOBS, 60_000, 'every job completed');
    for (const [i, w] of workers.entries()) {
      assert.ok(alive(w), `worker ${names[i]} running\n${w.output()}`);
      assert.match(w.output(), /LISTEN connection lost/, `worker ${names[i]} lost its LISTEN connection`);
    }
    const failed = new Map<string, number>();
    for (const w of workers) {
      for (const [line, operation] of w.output().matchAll(/^event pool:error (\S+) .*$/gm)) {
        failed.set(operation!, (failed.get(operation!) ?? 0) + 1);
        // Not "check the URL": the connection was dropped, and the operation is retried.
        assert.match(line, /Lost the connection to PostgreSQL at .* during /);
      }
    }
    t.diagnostic(`failed (and retried) operations: ${JSON.stringify(Object.fromEntries(failed))}`);

    const runs = names.flatMap((name) => executions(name));
    const perJob = new Map<string, number>();
    for (const e of runs) perJob.set(e.jobId, (perJob.get(e.jobId) ?? 0) + 1);
    assert.deepEqual(
      [...perJob].filter(([, n]) => n > 1),
      [],
      'no job ran twice',
    );
    assert.deepEqual([...perJob.keys()].sort(), [...ids].sort(), 'every job ran');
    const counts = await client.countJobs();
    assert.equal(counts.completed, JOBS);
    assert.equal(counts.running + counts.pending + counts.scheduled, 0);

    // Terminated once more: c's LISTEN connection comes back and hears NOTIFY, and the others
    // find new work too (NOTIFY or polling). First enqueued while reconnecting, then after.
    for (let round = 0; round < 2; round++) {
      await until(connected, 10_000, 'the workers connected');
      assert.ok((await terminate()) > 0, 'backends to terminate');
      if (round === 1) await sleep(1_000);
      const enqueuedAt = Date.now();
      const [probe] = await enqueue(1, 'probe');
      const [plain] = await enqueue(1);
      for (const id of [probe!, plain!]) {
        await until(
          async () => (await client.getJob(id))?.state === 'completed',
          10_000,
          `job ${id} completed`,
        );
      }
      const doneMs = Date.now() - enqueuedAt;
      assert.ok(doneMs < 5_000, `new jobs done ${doneMs} ms after enqueue (c polls every 10 min)`);
      assert.deepEqual(
        executions('c').filter((e) => e.jobId === probe),
        [{ jobId: probe, attempt: 1, pid: workers[2]!.child.pid }],
      );
      t.diagnostic(`round ${round}: new jobs done ${doneMs} ms after enqueue`);
    }
    for (const [i, w] of workers.entries()) await stopGracefully(w, names[i]!);
  });
});
