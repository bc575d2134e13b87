/**
 * `jobwire events` on every driver: a tail in another process prints what this one commits and
 * ends cleanly on SIGTERM; a tail resumed from a cursor continues a page without repeating or
 * skipping an event; filters; an expired or foreign cursor; a job's timeline.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { ConformanceDatabases } from '../../src/driver/conformance/index.js';
import { type Driver, defineTask, type Jobwire } from '../../src/index.js';
import { runCliInProcess as jobwire, lines, spawnCli } from '../support/cli.js';
import { startCliInProcess } from '../support/cli-live.js';
import { testPool, withClient } from '../support/harness.js';

const ok = defineTask({ name: 'ok', queue: 'mail', handler: async () => 'sent' });
const doomed = defineTask({
  name: 'doomed',
  queue: 'media',
  maxAttempts: 1,
  handler: async () => {
    throw new Error('disk on fire');
  },
});
let flakyRuns = 0;
const flaky = defineTask({
  name: 'flaky',
  queue: 'media',
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 0 },
  handler: async () => {
    if (flakyRuns++ === 0) throw new Error('first try fails');
    return 'fine';
  },
});
/** An error whose end says what to do: a line cut to fit a terminal would lose it. */
const LONG_ERROR =
  'upstream refused the request: HTTP 503 from https://payments.example.com/v2/charges ' +
  '(request id 7f3a9c2e-1b44-4d8a-9e0f-223344556677); retry after 30s';
const wordy = defineTask({
  name: 'wordy',
  queue: 'media',
  maxAttempts: 1,
  handler: async () => {
    throw new Error(LONG_ERROR);
  },
});
const tasks = [ok, doomed, flaky, wordy];

/** A logged event as `--json` prints it. */
interface JsonEvent {
  cursor: string;
  type: string;
  at: number;
  data: { jobId?: string; queue?: string };
}

const jsonLines = (text: string): JsonEvent[] => lines(text).map((line) => JSON.parse(line) as JsonEvent);

/** Run every job due now on a pool, then stop it. */
async function runJobs(client: Jobwire): Promise<void> {
  const pool = client.createPool({ ...testPool, queues: ['mail', 'media'] });
  await pool.start();
  await pool.whenIdle();
  await pool.stop();
}

/** A client on a fresh database, and its driver (for pruning). */
async function setUp(
  t: TestContext,
  factory: ConformanceDatabases,
  options: { processEvents?: boolean } = {},
) {
  let driver: Driver | undefined;
  const { client, db } = await withClient(t, factory, {
    tasks,
    // Without the pools' own events (written a moment later, batched), what a test reads back
    // is exactly what its writes committed, whenever it reads.
    events: options.processEvents ? {} : { processEvents: [] },
    wrapDriver: (d) => {
      driver = d;
      return d;
    },
  });
  return { client, location: db.location, driver: driver! };
}

/** Run the `jobwire events` suite on `factory`'s databases. */
export function runCliEventsSuite(factory: ConformanceDatabases): void {
  describe(`jobwire events on ${factory.name}`, () => {
    test('tail in another process prints each committed event as one line; SIGTERM exits 0', async (t) => {
      const { client, location } = await setUp(t, factory, { processEvents: true });
      const child = spawnCli(['events', 'tail', '--db', location], { stdin: 'ignore' });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.on('close', (code, signal) => resolve({ code, signal }));
      });
      const waitFor = async (what: string, check: () => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!check()) {
          if (child.exitCode !== null || Date.now() > deadline) {
            throw new Error(`no ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      try {
        // The banner comes after the tail pinned "now": everything committed later is printed.
        await waitFor('banner', () => /tailing events of .* from now/.test(stderr));
        const sent = await client.enqueue(ok, {});
        const burnt = await client.enqueue(doomed, {});
        await runJobs(client);
        await waitFor('the abandoned job', () => new RegExp(` job:abandoned +#${burnt.id} `).test(stdout));
        await waitFor('the completed job', () => new RegExp(` job:completed +#${sent.id} `).test(stdout));
        // Events no stored change causes (the pool's) come from the writing process, batched.
        await waitFor('pool:stopped', () => / pool:stopped +pool /.test(stdout));
        const printed = lines(stdout);
        for (const line of printed) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
        const time = String.raw`\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)`;
        const line = (type: string, id: string) =>
          printed.find((l) => l.includes(`${type} `) && l.includes(`#${id} `));
        assert.match(
          line('job:queued', sent.id)!,
          new RegExp(`^${time}  job:queued +#${sent.id} +mail/ok +0/3$`),
        );
        assert.match(
          line('job:completed', sent.id)!,
          new RegExp(`^${time}  job:completed +#${sent.id} +mail/ok +1/3 +in \\d+ms$`),
        );
        assert.match(line('job:failed', burnt.id)!, /media\/doomed +1\/1 +final: disk on fire$/);
        assert.match(line('job:abandoned', burnt.id)!, /attempts-exhausted: disk on fire$/);
        // Events no stored change causes (the pool's) come from the writing process too.
        assert.ok(
          printed.some((l) => / pool:stopped +pool /.test(l)),
          stdout,
        );
      } finally {
        child.kill('SIGTERM');
      }
      const { code, signal } = await exited;
      assert.equal(signal, null, stderr);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /^stopped; resume with: jobwire events tail --from \S+$/m);
    });

    test('tail --from a page cursor continues it: no event twice, none missed; live events follow', async (t) => {
      const { client, location } = await setUp(t, factory);
      const origin = await client.events.head();
      for (let i = 0; i < 3; i++) await client.enqueue(ok, { i });
      await client.enqueue(doomed, {});
      await runJobs(client);

      const all = await jobwire([
        'events',
        'read',
        '--json',
        '--from',
        origin,
        '--limit',
        '10000',
        '--db',
        location,
      ]);
      assert.equal(all.code, 0, all.stderr);
      const everything = JSON.parse(all.stdout) as { events: JsonEvent[]; cursor: string; more: boolean };
      assert.equal(everything.more, false);
      assert.ok(everything.events.length > 10, all.stdout);

      const first = await jobwire([
        'events',
        'read',
        '--json',
        '--from',
        origin,
        '--limit',
        '4',
        '--db',
        location,
      ]);
      const page = JSON.parse(first.stdout) as { events: JsonEvent[]; cursor: string; more: boolean };
      assert.equal(page.events.length, 4);
      assert.equal(page.more, true);

      const tail = startCliInProcess(['events', 'tail', '--json', '--from', page.cursor, '--db', location]);
      try {
        const rest = everything.events.length - 4;
        await tail.until(`${rest} events`, (out) => lines(out).length >= rest);
        const late = await client.enqueue(ok, { late: true });
        await tail.until('the late job', (out) => out.includes(`"jobId":"${late.id}"`));
      } finally {
        assert.equal(await tail.stop(), 0, tail.stderr());
      }
      const tailed = jsonLines(tail.stdout());
      // Each job here runs once, so type and job name an event. (Not the cursor: on PostgreSQL an
      // event's cursor also says how far the read that returned it looked.)
      const key = (e: JsonEvent) => `${e.type} ${e.data.jobId}`;
      assert.deepEqual(
        [...page.events, ...tailed.slice(0, everything.events.length - 4)].map(key),
        everything.events.map(key),
      );
      const lateEvents = tailed.slice(everything.events.length - 4);
      assert.deepEqual(
        lateEvents.map((e) => e.type),
        ['job:queued'],
      );
      assert.equal(new Set(tailed.map(key)).size, tailed.length, 'no event twice');
      assert.match(
        tail.stderr(),
        new RegExp(
          `resume with: jobwire events tail --from ${tailed.at(-1)!.cursor.replace(/\./g, '\\.')}$`,
          'm',
        ),
      );
    });

    test('--type, --queue and --job filter tail and read', async (t) => {
      const { client, location } = await setUp(t, factory);
      const origin = await client.events.head();
      const mail = await client.enqueue(ok, {});
      const burnt = [await client.enqueue(doomed, {}), await client.enqueue(doomed, {})];
      await runJobs(client);

      const tail = startCliInProcess([
        'events',
        'tail',
        '--json',
        '--from',
        origin,
        '--type',
        'job:completed,job:abandoned',
        '--queue',
        'media',
        '--db',
        location,
      ]);
      try {
        // Everything was committed before the tail started: its first read holds all that matches.
        await tail.until('two abandoned jobs', (out) => lines(out).length >= 2);
      } finally {
        assert.equal(await tail.stop(), 0, tail.stderr());
      }
      assert.deepEqual(
        jsonLines(tail.stdout()).map((e) => `${e.type} ${e.data.jobId}`),
        burnt.map((job) => `job:abandoned ${job.id}`),
      );

      const read = async (...args: string[]) => {
        const run = await jobwire(['events', 'read', '--json', '--from', origin, ...args, '--db', location]);
        assert.equal(run.code, 0, run.stderr);
        return (JSON.parse(run.stdout) as { events: JsonEvent[] }).events;
      };
      const mailJobEvents = await read('--type', 'job:*', '--queue', 'mail');
      assert.deepEqual(
        mailJobEvents.map((e) => e.type),
        ['job:queued', 'job:started', 'job:completed'],
      );
      assert.ok(mailJobEvents.every((e) => e.data.jobId === mail.id));
      const oneJob = await read('--job', burnt[1]!.id);
      assert.deepEqual(
        oneJob.map((e) => e.type),
        ['job:queued', 'job:started', 'job:failed', 'job:abandoned'],
      );
      const repeated = await read(
        '--type',
        'job:queued',
        '--type',
        'job:abandoned',
        '--job',
        mail.id,
        '--job',
        burnt[0]!.id,
      );
      assert.deepEqual(
        repeated.map((e) => `${e.type} ${e.data.jobId}`),
        [`job:queued ${mail.id}`, `job:queued ${burnt[0]!.id}`, `job:abandoned ${burnt[0]!.id}`],
      );
    });

    test('an expired cursor says what to do and exits 1; a foreign cursor is a usage error', async (t) => {
      const { client, location, driver } = await setUp(t, factory);
      await client.enqueue(ok, {});
      const old = await client.events.head();
      // Write, move the head on and prune everything older than a minute from now, until the
      // pruning reaches past `old` (PostgreSQL prunes whole ticks, taken at most every few ms).
      for (let round = 0; ; round++) {
        await client.enqueue(ok, {});
        await client.events.head();
        await driver.eventPrune({ before: Date.now() + 60_000, limit: 10_000 });
        const expired = await client.events.read({ after: old }).then(
          () => false,
          (error: Error) => error.name === 'EventCursorExpiredError',
        );
        if (expired) break;
        assert.ok(round < 200, 'the cursor never expired');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const sub of ['tail', 'read']) {
        const run = await jobwire(['events', sub, '--from', old, '--db', location]);
        assert.equal(run.code, 1, `${sub}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, /^error: The event cursor ".+" is older than the oldest event kept/m);
        assert.match(run.stderr, /^hint: run again with --from start .* or --from now/m);
        assert.equal(run.stdout, '');
      }
      const fromStart = await jobwire(['events', 'read', '--from', 'start', '--db', location]);
      assert.equal(fromStart.code, 0, fromStart.stderr);

      for (const sub of ['tail', 'read']) {
        const run = await jobwire(['events', sub, '--from', 'x9.1.2', '--db', location]);
        assert.equal(run.code, 2, `${sub}: ${run.stderr}`);
        assert.match(run.stderr, /^error: --from "x9\.1\.2" is not an event cursor of this database/m);
      }
    });

    test('written to a file or a pipe, a line is never cut: a long error keeps what it says to do', async (t) => {
      const { client, location } = await setUp(t, factory);
      const job = await client.enqueue(wordy, {});
      await runJobs(client);
      const run = await jobwire(['events', '--job', job.id, '--db', location]);
      assert.equal(run.code, 0, run.stderr);
      const failed = lines(run.stdout).find((line) => / job:failed +#/.test(line));
      assert.ok(failed?.endsWith(LONG_ERROR), `cut: ${failed}`);
    });

    test('events --job <id> (= events job <id>): the timeline oldest first; an unknown job exits 1', async (t) => {
      const { client, location } = await setUp(t, factory);
      flakyRuns = 0;
      const job = await client.enqueue(flaky, { video: 7 });
      const other = await client.enqueue(ok, {});
      await runJobs(client);

      const byFlag = await jobwire(['events', '--job', job.id, '--db', location]);
      assert.equal(byFlag.code, 0, byFlag.stderr);
      const bySub = await jobwire(['events', 'job', job.id, '--db', location]);
      assert.equal(bySub.stdout, byFlag.stdout);
      const [date, ...events] = lines(byFlag.stdout);
      assert.match(date!, /^── \d{4}-\d\d-\d\d ──$/);
      assert.deepEqual(
        events.map((line) => line.split(/\s+/).slice(1, 5).join(' ')),
        [
          `job:queued #${job.id} media/flaky 0/3`,
          `job:started #${job.id} media/flaky 1/3`,
          `job:failed #${job.id} media/flaky 1/3`,
          `job:retrying #${job.id} media/flaky 1/3`,
          `job:started #${job.id} media/flaky 2/3`,
          `job:completed #${job.id} media/flaky 2/3`,
        ],
      );
      assert.ok(!byFlag.stdout.includes(`#${other.id} `), 'no other job');
      assert.match(events[2]!, /will retry: first try fails$/);

      const json = await jobwire(['events', 'job', job.id, '--json', '--db', location]);
      const timeline = JSON.parse(json.stdout) as JsonEvent[];
      assert.deepEqual(
        timeline.map((e) => e.type),
        ['job:queued', 'job:started', 'job:failed', 'job:retrying', 'job:started', 'job:completed'],
      );

      // The log outlives the row.
      assert.equal(await client.deleteJob(job.id), true);
      const deleted = await jobwire(['events', '--job', job.id, '--db', location]);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /job:completed/);

      const unknown = await jobwire(['events', '--job', '987654', '--db', location]);
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /^error: job 987654 does not exist, and the event log holds no events of it$/m,
      );
      assert.equal(unknown.stdout, '');
    });
  });
}
