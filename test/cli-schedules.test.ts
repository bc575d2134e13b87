/**
 * `jobwire schedules` on a SQLite file: add (cron in a zone, or an interval), ls showing next
 * runs in the schedule's zone, pause, resume, trigger, rm; usage errors exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
let db: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-schedules-'));
  db = join(dir, 'schedules.db');
  // A worker's client publishes its task, so the CLI can schedule it by name.
  const client = await createJobwire({
    driver: sqliteDriver({ path: db }),
    tasks: [defineTask({ name: 'reports.daily', queue: 'reports', handler: async () => 'ok' })],
  });
  await client.close();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('schedules add, ls, pause, resume, trigger and rm', async () => {
  const added = await jobwire([
    'schedules',
    'add',
    'morning',
    '--task',
    'reports.daily',
    '--cron',
    '30 9 * * *',
    '--tz',
    'America/New_York',
    '--payload',
    '{"to":"ops"}',
    '--missed',
    'backfill:6h:3',
    '--db',
    db,
  ]);
  assert.equal(added.code, 0, added.stderr);
  assert.match(
    added.stdout,
    /schedule "morning" saved: 30 9 \* \* \*, next run \d{4}-\d\d-\d\d 09:30:00 America\/New_York/,
  );
  const interval = await jobwire([
    'schedules',
    'add',
    'sync',
    '--task',
    'reports.daily',
    '--every',
    '5m',
    '--db',
    db,
  ]);
  assert.equal(interval.code, 0, interval.stderr);

  const ls = await jobwire(['schedules', 'ls', '--db', db]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(
    ls.stdout,
    /morning\s+30 9 \* \* \*\s+America\/New_York\s+reports\.daily\s+active\s+\d{4}-\d\d-\d\d 09:30:00/,
  );
  assert.match(ls.stdout, /sync\s+every 5m\s+UTC/);
  const json = JSON.parse((await jobwire(['schedules', 'ls', '--json', '--db', db])).stdout);
  assert.deepEqual(json[0].definition.missed, { policy: 'backfill', windowMs: 6 * 3_600_000, max: 3 });
  assert.deepEqual(json[0].definition.payload, { to: 'ops' });

  assert.match(
    (await jobwire(['schedules', 'pause', 'morning', '--db', db])).stdout,
    /paused schedule "morning"/,
  );
  assert.match((await jobwire(['schedules', 'ls', '--db', db])).stdout, /morning.*paused/);
  assert.match((await jobwire(['schedules', 'resume', 'morning', '--db', db])).stdout, /resumed/);
  const triggered = await jobwire(['schedules', 'trigger', 'morning', '--db', db]);
  assert.match(triggered.stdout, /enqueued job #\d+ of schedule "morning"/);
  const jobId = /#(\d+)/.exec(triggered.stdout)![1]!;
  const shown = JSON.parse((await jobwire(['jobs', 'show', jobId, '--json', '--db', db])).stdout);
  assert.equal(shown.queue, 'reports', 'the task’s published queue');
  assert.equal(shown.metadata.schedule, 'morning');
  assert.match(
    (await jobwire(['schedules', 'rm', 'morning', '--db', db])).stdout,
    /removed schedule "morning"/,
  );
  assert.match((await jobwire(['schedules', 'rm', 'morning', '--db', db])).stdout, /no schedule "morning"/);
});

test('schedules usage errors exit 2; an unknown zone or task exits 1 with the reason', async () => {
  for (const [args, message] of [
    [['schedules', 'add', 'x', '--cron', '* * * * *'], /--task is required/],
    [['schedules', 'add', 'x', '--task', 'reports.daily'], /--cron or --every/],
    [['schedules', 'add', 'x', '--task', 'reports.daily', '--every', 'soon'], /must be a duration/],
    [
      ['schedules', 'add', 'x', '--task', 'reports.daily', '--every', '1m', '--missed', 'maybe'],
      /not a policy/,
    ],
    [['schedules', 'lss'], /did you mean "jobwire schedules ls"/],
  ] as const) {
    const run = await jobwire([...args, '--db', db]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const zone = await jobwire([
    'schedules',
    'add',
    'x',
    '--task',
    'reports.daily',
    '--every',
    '1m',
    '--tz',
    'Mars/Base',
    '--db',
    db,
  ]);
  assert.equal(zone.code, 1);
  assert.match(zone.stderr, /IANA time zone/);
  const task = await jobwire(['schedules', 'add', 'x', '--task', 'no.such', '--every', '1m', '--db', db]);
  assert.equal(task.code, 1);
  assert.match(task.stderr, /no\.such/);
  // The CLI's own advice (before: "set strictTasks: false", which the CLI cannot do), and the
  // published name a typo most likely meant.
  assert.doesNotMatch(task.stderr, /strictTasks/);
  const typo = await jobwire([
    'schedules',
    'add',
    'x',
    '--task',
    'reports.dialy',
    '--every',
    '1m',
    '--db',
    db,
  ]);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /no worker has published task "reports\.dialy"; did you mean "reports\.daily"\?/);
  assert.match(typo.stderr, /jobwire tasks lists the published tasks \(reports\.daily\)/);
  const never = await jobwire([
    'schedules',
    'add',
    'feb30',
    '--task',
    'reports.daily',
    '--cron',
    '0 0 30 2 *',
    '--db',
    db,
  ]);
  assert.equal(never.code, 0, never.stderr);
  assert.match(never.stderr, /note: schedule "feb30" will never fire/);
  assert.equal((await jobwire(['schedules', 'rm', 'feb30', '--db', db])).code, 0);
  const missing = await jobwire(['schedules', 'pause', 'nope', '--db', db]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Schedule "nope" does not exist/);
});
