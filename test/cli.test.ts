/**
 * The `jobwire` CLI, each test on its own temporary SQLite database. Most runs call the CLI's
 * entry function in this process with captured output (the code the executable runs, without a
 * node + tsx start per call); the runs where the process is the point — reading stdin, relative
 * paths from the working directory, SIGTERM to a worker, the real executable's exit codes —
 * spawn it the way a user does (node --import tsx src/cli/main.ts …).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createJobwire, JOB_LIST_SCAN_CAP, openDriver } from '../src/index.js';
import {
  runCliInProcess as jobwire,
  lines,
  ROOT,
  runCliProcess,
  spawnCli,
  useCliTestEnvironment,
} from './support/cli.js';

useCliTestEnvironment();

let dir: string;
let counter = 0;
/** A fresh database path in the test's temporary directory. */
const freshDb = () => join(dir, `jobs-${++counter}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('help and usage errors', () => {
  test('--help of the CLI and of every command exits 0 and prints usage', async () => {
    const helps = [
      ['--help'],
      ['help'],
      ['help', 'enqueue'],
      ['dev', '--help'],
      ['worker', '--help'],
      ['enqueue', '--help'],
      ['jobs', '--help'],
      ['jobs', 'ls', '--help'],
      ['jobs', 'show', '--help'],
      ['jobs', 'retry', '--help'],
      ['jobs', 'cancel', '--help'],
      ['jobs', 'delete', '--help'],
      ['queues', '--help'],
      ['queues', 'ls', '--help'],
      ['queues', 'pause', '--help'],
      ['stats', '--help'],
      ['migrate', '--help'],
    ];
    const runs = await Promise.all(helps.map((args) => jobwire(args)));
    runs.forEach((run, i) => {
      const what = `jobwire ${helps[i]!.join(' ')}`;
      assert.equal(run.code, 0, `${what}: ${run.stderr}`);
      assert.match(run.stdout, /Usage/, what);
      assert.equal(run.stderr, '', what);
    });
    assert.match(runs[3]!.stdout, /every 25 %/, 'dev --help says progress lines are throttled');
  });

  test('an unknown command exits 2 naming it, with a hint', async () => {
    const run = await jobwire(['frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^error: unknown command "frobnicate"/m);
    assert.match(run.stderr, /^hint: .*jobwire --help/m);
    const typo = await jobwire(['josb', 'ls']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean "jobwire jobs"/);
    const sub = await jobwire(['jobs', 'lss']);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /unknown subcommand "jobs lss".*\n.*did you mean "jobwire jobs ls"/);
  });

  test('an unknown or malformed option exits 2 naming it, without a stack', async () => {
    const unknown = await jobwire(['dev', '--jobz', '3']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /error: unknown option --jobz for "jobwire dev"/);
    assert.match(unknown.stderr, /jobwire dev --help/);
    const bad = await jobwire(['dev', '--concurrency', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--concurrency must be an integer/);
    const missing = await jobwire(['jobs', 'ls', '--limit']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /option --limit needs a value/);
    const conflict = await jobwire(['dev', '--rate', '2', '--exit-when-done']);
    assert.equal(conflict.code, 2);
    for (const run of [unknown, bad, missing, conflict]) assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  test('an operation that fails exits 1 with "error: <message>" and no stack unless --debug', async () => {
    const missing = await jobwire(['stats', '--db', join(dir, 'nope.db')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: the database .*nope\.db does not exist/m);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
    const debug = await jobwire(['stats', '--db', join(dir, 'nope.db'), '--debug']);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /);
  });
});

// The demo runs on real time (seconds of simulated work): its two runs overlap.
describe('dev', { concurrency: true }, () => {
  test('--json --exit-when-done: one JSON object per line, one final event per job, retries visible', async () => {
    const db = freshDb();
    const run = await jobwire(
      [
        'dev',
        '--db',
        db,
        '--jobs',
        '30',
        '--exit-when-done',
        '--json',
        '--seed',
        '42',
        '--concurrency',
        '10',
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    const events: { event: string; jobId?: string; [key: string]: unknown }[] = [];
    for (const [i, line] of lines(run.stdout).entries()) {
      try {
        events.push(JSON.parse(line));
      } catch {
        assert.fail(`stdout line ${i + 1} is not JSON: ${line}`);
      }
    }
    for (const event of events) assert.equal(typeof event.event, 'string');

    const queued = new Set(events.filter((e) => e.event === 'job:queued').map((e) => e.jobId));
    assert.equal(
      queued.size,
      30,
      'the 30 demo jobs were queued (the unique-key duplicates are not new jobs)',
    );
    const finals = events.filter((e) =>
      ['job:completed', 'job:abandoned', 'job:cancelled'].includes(e.event),
    );
    const finalIds = finals.map((e) => e.jobId);
    assert.equal(new Set(finalIds).size, finalIds.length, 'no job has two final events');
    assert.deepEqual(new Set(finalIds), queued, 'every queued job reached exactly one final state');

    const count = (name: string) => events.filter((e) => e.event === name).length;
    assert.ok(count('job:retrying') >= 1, 'at least one retry');
    assert.ok(count('job:abandoned') >= 1, 'at least one abandoned job');
    assert.ok(count('job:cancelled') >= 1, 'the demo cancels a running video');
    assert.equal(count('pool:stopped'), 1);

    const summary = events.at(-1)!;
    assert.equal(summary.event, 'summary', 'the last line is the summary');
    assert.equal(summary.jobs, 30);
    assert.equal(summary.unfinished, 0);
    assert.equal(summary.seed, 42);
    assert.equal(summary.completed, count('job:completed'));
    assert.equal(summary.retries, count('job:retrying'));
    assert.equal(summary.failedAttempts, count('job:failed'));
    assert.deepEqual((summary.databaseCheck as { ok: boolean }).ok, true);
    assert.ok(Object.keys(summary.tasks as object).length >= 4);
  });

  test('readable mode: aligned event lines within 80 columns, x/N done, an end line, the summary', async () => {
    const db = freshDb();
    const run = await jobwire(
      ['dev', '--db', db, '--jobs', '12', '--exit-when-done', '--seed', '5', '--concurrency', '8'],
      { timeoutMs: 60_000 },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes('\u001b['), 'no colour when stdout is not a terminal');
    const tooWide = run.stdout.split('\n').filter((line) => line.length > 80);
    assert.deepEqual(tooWide, [], 'every line fits an 80-column terminal');
    const blank = run.stdout.indexOf('\n\n');
    assert.ok(blank > 0, 'a blank line separates the events from the summary');
    const stream = run.stdout.slice(0, blank);
    const summary = run.stdout.slice(blank + 2);
    const banner = lines(stream).slice(0, 3);
    const streamLines = lines(stream).slice(3);
    assert.match(
      banner.join('\n'),
      /times in ((\S+ \()?UTC[+-]\d\d:\d\d|UTC )/,
      'the banner names the time zone',
    );
    const eventLine = /^\d\d:\d\d:\d\d\.\d{3} ([a-z]+:[a-z-]+) +\S/;
    const note = /^ {13}\S/; // a wrapped detail, or a note, under the event names
    const endLine = /^all 12 demo jobs done in \S+, at \d\d:\d\d:\d\d\.\d{3}$/;
    for (const line of streamLines) {
      assert.ok(eventLine.test(line) || note.test(line) || endLine.test(line), `not an event line: ${line}`);
    }
    const names = streamLines.map((line) => eventLine.exec(line)?.[1]).filter(Boolean);
    assert.equal(names.filter((n) => n === 'job:queued').length, 12);
    assert.equal(names.filter((n) => n === 'pool:stopped').length, 1);
    assert.equal(names.filter((n) => n?.startsWith('worker:')).length, 0, 'no per-slot lines');
    // The event name column has a fixed width, so the job columns line up.
    const jobIdColumns = new Set(
      streamLines.filter((line) => /job:(started|completed)/.test(line)).map((line) => line.indexOf('#')),
    );
    assert.equal(jobIdColumns.size, 1, 'job ids start in the same column');
    const final = names.filter(
      (n) => n === 'job:completed' || n === 'job:abandoned' || n === 'job:cancelled',
    );
    assert.equal(final.length, 12);
    const progress = streamLines.filter((line) => / \d+\/12 done · /.test(line));
    assert.ok(progress.length >= 6, 'a running x/N done');
    assert.match(progress.at(-1)!, /12\/12 done/);
    assert.equal(streamLines.filter((line) => endLine.test(line)).length, 1, 'one end line');

    const table = lines(summary);
    assert.match(table[0]!, /^task +jobs +done +failed +retry +aband\. +canc\. +wait +run +p95$/);
    assert.ok(table.some((line) => /^send-email +\d+/.test(line)));
    assert.ok(table.some((line) => /^total +12 +\d+/.test(line)));
    assert.ok(
      table.some((line) => /^12 jobs: \d+ done, \d+ abandoned, \d+ cancelled, 0 unfinished$/.test(line)),
    );
    assert.ok(
      table.some((line) => /^busy \S+ \(first start to last finish\) · [\d.]+ jobs\/s · wall /.test(line)),
    );
    assert.ok(table.some((line) => /database agrees/.test(line)));
  });

  test('the busy time and jobs/s leave out the idle time before Ctrl-C', async () => {
    const db = freshDb();
    // Without the demo's schedules: their jobs would run in the idle time and count as busy.
    const child = spawnCli(['dev', '--db', db, '--jobs', '3', '--seed', '3', '--json', '--no-schedules'], {
      stdin: 'ignore',
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/all 3 demo jobs done/.test(stderr)) {
      assert.ok(Date.now() < deadline, `no end line: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // idle, as a user reading the output
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const summary = JSON.parse(lines(stdout).at(-1)!) as { busyTimeMs: number; wallTimeMs: number };
    assert.ok(
      summary.wallTimeMs - summary.busyTimeMs >= 1500,
      `busy ${summary.busyTimeMs} ms must leave out the idle time (wall ${summary.wallTimeMs} ms)`,
    );
  });
});

describe('enqueue and jobs', () => {
  test('jobs ls and jobs show say which zone their local times are in', async () => {
    const db = freshDb();
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Kolkata';
      // Due 2030-01-02 03:04:05 UTC: 08:34:05 in Kolkata.
      const delay = String(Date.UTC(2030, 0, 2, 3, 4, 5) - Date.now());
      const enqueued = await jobwire(['enqueue', 'later', '{}', '--delay', delay, '--db', db]);
      assert.equal(enqueued.code, 0, enqueued.stderr);
      const table = await jobwire(['jobs', 'ls', '--db', db]);
      const [header, row] = lines(table.stdout);
      assert.match(header!, / run at \(UTC\+05:30\) /);
      assert.match(row!, / 2030-01-02 08:34:0[45] /);
      const shown = await jobwire(['jobs', 'show', enqueued.stdout.trim(), '--db', db]);
      assert.match(shown.stdout, /^job #\d+ {2}times in Asia\/(Kolkata|Calcutta) \(UTC\+05:30\)$/m);
      process.env.TZ = 'UTC';
      assert.match(lines((await jobwire(['jobs', 'ls', '--db', db])).stdout)[0]!, / run at \(UTC\) /);
      const inUtc = await jobwire(['jobs', 'show', enqueued.stdout.trim(), '--db', db]);
      assert.match(inUtc.stdout, /^job #\d+ {2}times in UTC$/m);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test('enqueue, then jobs ls / show / cancel / retry / delete round trip', async () => {
    const db = freshDb();
    const enqueued = await jobwire([
      'enqueue',
      'send-email',
      '{"to": "ada@example.com"}',
      '--queue',
      'emails',
      '--priority',
      '3',
      '--max-attempts',
      '5',
      '--db',
      db,
    ]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    const id = enqueued.stdout.trim();
    assert.match(id, /^\d+$/, 'prints the job id');

    const asJson = await jobwire([
      'enqueue',
      'resize',
      '{"w": 10}',
      '--delay',
      '60000',
      '--json',
      '--db',
      db,
    ]);
    assert.equal(asJson.code, 0, asJson.stderr);
    const record = JSON.parse(asJson.stdout) as {
      id: string;
      state: string;
      task: string;
      duplicate: boolean;
    };
    assert.equal(record.task, 'resize');
    assert.equal(record.state, 'scheduled');
    assert.equal(record.duplicate, false);

    const listed = await jobwire(['jobs', 'ls', '--json', '--db', db]);
    assert.equal(listed.code, 0, listed.stderr);
    const page = JSON.parse(listed.stdout) as {
      jobs: { id: string; state: string }[];
      nextCursor: string | null;
    };
    assert.deepEqual(
      page.jobs.map((job) => [job.id, job.state]),
      [
        [record.id, 'scheduled'],
        [id, 'pending'],
      ],
    );

    const table = await jobwire(['jobs', 'ls', '--db', db, '--limit', '1']);
    assert.equal(table.code, 0, table.stderr);
    const [header, row, more] = lines(table.stdout);
    assert.match(header!, /^ *id +task +queue +state +attempt +run at \(UTC[^)]*\) +age +last error$/);
    assert.match(row!, new RegExp(`^ *${record.id} +resize +default +scheduled +0/3 `));
    assert.match(more!, new RegExp(`--cursor ${record.id}`), 'prints the next cursor');
    const filtered = await jobwire(['jobs', 'ls', '--db', db, '--queue', 'emails', '--state', 'pending']);
    assert.equal(lines(filtered.stdout).length, 2);
    const badState = await jobwire(['jobs', 'ls', '--db', db, '--state', 'pendng']);
    assert.equal(badState.code, 2);
    assert.match(badState.stderr, /did you mean "pending"/);

    const shown = await jobwire(['jobs', 'show', id, '--db', db]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^job #${id}  times in `, 'm'));
    assert.match(shown.stdout, /^ {2}queue +emails$/m);
    assert.match(shown.stdout, /^ {2}attempt +0\/5$/m);
    assert.match(shown.stdout, /"to": "ada@example.com"/);

    const cancelled = await jobwire(['jobs', 'cancel', id, '--db', db]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`cancelled #${id}`));
    const state = async () =>
      (JSON.parse((await jobwire(['jobs', 'show', id, '--json', '--db', db])).stdout) as { state: string })
        .state;
    assert.equal(await state(), 'cancelled');

    const retried = await jobwire(['jobs', 'retry', id, '--db', db]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(await state(), 'pending');
    const notRetryable = await jobwire(['jobs', 'retry', id, '--db', db]);
    assert.equal(notRetryable.code, 1, 'a pending job cannot be retried');
    assert.match(notRetryable.stderr, /^error: .*pending/m);

    const missing = await jobwire(['jobs', 'cancel', '99999', '--db', db]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: Job 99999 does not exist/);

    const deleted = await jobwire(['jobs', 'delete', id, '--db', db]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await jobwire(['jobs', 'show', id, '--db', db]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /does not exist/);
  });

  test('jobs ls: a page that stopped at the scan cap still gives the --cursor that goes on', async () => {
    const db = freshDb();
    const driver = await openDriver(db);
    await driver.migrate();
    const client = await createJobwire({ driver, strictTasks: false });
    const enqueue = (queue: string, count: number) =>
      client.enqueueMany(
        Array.from({ length: count }, (_, i) => ({ task: 't', payload: { i }, options: { queue } })),
      );
    const [old] = await enqueue('old', 1);
    await enqueue('filler', JOB_LIST_SCAN_CAP - 1);
    const [recent] = await enqueue('old', 1);
    await client.close();

    // The newest JOB_LIST_SCAN_CAP jobs hold one match: a short page, then the hint to go on.
    const short = await jobwire(['jobs', 'ls', '--db', db, '--queue', 'old', '--limit', '5']);
    assert.equal(short.code, 0, short.stderr);
    const [, row, hint] = lines(short.stdout);
    assert.match(row!, new RegExp(`^ *${recent!.id} +t +old +pending`));
    assert.match(
      hint!,
      /no more matches among the newest 10,000 jobs; older jobs may match: jobwire jobs ls --cursor \d+/,
    );
    const cursor = /--cursor (\d+)/.exec(hint!)![1]!;
    const rest = await jobwire(['jobs', 'ls', '--db', db, '--queue', 'old', '--cursor', cursor]);
    assert.equal(lines(rest.stdout).length, 2, rest.stdout);
    assert.match(lines(rest.stdout)[1]!, new RegExp(`^ *${old!.id} +t +old +pending`));

    // An empty page with a cursor is not "no jobs match".
    const empty = await jobwire(['jobs', 'ls', '--db', db, '--state', 'cancelled']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(
      empty.stdout,
      /^no matches among the newest 10,000 jobs; older jobs may match\nmore: jobwire jobs ls --cursor \d+ \(same filters\)\n$/,
    );
  });

  test('enqueue reads the payload from stdin with "-" and reports unique-key duplicates', async () => {
    const db = freshDb();
    // Reading stdin is a property of the process: this run is the real executable.
    const first = await runCliProcess(['enqueue', 'report', '-', '--unique-key', 'daily', '--db', db], {
      input: '{"day": "2026-11-26"}\n',
    });
    assert.equal(first.code, 0, first.stderr);
    const again = await jobwire(['enqueue', 'report', '{}', '--unique-key', 'daily', '--db', db]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), first.stdout.trim(), 'the existing job is returned');
    assert.match(again.stderr, /already pending; no new job was added/);
    const shown = JSON.parse(
      (await jobwire(['jobs', 'show', first.stdout.trim(), '--json', '--db', db])).stdout,
    );
    assert.deepEqual(shown.payload, { day: '2026-11-26' });
  });

  test('enqueue with invalid JSON exits 1 and says where', async () => {
    const db = freshDb();
    const run = await jobwire(['enqueue', 'send-email', '{"to": "ada",}', '--db', db]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: invalid JSON payload .*line 1, column 14 \(position 13\)/m);
    assert.match(run.stderr, /JSON/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    const fromStdin = await runCliProcess(['enqueue', 'send-email', '-', '--db', db], {
      input: '{\n  "a": tru\n}',
    });
    assert.equal(fromStdin.code, 1);
    assert.match(fromStdin.stderr, /invalid JSON payload \(stdin\) at line 2/);
  });

  test('queues pause/resume, stats and migrate', async () => {
    const db = freshDb();
    const migrated = await jobwire(['migrate', '--db', db]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /migrated schema from version 0 to \d+/);
    const again = await jobwire(['migrate', '--db', db, '--json']);
    assert.deepEqual(JSON.parse(again.stdout).applied, []);

    await jobwire(['enqueue', 'a', '--queue', 'alpha', '--db', db]);
    await jobwire(['enqueue', 'b', '--queue', 'beta', '--db', db]);
    const paused = await jobwire(['queues', 'pause', 'alpha', '--db', db]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /paused queue "alpha"/);
    const queues = await jobwire(['queues', 'ls', '--db', db]);
    assert.match(queues.stdout, /^alpha +paused +0 +0 +1 /m);
    assert.match(queues.stdout, /^beta +active +0 +0 +1 /m);
    const stats = await jobwire(['stats', '--db', db]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(
      stats.stdout,
      /^queue +blocked +scheduled +pending +running +completed +abandoned +cancelled +all$/m,
    );
    assert.match(stats.stdout, /^total +0 +0 +2 +0 +0 +0 +0 +2$/m);
    const statsJson = JSON.parse((await jobwire(['stats', '--json', '--db', db])).stdout);
    assert.equal(statsJson.queues.alpha.paused, true);
    assert.equal(statsJson.total.pending, 2);
    const resumed = await jobwire(['queues', 'resume', 'alpha', '--db', db]);
    assert.match(resumed.stdout, /resumed queue "alpha"/);
  });
});

describe('worker', { concurrency: true }, () => {
  test('worker --tasks runs enqueued jobs, enqueue --wait gets the result, SIGTERM exits 0', async () => {
    const work = await mkdtemp(join(dir, 'worker-'));
    const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
    await writeFile(
      join(work, 'tasks.mjs'),
      `import { defineTask, UnrecoverableError } from ${JSON.stringify(index)};
export const double = defineTask({ name: 'double', handler: async ({ n }) => ({ doubled: n * 2 }) });
const refuse = defineTask({ name: 'refuse', maxAttempts: 1, handler: async () => { throw new UnrecoverableError('no thanks'); } });
export default [double, refuse];
export const notATask = 42;
`,
    );
    // The worker is a real process (it gets SIGTERM) started in `work`: its relative paths
    // resolve from there, so it serves the jobs.db the in-process runs name absolutely.
    const db = join(work, 'jobs.db');
    const enqueued = await jobwire(['enqueue', 'double', '{"n": 21}', '--db', db]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    const id = enqueued.stdout.trim();

    const child = spawnCli(
      ['worker', '--tasks', './tasks.mjs', '--db', './jobs.db', '--json', '--concurrency', '2'],
      { cwd: work, stdin: 'ignore' },
    );
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    const completed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no job:completed for #${id}\n${stdout}\n${stderr}`)),
        20_000,
      );
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (
          lines(stdout).some(
            (line) => line.includes('"event":"job:completed"') && line.includes(`"jobId":"${id}"`),
          )
        ) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      await completed;
      const waited = await jobwire([
        'enqueue',
        'double',
        '{"n": 5}',
        '--wait',
        '--timeout',
        '15000',
        '--db',
        db,
      ]);
      assert.equal(waited.code, 0, waited.stderr);
      const [newId, ...result] = lines(waited.stdout);
      assert.match(newId!, /^\d+$/);
      assert.deepEqual(JSON.parse(result.join('\n')), { doubled: 10 });

      const refused = await jobwire(['enqueue', 'refuse', '--wait', '--db', db]);
      assert.equal(refused.code, 1, 'an abandoned job makes --wait exit 1');
      assert.match(refused.stderr, /^error: Job \d+ was abandoned: no thanks/m);
    } finally {
      child.kill('SIGTERM');
    }
    const { code, signal } = await exited;
    assert.equal(signal, null, stderr);
    assert.equal(code, 0, `exits 0 after a graceful stop\n${stderr}`);

    const events = lines(stdout).map((line) => JSON.parse(line) as { event: string });
    assert.ok(events.some((e) => e.event === 'shutdown:requested'));
    assert.ok(events.some((e) => e.event === 'pool:stopped'));
    assert.equal(events.at(-1)!.event, 'summary');
    const shown = JSON.parse((await jobwire(['jobs', 'show', id, '--json', '--db', db])).stdout);
    assert.equal(shown.state, 'completed');
    assert.deepEqual(shown.result, { doubled: 42 });
  });

  test('worker refuses a module without tasks, and a missing --tasks', async () => {
    const work = await mkdtemp(join(dir, 'empty-'));
    await writeFile(join(work, 'none.mjs'), 'export const x = 1;\n');
    // The real executable in `work`: relative paths resolve from its directory, and the exit
    // codes are the process's own.
    const [none, missing] = await Promise.all([
      runCliProcess(['worker', '--tasks', './none.mjs', '--db', './jobs.db'], { cwd: work }),
      runCliProcess(['worker', '--db', './jobs.db'], { cwd: work }),
    ]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /error: no tasks found in \.\/none\.mjs/);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--tasks <module> is required/);
  });
});

describe('formatting', () => {
  test('a time no Date can hold prints as "invalid date", never NaN-NaN-NaN', async () => {
    const { dateTime } = await import('../src/cli/format.js');
    for (const ms of [8.64e15 + 1, Number.NaN, Number.POSITIVE_INFINITY, 1e20]) {
      assert.equal(dateTime(ms), 'invalid date');
    }
    assert.match(dateTime(Date.UTC(2030, 0, 1, 12)), /^2030-01-01 \d\d:00:00$/);
  });
});
