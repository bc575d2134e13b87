/**
 * `jobwire worker --health` (s44 probe D3): the health monitor runs only in the leader, with the
 * leader's own `health` option, and a CLI worker had no way to take one — so whenever a CLI
 * worker led, no queue was monitored and no alert fired or resolved. With `--health` (JSON,
 * inline or in a file; $JOBWIRE_HEALTH) a leading worker monitors with those thresholds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { ROOT, watchCli } from './support/cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a worker started with --health fires the alerts of its thresholds when it leads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outage-health-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'jobs.db');
  const held = defineTask({ name: 'held', queue: 'held', handler: async () => {} });
  const client = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [held] });
  await client.pauseQueue('held');
  for (let i = 0; i < 3; i++) await client.enqueue(held, {});
  await client.close();
  const tasks = join(dir, 'tasks.ts');
  const entry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  writeFileSync(
    tasks,
    `import { defineTask } from '${entry}';\nexport const held = defineTask({ name: 'held', queue: 'held', handler: async () => {} });\n`,
  );
  const healthFile = join(dir, 'health.json');
  writeFileSync(healthFile, JSON.stringify({ intervalMs: 200, queues: { held: { maxPending: 2 } } }));

  const run = watchCli(['worker', '--tasks', tasks, '--db', db, '--json', '--health', healthFile]);
  const { child, exited } = run;
  t.after(() => child.kill('SIGKILL'));
  const fired = () =>
    run
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e.event === 'alert:fired');
  const deadline = Date.now() + 30_000;
  while (fired() === undefined) {
    if (run.exitCode() !== undefined)
      assert.fail(`the worker exited ${run.exitCode()}\n${run.stdout()}\n${run.stderr()}`);
    if (Date.now() > deadline) assert.fail(`no alert:fired within 30 s\n${run.stdout()}\n${run.stderr()}`);
    await sleep(100);
  }
  const alert = fired()!;
  assert.deepEqual(
    [alert.alertId, alert.kind, alert.value, alert.threshold],
    ['queue-backlog:held', 'queue-backlog', 3, 2],
  );
  child.kill('SIGTERM');
  assert.equal(await exited, 0, run.stderr());
});

it('a --health value that is not JSON is a usage error naming the flag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outage-health-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tasks = join(dir, 'tasks.ts');
  const entry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  writeFileSync(
    tasks,
    `import { defineTask } from '${entry}';\nexport const t = defineTask({ name: 't', handler: async () => {} });\n`,
  );
  const run = watchCli(['worker', '--tasks', tasks, '--db', join(dir, 'jobs.db'), '--health', '{"queues":']);
  const code = await run.exited;
  assert.equal(code, 2, run.stderr());
  assert.match(run.stderr(), /--health: the value is not valid JSON/);
});
