/**
 * `jobwire workers`, in-process: the pools running now (in another "process": a client on its
 * own connection), as a table and as JSON; a stopped pool is no longer listed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, type PoolRecord } from '../src/index.js';
import { runCliInProcess, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-workers-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('jobwire workers', () => {
  test('lists running pools with host, pid, queues and busy/concurrency; a stopped pool is gone', async () => {
    const db = join(dir, 'workers.db');
    const client = await createJobwire({ driver: sqliteDriver({ path: db }) });
    try {
      const empty = await runCliInProcess(['workers', '--db', db]);
      assert.equal(empty.code, 0, empty.stderr);
      assert.match(empty.stdout, /no pools running/);

      const pool = client.createPool({
        id: 'mail-pool',
        queues: ['mail', 'reports'],
        concurrency: 4,
        handleSignals: false,
      });
      await pool.start();
      const listed = await runCliInProcess(['workers', '--db', db]);
      assert.equal(listed.code, 0, listed.stderr);
      const [header, row, ...rest] = listed.stdout.trimEnd().split('\n');
      assert.deepEqual(rest, [], listed.stdout);
      assert.match(header!, /^pool\s+host\s+pid\s+queues\s+busy\s+state\s+up for\s+last seen$/);
      const cells = row!.split(/\s{2,}/);
      assert.deepEqual(cells.slice(0, 6), [
        'mail-pool',
        hostname(),
        String(process.pid),
        'mail,reports',
        '0/4',
        'running',
      ]);
      assert.match(cells[6]!, /^\d+s$/, 'up for');
      assert.match(cells[7]!, /^\d+s ago$/, 'last seen');

      const json = await runCliInProcess(['workers', '--json', '--db', db]);
      assert.equal(json.code, 0, json.stderr);
      const [record, ...others] = JSON.parse(json.stdout) as PoolRecord[];
      assert.equal(others.length, 0);
      assert.deepEqual(
        { ...record, startedAt: 0, lastSeenAt: 0 },
        {
          poolId: 'mail-pool',
          host: hostname(),
          pid: process.pid,
          queues: ['mail', 'reports'],
          concurrency: 4,
          busy: 0,
          state: 'running',
          heartbeatMs: pool.leaseMs / 3,
          version: PACKAGE_VERSION,
          startedAt: 0,
          lastSeenAt: 0,
        },
      );
      assert.equal(typeof record!.startedAt, 'number');
      assert.equal(typeof record!.lastSeenAt, 'number');

      await pool.stop();
      const stopped = await runCliInProcess(['workers', '--db', db]);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /no pools running/);
    } finally {
      await client.close();
    }
  });

  test('a pool silent for more than 3 of its heartbeat periods reads "silent?", with a note', async () => {
    const db = join(dir, 'silent.db');
    // Two rows as a live pool and a killed one (kill -9: its row stays) would leave them.
    const driver = sqliteDriver({ path: db });
    try {
      await driver.migrate();
      const row = (poolId: string, heartbeatMs: number) => ({
        poolId,
        host: 'web-1',
        pid: 4242,
        queues: ['default'],
        concurrency: 2,
        busy: 2,
        state: 'running' as const,
        heartbeatMs,
        version: null,
        startedAt: Date.now() - 120_000,
      });
      // The probe's case: 37 s after the last of 10 s heartbeats.
      await driver.poolUpsert({ pool: row('killed', 10_000), now: Date.now() - 37_000 });
      // Slow heartbeats are judged by their own period: 37 s is not 3 of 20 s periods.
      await driver.poolUpsert({ pool: row('slow', 20_000), now: Date.now() - 37_000 });
      await driver.poolUpsert({ pool: row('alive', 10_000), now: Date.now() });
    } finally {
      await driver.close();
    }
    const run = await runCliInProcess(['workers', '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    const [, ...rest] = run.stdout.trimEnd().split('\n');
    const stateOf = (poolId: string) =>
      rest.find((line) => line.startsWith(`${poolId} `))?.split(/\s{2,}/)[5];
    assert.equal(stateOf('killed'), 'silent?', run.stdout);
    assert.equal(stateOf('slow'), 'running', run.stdout);
    assert.equal(stateOf('alive'), 'running', run.stdout);
    assert.match(run.stdout, /^silent\? = no heartbeat for more than 3 of its own periods \(10\.0s\)/m);
    assert.match(run.stdout, /hint/);

    // --json stays the registry rows as listPools returns them: no field added.
    const json = await runCliInProcess(['workers', '--json', '--db', db]);
    const killed = (JSON.parse(json.stdout) as PoolRecord[]).find((pool) => pool.poolId === 'killed')!;
    assert.equal(killed.state, 'running');
    assert.ok(!('silent' in killed));
  });

  test('refuses an extra argument as a usage error', async () => {
    const run = await runCliInProcess(['workers', 'now', '--db', join(dir, 'x.db')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unexpected argument "now"/);
  });
});
