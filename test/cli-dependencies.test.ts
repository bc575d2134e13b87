/**
 * The CLI's dependency surface on a SQLite file: `enqueue --depends-on`, `jobs list --state
 * blocked`, and `jobs show` listing the edges both ways, including a stuck one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-deps-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('enqueue --depends-on stores a blocked job; jobs list and show make it visible', async () => {
  const db = join(dir, 'deps.db');
  const first = await jobwire(['enqueue', 'fetch', '{}', '--db', db]);
  assert.equal(first.code, 0, first.stderr);
  const a = first.stdout.trim();
  const second = await jobwire(['enqueue', 'report', '--depends-on', a, '--on-failure', 'block', '--db', db]);
  assert.equal(second.code, 0, second.stderr);
  const b = second.stdout.trim();
  assert.match(second.stderr, /blocked until its dependencies complete/);

  const listed = await jobwire(['jobs', 'ls', '--state', 'blocked', '--json', '--db', db]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    JSON.parse(listed.stdout).jobs.map((job: { id: string }) => job.id),
    [b],
  );

  // The dependency is cancelled: under `block` the dependent stays blocked, and says why.
  assert.equal((await jobwire(['jobs', 'cancel', a, '--db', db])).code, 0);
  const shown = await jobwire(['jobs', 'show', b, '--db', db]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /depends on \(1\)/);
  assert.match(shown.stdout, new RegExp(`#${a} \\(fetch, cancelled\\)  on failure: block  STUCK`));
  const json = JSON.parse((await jobwire(['jobs', 'show', b, '--json', '--db', db])).stdout);
  assert.equal(json.state, 'blocked');
  assert.deepEqual(
    json.dependencies.dependencies.map((e: { dependsOn: string; state: string }) => [e.dependsOn, e.state]),
    [[a, 'stuck']],
  );
  const parent = await jobwire(['jobs', 'show', a, '--db', db]);
  assert.match(parent.stdout, new RegExp(`dependents \\(1\\)\\n  #${b} \\(report, blocked\\)`));

  for (const [args, message] of [
    [['enqueue', 'x', '--depends-on', 'a,b'], /job ids separated by commas/],
    [['enqueue', 'x', '--depends-on', a, '--on-failure', 'retry'], /--on-failure must be one of/],
    [['enqueue', 'x', '--on-failure', 'run'], /only applies with --depends-on/],
  ] as const) {
    const run = await jobwire([...args, '--db', db]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  const unknown = await jobwire(['enqueue', 'x', '--depends-on', '999', '--db', db]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /999 that does not exist/);
});

test('jobs cancel --state blocked cancels blocked jobs (it was refused: "does not act on state blocked")', async () => {
  const db = join(dir, 'cancel-blocked.db');
  const first = await jobwire(['enqueue', 'fetch', '{}', '--delay', '60000', '--db', db]);
  const a = first.stdout.trim();
  const b = (await jobwire(['enqueue', 'report', '--depends-on', a, '--db', db])).stdout.trim();
  const cancelled = await jobwire(['jobs', 'cancel', '--state', 'blocked', '--db', db]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, /cancelled 1 job/);
  const states = JSON.parse((await jobwire(['jobs', 'ls', '--json', '--db', db])).stdout).jobs.map(
    (job: { id: string; state: string }) => [job.id, job.state],
  );
  assert.deepEqual(states, [
    [b, 'cancelled'],
    [a, 'scheduled'],
  ]);
});
