/**
 * `jobwire metrics` started while the database is down (s44 probe D6) exited 1, so Prometheus
 * saw no `jobwire_cluster_up 0` to alert on, only a missing target. Now it serves /metrics at
 * once with `jobwire_cluster_up 0`, says on stderr what it waits for, keeps trying, and serves the
 * database's gauges once it answers. PostgreSQL behind a proxy that refuses connections.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { watchCli } from './support/cli.js';
import { createMigratedSchema } from './support/postgres.js';
import { startRefusingProxy } from './support/refusing-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('jobwire metrics serves cluster_up 0 while the database is down at start, and its gauges once it answers', async (t) => {
  const { url, schema, drop } = await createMigratedSchema();
  t.after(drop);
  const proxy = await startRefusingProxy(url, { refusing: true });
  t.after(() => proxy.close());

  const run = watchCli(['metrics', '--db', proxy.url, '--schema', schema, '--port', '0']);
  const { child, exited } = run;
  t.after(() => child.kill('SIGKILL'));
  const waitFor = async <T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs: number,
  ) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (run.exitCode() !== undefined)
        assert.fail(`exited ${run.exitCode()} before ${what}\n${run.stdout()}\n${run.stderr()}`);
      if (Date.now() > deadline)
        assert.fail(`no ${what} within ${timeoutMs} ms\n${run.stdout()}\n${run.stderr()}`);
      await sleep(100);
    }
  };
  const scrape = async (metricsUrl: string) => {
    const response = await fetch(metricsUrl);
    assert.equal(response.status, 200);
    return response.text();
  };

  const metricsUrl = await waitFor(
    'the serving line',
    () => /serving (http:\/\/\S+\/metrics)/.exec(run.stdout())?.[1],
    20_000,
  );
  await waitFor(
    'the waiting message',
    () => (/waiting for the database/.test(run.stderr()) ? true : undefined),
    10_000,
  );
  assert.match(run.stderr(), /Cannot reach PostgreSQL/, 'it says why it waits');
  const down = await scrape(metricsUrl);
  assert.match(down, /^jobwire_cluster_up 0$/m);
  await sleep(2500);
  assert.equal(run.exitCode(), undefined, 'still running after a few failed tries');
  assert.match(await scrape(metricsUrl), /^jobwire_cluster_up 0$/m);

  await proxy.accept();
  const up = await waitFor(
    'cluster_up 1',
    async () => {
      const text = await scrape(metricsUrl);
      return /^jobwire_cluster_up 1$/m.test(text) ? text : undefined;
    },
    20_000,
  );
  assert.match(up, /^# TYPE jobwire_queue_jobs gauge$/m, 'the cluster gauges are served');
  assert.match(run.stderr(), /the database answers after \d+ s/);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, run.stderr());
});
