/**
 * `jobwire worker` during a database outage (s44 probe D7): the leader election failed every
 * second and each failure was printed — 60 identical lines a minute per process — and no line
 * said when storage answered again. Now a failure is printed once, repeats are summed up, and a
 * `storage:recovered` line says when the database answers again and for how long it did not.
 * PostgreSQL behind a proxy that refuses connections for 6 s, like a stopped server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, watchCli } from './support/cli.js';
import { createMigratedSchema } from './support/postgres.js';
import { startRefusingProxy } from './support/refusing-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a worker prints a repeated storage failure once, and a line when storage answers again', async (t) => {
  const { url, schema, drop } = await createMigratedSchema();
  t.after(drop);
  const proxy = await startRefusingProxy(url);
  t.after(() => proxy.close());
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outage-worker-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tasks = join(dir, 'tasks.ts');
  const entry = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  writeFileSync(
    tasks,
    `import { defineTask } from '${entry}';\nexport const noop = defineTask({ name: 'noop', handler: async () => {} });\n`,
  );

  const run = watchCli([
    'worker',
    '--tasks',
    tasks,
    '--db',
    proxy.url,
    '--schema',
    schema,
    '--json',
    '--concurrency',
    '1',
  ]);
  const { child, exited } = run;
  t.after(() => child.kill('SIGKILL'));
  const events = () =>
    run
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const waitFor = async (what: string, check: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline)
        assert.fail(`no ${what} within ${timeoutMs} ms\n${run.stdout()}\n${run.stderr()}`);
      await sleep(100);
    }
  };
  await waitFor('leader:elected', () => events().some((e) => e.event === 'leader:elected'), 30_000);

  const before = events().length;
  await proxy.refuse();
  await sleep(6000);
  await proxy.accept();
  await waitFor('storage:recovered', () => events().some((e) => e.event === 'storage:recovered'), 20_000);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, run.stderr());

  const during = events().slice(before);
  const elections = during.filter((e) => e.event === 'service:error' && e.operation === 'elect');
  assert.ok(
    elections.length >= 1 && elections.length <= 2,
    `the failing election printed once (or twice, if its message changed), not every second: ${elections.length} lines`,
  );
  const recovered = during.find((e) => e.event === 'storage:recovered')!;
  assert.match(String(recovered.msg), /^storage answers again after \d+ s/);
  const downForMs = Number(recovered.downForMs);
  assert.ok(downForMs >= 5000 && downForMs <= 15_000, `down for ${downForMs} ms (6 s outage)`);
  assert.ok(Number(recovered.failures) >= 5, 'it counts the failures it did not print');
  assert.equal(events().at(-1)?.event, 'summary', 'the summary is still the last line');
});
