/**
 * The CLI defects of issue 12, each on its own temporary SQLite database (PostgreSQL-only
 * behaviour — `--schema`, an empty database — is in cli-postgres.test.ts): command-line values
 * (negative numbers, durations, unknown database kinds, job ids, queue names), read commands
 * that must not create the schema, bulk retry and cancel by filter, `worker --once`, the
 * worker's output (log levels, pino-compatible JSON lines) and configuration from the
 * environment and `.env` files.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { runCliInProcess as jobwire, lines, ROOT, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
let tasksModule: string;
let counter = 0;
const freshDb = () => join(dir, `jobs-${++counter}.db`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-defects-'));
  tasksModule = join(dir, 'tasks.mjs');
  const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  await writeFile(
    tasksModule,
    `import { defineTask } from ${JSON.stringify(index)};
export const echo = defineTask({ name: 'echo', queue: 'q', handler: async (payload) => payload });
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run `body` with environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Enqueue `count` echo jobs on `db` (queue q); returns their ids. */
async function enqueueEchoes(db: string, count: number, extra: string[] = []): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const run = await jobwire(['enqueue', 'echo', `{"i": ${i}}`, '--queue', 'q', '--db', db, ...extra]);
    assert.equal(run.code, 0, run.stderr);
    ids.push(run.stdout.trim());
  }
  return ids;
}

const jobOf = async (db: string, id: string) => {
  const run = await jobwire(['jobs', 'show', id, '--json', '--db', db]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as { state: string; priority: number; runAt: string; createdAt: string };
};

describe('command-line values', () => {
  test('--priority -5 is a negative priority, not an option', async () => {
    const db = freshDb();
    const run = await jobwire(['enqueue', 'echo', '--priority', '-5', '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await jobOf(db, run.stdout.trim())).priority, -5);
  });

  test('durations take units: --delay 5s, 10m, 7d; a bad one is a usage error showing the forms', async () => {
    const db = freshDb();
    for (const [text, ms] of [
      ['5s', 5_000],
      ['10m', 600_000],
      ['7d', 604_800_000],
      ['1h30m', 5_400_000],
      ['250', 250],
    ] as const) {
      const run = await jobwire(['enqueue', 'echo', '--delay', text, '--db', db]);
      assert.equal(run.code, 0, run.stderr);
      const job = await jobOf(db, run.stdout.trim());
      const delay = Date.parse(job.runAt) - Date.parse(job.createdAt);
      assert.ok(Math.abs(delay - ms) < 1000, `--delay ${text}: due ${delay} ms after creation`);
    }
    const bad = await jobwire(['enqueue', 'echo', '--delay', '5x', '--db', db]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--delay must be a duration, got "5x"/);
    assert.match(bad.stderr, /5s, 1\.5s, 10m, 2h, 7d/);
  });

  test('--db mysql://x is a usage error naming the kinds of database jobwire opens', async () => {
    const run = await jobwire(['stats', '--db', 'mysql://x']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown kind of database "mysql:"/);
    assert.match(run.stderr, /postgres:.*sqlite:|sqlite:.*postgres:/);
  });

  test('jobs show abc is a usage error (exit 2), as is retry/cancel/delete of a non-id', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 1);
    for (const sub of ['show', 'retry', 'cancel', 'delete']) {
      const run = await jobwire(['jobs', sub, 'abc', '--db', db]);
      assert.equal(run.code, 2, `jobs ${sub} abc: ${run.stderr}`);
      assert.match(run.stderr, /"abc" is not a job id/);
    }
    const missing = await jobwire(['jobs', 'show', '999', '--db', db]);
    assert.equal(missing.code, 1, 'a well-formed id that does not exist is a failure, not a usage error');
  });

  test('queues pause nosuchqueue fails naming the known queues; --force pauses it anyway', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 1);
    const typo = await jobwire(['queues', 'pause', 'qq', '--db', db]);
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /no queue "qq"/);
    assert.match(typo.stderr, /did you mean "q"\?/);
    const resume = await jobwire(['queues', 'resume', 'nosuchqueue', '--db', db]);
    assert.equal(resume.code, 1);
    const forced = await jobwire(['queues', 'pause', 'later', '--force', '--db', db]);
    assert.equal(forced.code, 0, forced.stderr);
    const known = await jobwire(['queues', 'pause', 'q', '--db', db]);
    assert.equal(known.code, 0, known.stderr);
    const listed = await jobwire(['queues', 'ls', '--json', '--db', db]);
    const paused = (JSON.parse(listed.stdout) as { name: string; paused: boolean }[])
      .filter((q) => q.paused)
      .map((q) => q.name);
    assert.deepEqual(paused.sort(), ['later', 'q']);
  });
});

describe('read commands never create the schema', () => {
  test('stats, jobs ls, queues ls, tasks and workers on an empty file say it is not initialised', async () => {
    const db = freshDb();
    new Database(db).close(); // an existing, empty SQLite file
    for (const args of [['stats'], ['jobs', 'ls'], ['queues', 'ls'], ['tasks'], ['workers']]) {
      const run = await jobwire([...args, '--db', db]);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      assert.match(run.stderr, /is not initialised for jobwire/);
      assert.match(run.stderr, /jobwire migrate/);
    }
    const file = new Database(db, { readonly: true });
    const tables = file.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    file.close();
    assert.deepEqual(tables, [], 'no table was created');
  });
});

describe('bulk retry and cancel by filter', () => {
  test('jobs cancel --queue q --state pending, then jobs retry --state cancelled --queue q', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 3);
    const other = await jobwire(['enqueue', 'echo', '--queue', 'other', '--db', db]);
    assert.equal(other.code, 0, other.stderr);
    const cancelled = await jobwire(['jobs', 'cancel', '--queue', 'q', '--state', 'pending', '--db', db]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /cancelled 3 jobs/);
    assert.equal((await jobOf(db, other.stdout.trim())).state, 'pending', 'another queue is untouched');
    const retried = await jobwire(['jobs', 'retry', '--state', 'cancelled', '--queue', 'q', '--db', db]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /retried 3 jobs/);
    const stats = JSON.parse((await jobwire(['stats', '--json', '--db', db])).stdout) as {
      total: Record<string, number>;
    };
    assert.equal(stats.total.pending, 4);
    assert.equal(stats.total.cancelled, 0);

    const wrongState = await jobwire(['jobs', 'retry', '--state', 'pending', '--db', db]);
    assert.equal(wrongState.code, 2);
    assert.match(wrongState.stderr, /does not act on state "pending"/);
    const both = await jobwire(['jobs', 'cancel', '1', '--queue', 'q', '--db', db]);
    assert.equal(both.code, 2);
    const neither = await jobwire(['jobs', 'cancel', '--db', db]);
    assert.equal(neither.code, 2);
  });
});

describe('worker', () => {
  test('--once runs every due job, then stops gracefully and exits 0 with the summary', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 5);
    await enqueueEchoes(db, 1, ['--delay', '1h']);
    const run = await jobwire(['worker', '--tasks', tasksModule, '--db', db, '--once', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const events = lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = events.at(-1)!;
    assert.equal(summary.event, 'summary');
    assert.equal(summary.completed, 5);
    assert.ok(events.some((e) => e.event === 'pool:stopping' && /--once/.test(String(e.reason))));
    const stats = JSON.parse((await jobwire(['stats', '--json', '--db', db])).stdout) as {
      total: Record<string, number>;
    };
    assert.equal(stats.total.completed, 5);
    assert.equal(stats.total.scheduled, 1, 'a job not due yet waits for the next run');
  });

  test('--json lines are pino-compatible: time, level and msg on every line', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 2);
    const run = await jobwire(['worker', '--tasks', tasksModule, '--db', db, '--once', '--json']);
    assert.equal(run.code, 0, run.stderr);
    for (const line of lines(run.stdout)) {
      const entry = JSON.parse(line) as { time: unknown; level: unknown; msg: unknown; event: unknown };
      assert.equal(typeof entry.time, 'number', line);
      assert.ok(Math.abs((entry.time as number) - Date.now()) < 60_000, line);
      assert.ok([20, 30, 40, 50].includes(entry.level as number), line);
      assert.equal(typeof entry.msg, 'string', line);
      assert.ok((entry.msg as string).length > 0, line);
      assert.equal(typeof entry.event, 'string', line);
    }
    const completed = lines(run.stdout)
      .map((line) => JSON.parse(line) as { event: string; msg: string; level: number })
      .find((e) => e.event === 'job:completed')!;
    assert.equal(completed.level, 30);
    assert.match(completed.msg, /completed/);
  });

  test('no per-slot lifecycle lines by default (not 3 × concurrency); --log-level debug shows them', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 1);
    const args = ['worker', '--tasks', tasksModule, '--db', db, '--once', '--concurrency', '8'];
    const plain = await jobwire(args);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(
      lines(plain.stdout).filter((line) => /worker:(created|started|stopped|idle|busy)/.test(line)),
      [],
    );
    assert.equal(lines(plain.stdout).filter((line) => /job:completed/.test(line)).length, 1);
    await enqueueEchoes(db, 1);
    const debug = await jobwire([...args, '--json', '--log-level', 'debug']);
    assert.equal(debug.code, 0, debug.stderr);
    const created = lines(debug.stdout).filter((line) => line.includes('"event":"worker:created"'));
    assert.equal(created.length, 8);
    assert.ok(created.every((line) => (JSON.parse(line) as { level: number }).level === 20));
    const warnOnly = await jobwire([...args, '--log-level', 'warn']);
    assert.equal(warnOnly.code, 0, warnOnly.stderr);
    assert.ok(!/job:|pool:/.test(warnOnly.stdout.split('\n\n')[0]!), 'nothing below warn');
    const bad = await jobwire([...args, '--log-level', 'verbose']);
    assert.equal(bad.code, 2);
  });
});

describe('configuration from the environment', () => {
  test('JOBWIRE_DATABASE_URL, JOBWIRE_TASKS, JOBWIRE_CONCURRENCY and JOBWIRE_ONCE drive a worker; flags win', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 2);
    const run = await withEnv(
      { JOBWIRE_DATABASE_URL: db, JOBWIRE_TASKS: tasksModule, JOBWIRE_CONCURRENCY: '3', JOBWIRE_ONCE: '1' },
      () => jobwire(['worker', '--json']),
    );
    assert.equal(run.code, 0, run.stderr);
    const events = lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(events.find((e) => e.event === 'pool:started')?.concurrency, 3);
    assert.equal(events.at(-1)?.completed, 2);

    await enqueueEchoes(db, 1);
    const flagWins = await withEnv(
      { JOBWIRE_DATABASE_URL: join(dir, 'elsewhere.db'), JOBWIRE_CONCURRENCY: '3' },
      () => jobwire(['worker', '--tasks', tasksModule, '--db', db, '--concurrency', '2', '--once', '--json']),
    );
    assert.equal(flagWins.code, 0, flagWins.stderr);
    const started = lines(flagWins.stdout)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e.event === 'pool:started');
    assert.equal(started?.concurrency, 2);

    const bad = await withEnv({ JOBWIRE_CONCURRENCY: 'ten' }, () =>
      jobwire(['worker', '--tasks', tasksModule, '--db', db, '--once']),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /JOBWIRE_CONCURRENCY/, 'the error names the variable, not a flag nobody typed');
  });

  test('--env-file loads a .env file with Node’s loader; variables already set win', async () => {
    const db = freshDb();
    await enqueueEchoes(db, 1);
    const envFile = join(dir, 'worker.env');
    await writeFile(envFile, `JOBWIRE_DATABASE_URL=${db}\nJOBWIRE_LOG_LEVEL=warn\n`);
    const run = await jobwire(['--env-file', envFile, 'stats', '--json']);
    // The loader wrote into this process's environment: leave none of it to later tests.
    delete process.env.JOBWIRE_DATABASE_URL;
    delete process.env.JOBWIRE_LOG_LEVEL;
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { total: { pending: number } }).total.pending, 1);
    const missing = await jobwire(['--env-file', join(dir, 'nope.env'), 'stats']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--env-file .*no such file/);
  });
});

describe('in a clone of jobwire', () => {
  test('npx finds no installed jobwire there: the documented "npm run -s jobwire --" runs the CLI', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /npm run -s jobwire -- <command>/, 'the README says how to run the CLI in a clone');
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'jobwire', '--', '--version'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout, `${version}\n`, 'only the version on stdout: no npm banner');
  });
});
