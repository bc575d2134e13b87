/** `jobwire enqueue --unique-key/--unique-for/--throttle/--debounce` and the rule in `jobs show`. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-dedup-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('enqueue --throttle returns the first job within the window and says so', async () => {
  const db = join(dir, 'throttle.db');
  const first = await jobwire([
    'enqueue',
    'sync',
    '{"n":1}',
    '--throttle',
    'acct:1',
    '--window',
    '1h',
    '--db',
    db,
  ]);
  assert.equal(first.code, 0, first.stderr);
  const again = await jobwire([
    'enqueue',
    'sync',
    '{"n":2}',
    '--throttle',
    'acct:1',
    '--window',
    '1h',
    '--db',
    db,
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), first.stdout.trim());
  assert.match(again.stderr, /holds throttle key "acct:1" and is already pending; no new job was added/);
  const shown = await jobwire(['jobs', 'show', first.stdout.trim(), '--db', db]);
  assert.match(shown.stdout, /dedup rule\s+throttle key "acct:1": one job per 1h/);
});

test('enqueue --debounce replaces the waiting payload; --unique-for keeps completed jobs matching', async () => {
  const db = join(dir, 'debounce.db');
  const args = ['--debounce', 'doc:7', '--window', '30s', '--max-wait', '2m', '--db', db];
  const first = await jobwire(['enqueue', 'index', '{"v":1}', ...args]);
  const again = await jobwire(['enqueue', 'index', '{"v":2}', ...args, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const record = JSON.parse(again.stdout);
  assert.equal(record.id, first.stdout.trim());
  assert.deepEqual([record.payload, record.matchedBy], [{ v: 2 }, 'debounce']);
  assert.match(again.stderr, /debounce key "doc:7"\) had not started: its payload was replaced/);
  const shown = await jobwire(['jobs', 'show', record.id, '--db', db]);
  assert.match(
    shown.stdout,
    /debounce key "doc:7": runs 30s after the latest enqueue, at most 2m after the first/,
  );

  const unique = await jobwire([
    'enqueue',
    'report',
    '{}',
    '--unique-key',
    'r',
    '--unique-for',
    '1h',
    '--db',
    db,
  ]);
  const show = await jobwire(['jobs', 'show', unique.stdout.trim(), '--db', db]);
  assert.match(show.stdout, /unique key "r" while active, and completed for 1h after finishing/);
});

test('bad rule flags fail with a usage error naming the flag; a bad window is refused; nothing is stored', async () => {
  const db = join(dir, 'bad.db');
  const cases: [string[], RegExp][] = [
    [['--throttle', 'k'], /--throttle needs --window/],
    [['--throttle', 'k', '--debounce', 'k', '--window', '1s'], /cannot be combined/],
    [['--window', '1s'], /--window applies to --throttle or --debounce/],
    [['--throttle', 'k', '--window', '1s', '--max-wait', '5s'], /--max-wait applies to --debounce/],
    [['--unique-for', '1h'], /--unique-for applies to --unique-key/],
    [['--debounce', 'k', '--window', '1m', '--max-wait', '10s'], /debounce\.maxWait/],
  ];
  for (const [flags, message] of cases) {
    const run = await jobwire(['enqueue', 'x', '{}', ...flags, '--db', db]);
    assert.notEqual(run.code, 0, flags.join(' '));
    assert.match(run.stderr, message, flags.join(' '));
  }
  const listed = await jobwire(['jobs', 'ls', '--json', '--db', db]);
  assert.deepEqual(JSON.parse(listed.stdout).jobs, [], 'no refused enqueue stored a job');
});

test('events tail lines name the rule, the key and the new run time', async () => {
  const { formatEvent } = await import('../src/cli/format-event.js');
  const { painter } = await import('../src/cli/format.js');
  const { eventDetail } = await import('../src/cli/event-lines.js');
  const base = {
    jobId: '42',
    task: 'sync',
    queue: 'default',
    correlationId: 'c',
    attempt: 0,
    maxAttempts: 3,
  };
  const dedup = { ...base, rule: 'throttle' as const, key: 'acct:1', state: 'pending' as const, at: 0 };
  assert.match(
    formatEvent('job:deduplicated', dedup, painter(false), { now: 0 }),
    /#42\s+sync[\s\S]*throttle key acct:1: already pending/,
  );
  const debounced = {
    ...base,
    key: 'doc:3',
    state: 'scheduled' as const,
    runAt: 10_000,
    previousRunAt: 5000,
    at: 0,
  };
  assert.match(
    formatEvent('job:debounced', debounced, painter(false), { now: 0 }),
    /payload replaced, runs in 10(\.0)? ?s/,
  );
  assert.equal(eventDetail('job:deduplicated', dedup), 'throttle key acct:1: already pending');
  assert.match(eventDetail('job:debounced', debounced), /key doc:3: payload replaced, runs in 10/);
});
