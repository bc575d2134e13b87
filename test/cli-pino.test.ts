/**
 * pino as the `logger` option, and the CLI's `--json` lines in pino's format: the same `time`,
 * `level` numbers and `msg` key, so pino's tools read both. pino is a dev dependency only:
 * jobwire never imports it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { PINO_LEVEL } from '../src/cli/log-level.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, type Driver, defineTask } from '../src/index.js';

test('a pino logger takes the failures jobwire recovers from, as pino JSON lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobwire-pino-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const written: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      written.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, destination);
  const driver = sqliteDriver({ path: join(dir, 'jobs.db') });
  let failClaims = 1;
  const flaky: Driver = {
    ...driver,
    jobClaim: async (params) => {
      if (failClaims-- > 0) throw new Error('disk is busy');
      return driver.jobClaim(params);
    },
  };
  const task = defineTask({ name: 'noop', handler: async () => 1 });
  const client = await createJobwire({ driver: flaky, tasks: [task], logger });
  const pool = client.createPool({ pollIntervalMs: 20, handleSignals: false });
  await pool.start();
  const job = await client.enqueue(task, {});
  await client.waitForJob(job.id);
  await client.close();

  const entries = written.map((line) => JSON.parse(line) as Record<string, unknown>);
  const warning = entries.find((entry) => entry.event === 'pool:error');
  assert.ok(warning, `a pool:error line among ${written.length}`);
  assert.equal(warning.level, pino.levels.values.warn);
  assert.equal(typeof warning.time, 'number');
  assert.match(String(warning.msg), /disk is busy/);
  assert.equal((warning.err as { message: string }).message, 'disk is busy');
});

test("the CLI's --json levels are pino's numbers", () => {
  for (const [label, number] of Object.entries(PINO_LEVEL)) {
    assert.equal(pino.levels.values[label], number, label);
  }
});
