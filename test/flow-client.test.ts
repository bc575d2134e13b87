/**
 * Flow control through the client and the CLI on SQLite: rules defined in code and at run time,
 * validation (a bad rule or key is refused with InvalidOptionError naming the field, nothing
 * stored), a per-key limit holding under a pool with more workers than the limit, and
 * `jobwire flow ls|set|rm`, `enqueue --concurrency-key`, `jobs show`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask, InvalidOptionError } from '../src/index.js';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';
import { until } from './support/harness.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-flow-client-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noop = defineTask<{ n: number }>({ name: 'noop', handler: async () => {} });
const invalid = (field: string) => (err: unknown) => err instanceof InvalidOptionError && err.field === field;

describe('jobwire.flow', () => {
  it('rules from createJobwire and flow.set are listed; remove deletes one', async (t) => {
    const client = await createJobwire({
      driver: sqliteDriver({ path: join(dir, 'rules.db') }),
      tasks: [noop],
      flow: [
        { queue: 'email', key: 'tenant:*', concurrency: 2, rate: { limit: 100, interval: '1m', burst: 10 } },
      ],
    });
    t.after(() => client.close());
    await client.flow.set({ queue: 'email', concurrency: 20 });
    const rules = await client.flow.list();
    assert.deepEqual(
      rules.map(({ updatedAt: _, ...rule }) => rule),
      [
        { queue: 'email', key: null, concurrency: 20, rate: null },
        {
          queue: 'email',
          key: 'tenant:*',
          concurrency: 2,
          rate: { limit: 100, intervalMs: 60_000, burst: 10 },
        },
      ],
    );
    assert.ok(rules[0]!.updatedAt instanceof Date);
    assert.equal(await client.flow.remove({ queue: 'email' }), true);
    assert.equal(await client.flow.remove({ queue: 'email' }), false);
    assert.equal((await client.flow.list()).length, 1);
  });

  it('refuses bad rules and bad keys, naming the field, and stores nothing', async (t) => {
    const client = await createJobwire({
      driver: sqliteDriver({ path: join(dir, 'bad.db') }),
      tasks: [noop],
    });
    t.after(() => client.close());
    await assert.rejects(client.flow.set({ queue: 'q', concurrency: 0 }), invalid('flow.concurrency'));
    await assert.rejects(client.flow.set({ queue: 'q' }), invalid('flow'));
    await assert.rejects(
      client.flow.set({ queue: 'q', rate: { limit: 5, interval: 'soon' } }),
      invalid('flow.rate.interval'),
    );
    await assert.rejects(
      client.flow.set({ queue: 'q', rate: { limit: 5, interval: '1s', per: 1 } as never }),
      invalid('flow.rate.per'),
    );
    await assert.rejects(client.flow.set({ queue: 'q', concurency: 1 } as never), invalid('flow.concurency'));
    await assert.rejects(
      client.flow.set({ queue: 'q', concurrency: 1 }, { queue: 'q', key: '', concurrency: 1 }),
      invalid('flow[1].key'),
    );
    assert.deepEqual(await client.flow.list(), []);
    await assert.rejects(client.enqueue(noop, { n: 1 }, { concurrencyKey: '' }), invalid('concurrencyKey'));
    await assert.rejects(
      client.enqueue(noop, { n: 1 }, { concurrencyKey: 'a\u0000b' }),
      invalid('concurrencyKey'),
    );
    await assert.rejects(
      client.enqueue(noop, { n: 1 }, { concurrencyKey: 7 as never }),
      invalid('concurrencyKey'),
    );
    assert.equal((await client.countJobs()).pending, 0);
    await assert.rejects(
      createJobwire({
        driver: sqliteDriver({ path: join(dir, 'bad2.db') }),
        tasks: [noop],
        flow: [{ queue: 'q' }],
      }),
      invalid('flow'),
    );
  });

  it('a schedule can give its jobs a concurrency key', async (t) => {
    const client = await createJobwire({
      driver: sqliteDriver({ path: join(dir, 'schedule.db') }),
      tasks: [noop],
    });
    t.after(() => client.close());
    await client.schedules.upsert({
      id: 'keyed',
      every: '1h',
      task: noop,
      payload: { n: 1 },
      options: { concurrencyKey: 'tenant:acme' },
    });
    const job = await client.schedules.trigger('keyed');
    assert.equal(job.concurrencyKey, 'tenant:acme');
    assert.equal((await client.getJob(job.id))!.concurrencyKey, 'tenant:acme');
  });

  it('a pool with ten workers runs at most the per-key limit of each key at once', async (t) => {
    let running = new Map<string, number>();
    let most = new Map<string, number>();
    const slow = defineTask<{ key: string }>({
      name: 'slow',
      handler: async ({ key }) => {
        running.set(key, (running.get(key) ?? 0) + 1);
        most.set(key, Math.max(most.get(key) ?? 0, running.get(key)!));
        await new Promise((r) => setTimeout(r, 15));
        running.set(key, running.get(key)! - 1);
      },
    });
    const client = await createJobwire({
      driver: sqliteDriver({ path: join(dir, 'pool.db') }),
      tasks: [slow],
      flow: [{ queue: 'default', key: '*', concurrency: 2 }],
    });
    t.after(() => client.close());
    running = new Map();
    most = new Map();
    await client.enqueueMany(
      ['a', 'b'].flatMap((key) =>
        Array.from({ length: 12 }, () => ({
          task: slow,
          payload: { key },
          options: { concurrencyKey: key },
        })),
      ),
    );
    const pool = client.createPool({ concurrency: 10, pollIntervalMs: 10, handleSignals: false });
    await pool.start();
    await until(async () => (await client.countJobs()).completed === 24, 30_000, 'all jobs completed');
    await pool.stop();
    assert.deepEqual(Object.fromEntries(most), { a: 2, b: 2 });
  });
});

describe('jobwire flow (CLI)', () => {
  it('set, ls, rm; enqueue --concurrency-key; jobs show prints the key', async () => {
    const db = join(dir, 'cli.db');
    const client = await createJobwire({ driver: sqliteDriver({ path: db }), tasks: [noop] });
    await client.close();
    const set = await jobwire([
      'flow',
      'set',
      'default',
      '--key',
      'tenant:*',
      '--concurrency',
      '2',
      '--rate',
      '100/1m',
      '--burst',
      '5',
      '--db',
      db,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set the rule of key "tenant:\*" in queue "default": 2 100\/1m 5/);
    const queueWide = await jobwire(['flow', 'set', 'default', '--concurrency', '10', '--db', db]);
    assert.equal(queueWide.code, 0, queueWide.stderr);
    const ls = await jobwire(['flow', 'ls', '--db', db]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /default\s+\(whole queue\)\s+10\s+–\s+–/);
    assert.match(ls.stdout, /default\s+tenant:\*\s+2\s+100\/1m\s+5/);
    const json = JSON.parse((await jobwire(['flow', 'ls', '--json', '--db', db])).stdout);
    assert.equal(json.length, 2);
    const bad = await jobwire(['flow', 'set', 'default', '--db', db]);
    assert.equal(bad.code, 2);
    const badRate = await jobwire(['flow', 'set', 'default', '--rate', 'fast', '--db', db]);
    assert.equal(badRate.code, 2);
    const rmRule = await jobwire(['flow', 'rm', 'default', '--key', 'tenant:*', '--db', db]);
    assert.equal(rmRule.code, 0, rmRule.stderr);
    assert.equal((await jobwire(['flow', 'rm', 'default', '--key', 'tenant:*', '--db', db])).code, 1);

    const enqueued = await jobwire([
      'enqueue',
      'noop',
      '{"n":1}',
      '--concurrency-key',
      'tenant:acme',
      '--db',
      db,
    ]);
    assert.equal(enqueued.code, 0, enqueued.stderr);
    const id = enqueued.stdout.trim();
    const show = await jobwire(['jobs', 'show', id, '--db', db]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /concurrency key\s+tenant:acme/);
  });
});
