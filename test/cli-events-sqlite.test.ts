/**
 * `jobwire events` on SQLite: the shared suite (test/suites/cli-events.ts), and the usage errors
 * and help, which no database changes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCliEventsSuite } from './suites/cli-events.js';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';
import { sqliteDatabases } from './support/sqlite.js';

useCliTestEnvironment();

runCliEventsSuite(sqliteDatabases);

describe('jobwire events: help and usage errors', () => {
  test('help of the command and of each subcommand', async () => {
    for (const args of [
      ['events', '--help'],
      ['events', 'tail', '--help'],
      ['events', 'read', '--help'],
      ['events', 'job', '--help'],
      ['help', 'events'],
    ]) {
      const run = await jobwire(args);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage$/m, args.join(' '));
      assert.equal(run.stderr, '');
    }
    const top = await jobwire(['--help']);
    assert.match(top.stdout, /^ {2}events +the event log of every process/m);
  });

  test('bad command lines exit 2 naming the problem, before any database is opened', async () => {
    const cases: [string[], RegExp][] = [
      [['events'], /give a subcommand \(tail, read, job <id>\) or --job <id>/],
      [['events', 'tial'], /unknown subcommand "events tial"[\s\S]*did you mean "jobwire events tail"/],
      [['events', '--job'], /option --job is followed by something that looks like an option/],
      [['events', '--json'], /give a subcommand \(tail, read, job <id>\) or --job <id>/],
      [['events', '--job', '7', 'extra'], /unexpected argument "extra" for "jobwire events"/],
      [['events', 'job'], /missing the job id/],
      [['events', 'job', '1', '2'], /give one job id/],
      [
        ['events', 'tail', '--type', 'job:faild'],
        /unknown event type "job:faild"[\s\S]*did you mean "job:failed"/,
      ],
      [['events', 'tail', '--type', 'nope:*'], /unknown event type "nope:\*"/],
      [['events', 'read', '--queue', 'has space'], /"has space" is not a queue name/],
      [['events', 'read', '--type', ','], /--type needs a value/],
      [['events', 'read', '--limit', '0'], /--limit must be an integer from 1 to 10000/],
      [['events', 'tail', '--limit', '5'], /unknown option --limit for "jobwire events tail"/],
      [['events', 'tail', '--from', ''], /--from is empty/],
      [['events', 'tail', 'now'], /unexpected argument "now"/],
      [['events', 'job', '7', '--limit', 'x'], /--limit must be an integer/],
    ];
    for (const [args, message] of cases) {
      const run = await jobwire([...args, '--db', '/nonexistent/dir/jobs.db']);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(' '));
    }
  });

  test('no subcommand at all prints the help on stderr', async () => {
    const run = await jobwire(['events']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^Usage$/m);
    assert.match(run.stderr, /^error: missing the events subcommand$/m);
  });

  test('a missing database is refused, not created', async () => {
    const run = await jobwire(['events', 'tail', '--db', '/nonexistent/dir/jobs.db']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /the database .* does not exist/);
  });
});
