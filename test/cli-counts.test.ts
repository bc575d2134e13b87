/**
 * `jobwire queues ls` and `jobwire stats` on a SQLite file past the count cap: bounded counts by
 * default (≥ or ~ marks a count above 10,000), exact ones with --exact; JSON carries each count's
 * precision.
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
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-cli-counts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A SQLite file holding 10,005 pending jobs in `bulk` (past the default cap) and 2 in `mail`. */
async function fillPastCap(name: string): Promise<string> {
  const db = join(dir, name);
  const task = defineTask({ name: 'count.me', handler: async () => 'ok' });
  const client = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [task], retention: false });
  for (let i = 0; i < 10_005; i += 1000) {
    const n = Math.min(1000, 10_005 - i);
    await client.enqueueMany(
      Array.from({ length: n }, () => ({ task, payload: {}, options: { queue: 'bulk' } })),
    );
  }
  await client.enqueueMany([0, 1].map(() => ({ task, payload: {}, options: { queue: 'mail' } })));
  await client.close();
  return db;
}

test('queues ls marks counts above the cap; --exact counts every job', async () => {
  const db = await fillPastCap('counts.db');

  const bounded = await jobwire(['queues', 'ls', '--db', db]);
  assert.equal(bounded.code, 0, bounded.stderr);
  assert.match(bounded.stdout, /^bulk +active +0 +0 +[≥~]\d+ /m);
  assert.match(bounded.stdout, /^mail +active +0 +0 +2 /m);
  const exact = await jobwire(['queues', 'ls', '--exact', '--db', db]);
  assert.match(exact.stdout, /^bulk +active +0 +0 +10005 /m);
  const json = JSON.parse((await jobwire(['queues', 'ls', '--json', '--db', db])).stdout) as {
    name: string;
    precision: Record<string, string>;
  }[];
  assert.notEqual(json.find((q) => q.name === 'bulk')?.precision.pending, 'exact');
  assert.equal(json.find((q) => q.name === 'mail')?.precision.pending, 'exact');
});

test('stats is bounded too: counts above the cap are marked, and so are the totals; --exact counts every job', async () => {
  const db = await fillPastCap('stats.db');

  const bounded = await jobwire(['stats', '--db', db]);
  assert.equal(bounded.code, 0, bounded.stderr);
  // Columns: queue, then one per state (pending third), then all.
  assert.match(bounded.stdout, /^bulk +\d+ +\d+ +[≥~]\d+ /m);
  assert.match(bounded.stdout, /^mail +\d+ +\d+ +2 /m);
  assert.match(bounded.stdout, /^total +\d+ +\d+ +[≥~]\d+ /m);
  const exact = await jobwire(['stats', '--exact', '--db', db]);
  assert.equal(exact.code, 0, exact.stderr);
  assert.match(exact.stdout, /^bulk +0 +0 +10005 /m);
  assert.match(exact.stdout, /^total +0 +0 +10007 /m);
  const json = JSON.parse((await jobwire(['stats', '--json', '--db', db])).stdout) as {
    queues: Record<string, Record<string, number>>;
    precision: { queues: Record<string, Record<string, string>>; total: Record<string, string> };
  };
  assert.notEqual(json.precision.queues.bulk?.pending, 'exact');
  assert.equal(json.precision.queues.mail?.pending, 'exact');
  assert.notEqual(json.precision.total.pending, 'exact');
  assert.equal(json.queues.mail?.pending, 2);
});
