/**
 * The durable event log across real processes (`ConformanceDatabase.startProcess`, with the roles
 * of ./event-log-child.ts): writers committing in random order while readers are SIGKILLed and
 * restarted read exactly the committed state changes, per job in order, with no gap and no
 * duplicate; a caller's transaction held open delays only its own events; a second process
 * follows every event of jobs run by the first across a restart. Part of `runClientConformance`.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createJobwire, type Jobwire } from '../../../core/client.js';
import type { JobRecord } from '../../../core/types.js';
import type { ConformanceDatabase, ConformanceDatabases } from './databases.js';
import { eventLine, FLAKY_TASK, PROCESS_QUEUE } from './event-log-child.js';
import { until } from './harness.js';

/** Written into a subscriber's file between a SIGKILL and its restart. */
const RESTART = 'restart';

/** A child process of the suite. */
interface Child {
  child: ChildProcess;
  /** Resolves when the child printed `line` on a line of its own. */
  printed(line: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL it and wait until it is gone. */
  kill(): Promise<void>;
}

/** A fresh database whose processes the test tracks; everything is killed and dropped after it. */
async function setUp(t: TestContext, databases: ConformanceDatabases) {
  const db: ConformanceDatabase = await databases.create();
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-event-log-'));
  const children: Child[] = [];
  let client: Jobwire | undefined;
  let closing = false;
  t.after(async () => {
    closing = true;
    await Promise.all(children.map((c) => c.kill()));
    await client?.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.ok(db.startProcess, `${databases.name}: this suite needs ConformanceDatabase.startProcess`);
  const driver = await db.open();
  // Migrates the database before any child opens it.
  client = await createJobwire({ driver });
  const start = (role: string, args: Record<string, unknown> = {}): Child => {
    const child = db.startProcess!({
      JOBWIRE_CONFORMANCE_ROLE: role,
      JOBWIRE_CONFORMANCE_ARGS: JSON.stringify(args),
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const handle: Child = {
      child,
      printed: (line, timeoutMs = 15_000) =>
        until(
          () => {
            if (child.exitCode !== null) throw new Error(`${role} exited (${child.exitCode}):\n${out}`);
            return out.split('\n').includes(line);
          },
          timeoutMs,
          `${role} to print ${line}`,
        ),
      async kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
    children.push(handle);
    return handle;
  };
  return { db, driver, client, dir, start, closing: () => closing };
}

/**
 * A reader process started again whenever it dies (by its own SIGKILL or the test's), until the
 * test ends; `onRestart` runs between a death and the next start.
 */
function supervise(start: (life: number) => Child, closing: () => boolean, onRestart: () => void = () => {}) {
  let restarts = 0;
  let stopped = false;
  let current: Child;
  const launch = () => {
    current = start(restarts);
    current.child.once('exit', () => {
      if (stopped || closing()) return;
      restarts++;
      onRestart();
      launch();
    });
  };
  launch();
  return {
    ready: () => current.printed('ready'),
    /** SIGKILL the running process once it is reading (it is started again). */
    async kill() {
      const reader = current;
      await reader.printed('ready').catch(() => {}); // it may die on its own first
      await reader.kill();
    },
    /** SIGKILL it for good. */
    stop() {
      stopped = true;
      return current.kill();
    },
  };
}

/** One line of a reader's file. */
interface ReadLine {
  cursor: string;
  type: string;
  jobId: string;
  attempt: string;
  poolId: string;
  digest: string;
}

/** The whole lines of a reader's file (RESTART markers as lines of type RESTART). */
function readLines(file: string): ReadLine[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map(readLine);
}

/** One line parsed (a RESTART marker as a line of type RESTART). */
function readLine(text: string): ReadLine {
  const line = text.trimEnd();
  const [cursor, type, jobId, attempt, poolId, digest] =
    line === RESTART ? ['', RESTART, '-', '-', '-', '-'] : line.split(' ');
  return { cursor: cursor!, type: type!, jobId: jobId!, attempt: attempt!, poolId: poolId!, digest: digest! };
}

/** What identifies an event whatever read returned it (a cursor depends on the read). */
const key = (line: ReadLine) => `${line.type} ${line.jobId} ${line.attempt} ${line.poolId} ${line.digest}`;

/** Every event in the log, read in pages from the start in this process, as lines. */
async function wholeLog(client: Jobwire): Promise<ReadLine[]> {
  const lines: ReadLine[] = [];
  let after = 'start';
  for (;;) {
    const page = await client.events.read({ after, limit: 1000 });
    for (const event of page.events) lines.push(readLine(eventLine(event)));
    after = page.cursor;
    if (!page.more) return lines;
  }
}

/**
 * A subscriber's lines with the at-least-once redelivery removed: after a restart, the events
 * handled since its last stored position come again, in order — only those. Any other repeat
 * stays, for the checks to find. For job events only (others have no identity).
 */
function withoutRedelivery(lines: readonly ReadLine[]): ReadLine[] {
  const kept: ReadLine[] = [];
  // After a restart, the events since the last stored position come again, in order: a run of
  // lines equal to the tail of what was kept (one event where the position moves per event, up
  // to a page where it moves per page, as on PostgreSQL). `replay` walks that tail.
  let replay: number | null = null;
  let restarted = false;
  for (const line of lines) {
    if (line.type === RESTART) {
      restarted = true;
      continue;
    }
    if (restarted) {
      restarted = false;
      replay = null;
      for (let j = kept.length - 1; j >= Math.max(0, kept.length - 1000); j--) {
        if (key(kept[j]!) === key(line)) {
          replay = j;
          break;
        }
      }
    }
    if (replay !== null && replay < kept.length && key(kept[replay]!) === key(line)) {
      replay++;
      continue;
    }
    replay = null;
    kept.push(line);
  }
  return kept;
}

/**
 * The events a job's stored state implies, in order: queued; per attempt started, then failed
 * and retrying, except the last, which completed, or failed and was abandoned.
 */
function expectedChain(job: JobRecord): string[] {
  const chain = ['job:queued@0'];
  for (let a = 1; a <= job.attempt; a++) {
    chain.push(`job:started@${a}`);
    if (a < job.attempt) chain.push(`job:failed@${a}`, `job:retrying@${a}`);
    else if (job.state === 'completed') chain.push(`job:completed@${a}`);
    else chain.push(`job:failed@${a}`, `job:abandoned@${a}`);
  }
  return chain;
}

/** `lines` of the given jobs, as `type@attempt` per job id, in the order read. */
function perJob(lines: readonly ReadLine[], jobIds: ReadonlySet<string>): Map<string, string[]> {
  const byJob = new Map<string, string[]>();
  for (const line of lines) {
    if (!line.type.startsWith('job:') || !jobIds.has(line.jobId)) continue;
    const list = byJob.get(line.jobId) ?? [];
    list.push(`${line.type}@${line.attempt}`);
    byJob.set(line.jobId, list);
  }
  return byJob;
}

/** True when `total` jobs of the suite's queue exist and all are final (completed or abandoned). */
async function allFinal(client: Jobwire, total: number): Promise<boolean> {
  const jobs = (await client.listJobs({ queue: PROCESS_QUEUE, limit: 1000 })).jobs;
  return jobs.length === total && jobs.every((j) => j.state === 'completed' || j.state === 'abandoned');
}

/** Every job of the suite's queue, once all are final (completed or abandoned). */
async function finalJobs(client: Jobwire, total: number): Promise<JobRecord[]> {
  let jobs: JobRecord[] = [];
  await until(
    async () => {
      jobs = (await client.listJobs({ queue: PROCESS_QUEUE, limit: 1000 })).jobs;
      return jobs.length === total && jobs.every((j) => j.state === 'completed' || j.state === 'abandoned');
    },
    20_000,
    `${total} jobs to finish`,
  );
  return jobs;
}

/** Assert the reader saw exactly each job's chain: same events, same order, nothing twice. */
function assertChains(what: string, lines: readonly ReadLine[], jobs: readonly JobRecord[]): void {
  const read = perJob(lines, new Set(jobs.map((j) => j.id)));
  for (const job of jobs) {
    assert.deepEqual(read.get(job.id) ?? [], expectedChain(job), `${what}: job ${job.id} (${job.state})`);
  }
}

/**
 * Wait until a reader's file holds at least `count` events of the suite's jobs, a subscriber's
 * without its redeliveries.
 */
async function readerHas(file: string, jobIds: ReadonlySet<string>, count: number, what: string) {
  const seen = () =>
    [...perJob(withoutRedelivery(readLines(file)), jobIds).values()].reduce((n, l) => n + l.length, 0);
  await until(() => seen() >= count, 15_000, `${what} to read ${count} job events (read ${seen()})`);
}

export function runEventLogProcessSuite(databases: ConformanceDatabases): void {
  describe(`event log across processes (${databases.name})`, () => {
    it('writers commit in random order while readers are killed and restarted: every reader reads exactly the committed changes, per job in order', async (t) => {
      const { client, dir, start, closing } = await setUp(t, databases);
      const WRITERS = 3;
      const JOBS = 4;
      const tailed = join(dir, 'tail');
      const subscribed = join(dir, 'subscription');
      // In its first three lives, each reader also SIGKILLs itself right after some `job:failed`
      // events: it then resumes from between two events one transaction wrote (`job:retrying` or
      // `job:abandoned` follows). Three, as each restart costs a process start.
      const dieOn = (life: number) => (life < 3 ? ['job:failed'] : []);
      const readers = [
        supervise((life) => start('tail', { out: tailed, dieOn: dieOn(life) }), closing),
        supervise(
          // Filtered to the jobs' queue: fewer events to wait for (each is a transaction).
          (life) =>
            start('subscribe', {
              out: subscribed,
              name: 'processes',
              queues: [PROCESS_QUEUE],
              dieOn: dieOn(life),
            }),
          closing,
          () => appendFileSync(subscribed, `${RESTART}\n`),
        ),
      ];
      // Readers start from the start of the log: they may come up after the first writes.
      const writers = Array.from({ length: WRITERS }, () => start('writer', { jobs: JOBS }));
      await Promise.all([...readers.map((r) => r.ready()), ...writers.map((w) => w.printed('ready'))]);
      // Kill a reader (in turn) every 300–600 ms until every job is final, and each twice at
      // least; it starts again from where it had got to.
      const enqueued = Promise.all(writers.map((w) => w.printed('enqueued', 30_000)));
      for (let k = 0; k < 4 || !(await allFinal(client, WRITERS * JOBS)); k++) {
        await sleep(300 + Math.random() * 300);
        await readers[k % readers.length]!.kill();
      }
      await enqueued;

      const jobs = await finalJobs(client, WRITERS * JOBS);
      // Their work is done (and stored): the machine is the readers' now.
      await Promise.all(writers.map((w) => w.kill()));
      await sleep(200); // a COMMIT a writer sent just before it died is applied by now
      const ids = new Set(jobs.map((j) => j.id));
      const total = jobs.reduce((n, job) => n + expectedChain(job).length, 0);
      for (const file of [tailed, subscribed]) await readerHas(file, ids, total, file);
      // The writers' events (their jobs', their pools' and workers'), as read in one go here. Now
      // that they are gone, nothing adds to them; the readers' own clients write none. (But for
      // `pool:lost`, which a leader may report about their pools any time from now.)
      const ofWriters = (l: ReadLine) => ids.has(l.jobId) || (l.poolId !== '-' && l.type !== 'pool:lost');
      const expected = (await wholeLog(client)).filter(ofWriters).map(key).sort();
      await until(
        () => readLines(tailed).filter(ofWriters).length >= expected.length,
        15_000,
        `the tail to read the writers' ${expected.length} events`,
      );
      // Late events would be duplicates: give them a moment to show before checking.
      await sleep(300);
      await Promise.all(readers.map((r) => r.stop()));

      // The tail read each of them exactly once (the pools' and workers' events, whose rows hold
      // many entries, too), and each job's in the order its stored state implies.
      const tail = readLines(tailed);
      assert.deepEqual(
        tail.filter(ofWriters).map(key).sort(),
        expected,
        'the tail read the log, each event once',
      );
      assertChains('tail', tail, jobs);
      // The subscription: the same, but for the events since its last stored position, which come again.
      const subscriptionLines = readLines(subscribed);
      assertChains('subscription', withoutRedelivery(subscriptionLines), jobs);
      // Some jobs retried and some were abandoned, so the chains are not all alike.
      assert.ok(jobs.some((j) => j.attempt > 1));
    });

    it('a transaction held open for seconds delays only its own event: later commits are read at once, and it is read once it commits', async (t) => {
      const { db, driver, client, dir, start } = await setUp(t, databases);
      if (!driver.capabilities.callerTransactions || !db.connect) {
        // One writer at a time holds the database: commit order is id order, nothing to prove.
        t.skip('the driver has no caller transactions');
        return;
      }
      const out = join(dir, 'tail');
      await start('tail', { out }).printed('ready');
      const connection = await db.connect();
      let held: string;
      const others: string[] = [];
      try {
        await connection.query('BEGIN');
        held = (await client.enqueue(FLAKY_TASK, { fail: 0 }, { transaction: connection.transaction })).id;
        for (let i = 0; i < 3; i++) others.push((await client.enqueue(FLAKY_TASK, { fail: 0 })).id);
        // The held job (and its event row) drew its id before the others, which commit first: a
        // reader going by `id > cursor` moves past it on reading them, and when it commits its
        // id is behind every cursor since — its event is lost for good (a reader taking its
        // cursor from a watermark would instead stop at it, and read none of the others).
        assert.ok(BigInt(held) < BigInt(others[0]!));
        await readerHas(out, new Set(others), others.length, 'the tail, while a transaction is open');
        // Hold it a while longer: the reader goes on reading (and taking ticks) past it.
        await sleep(1_500);
        assert.equal(perJob(readLines(out), new Set([held])).size, 0, 'an uncommitted enqueue was read');
        await connection.query('COMMIT');
      } finally {
        await connection.release();
      }
      await readerHas(out, new Set([held]), 1, 'the tail, once the held transaction committed');
      await sleep(300);
      const read = perJob(readLines(out), new Set([held, ...others]));
      for (const id of [held, ...others]) assert.deepEqual(read.get(id), ['job:queued@0'], `job ${id}`);
    });

    it('a second process follows every event of the jobs a first one runs, and after a restart resumes from its stored cursor', async (t) => {
      const { driver, client, dir, start } = await setUp(t, databases);
      const JOBS = 8;
      const name = 'follower';
      const out = join(dir, name);
      const writer = start('writer', { jobs: JOBS });
      // Its jobs' events only, which each have an identity: (type, job, attempt).
      const filter = { queues: [PROCESS_QUEUE] };
      let follower = start('subscribe', { out, name, ...filter });
      await Promise.all([writer.printed('ready'), follower.printed('ready')]);
      // Handled lines alone are not enough: on PostgreSQL a page's handlers run in one transaction
      // and its cursor is stored when that commits, so a kill mid-page may leave none stored yet.
      await until(
        async () => readLines(out).length >= 5 && (await driver.eventSubscriptionGet({ name })) !== null,
        15_000,
        'the follower to handle 5 job events and store its cursor',
      );
      await follower.kill();
      const stored = await driver.eventSubscriptionGet({ name });
      assert.ok(stored !== null, 'the follower stored its cursor');
      // Jobs go on while it is down: events it must read from storage when it comes back.
      await until(
        async () => (await client.events.read({ after: stored, limit: 1000, filter })).events.length > 5,
        15_000,
        'events committed while the follower is down',
      );
      appendFileSync(out, `${RESTART}\n`);
      follower = start('subscribe', { out, name, ...filter });
      await writer.printed('enqueued', 30_000);
      const jobs = await finalJobs(client, JOBS);
      const ids = new Set(jobs.map((j) => j.id));
      const total = jobs.reduce((n, job) => n + expectedChain(job).length, 0);
      await readerHas(out, ids, total, 'the follower');
      await sleep(300);

      const lines = readLines(out);
      const restart = lines.findIndex((l) => l.type === RESTART);
      // It went on from the stored cursor: its first event is the one after it (which, when it
      // was killed while handling it, is the event it handled last — at least once).
      // A read stops after `limit` stored rows (each a transaction's events, filtered after), so
      // a limit of 1 could come back empty with `more` when the rows right after the cursor hold
      // only other events (the writer's pool and worker events, say): read far enough to find it.
      const [next] = (await client.events.read({ after: stored, limit: 1000, filter })).events;
      assert.equal(key(lines[restart + 1]!), key(readLine(eventLine(next!))));
      const read = perJob(withoutRedelivery(lines), ids);
      for (const job of jobs) {
        const timeline = (await client.jobEvents(job.id)).map(
          (e) => `${e.type}@${(e.data as { attempt: number }).attempt}`,
        );
        assert.deepEqual(timeline, expectedChain(job), `job ${job.id}: its stored timeline`);
        assert.deepEqual(read.get(job.id), timeline, `job ${job.id}: what the follower read`);
      }
    });
  });
}
