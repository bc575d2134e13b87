/**
 * `retention.queues` on SQLite: each queue's entry must be an object of rules by state. A value
 * of another shape used to be dropped without a word — `queues: { audit: false }` (meant as
 * "keep this queue", like `retention: false`) or `queues: { webhooks: '1h' }` (a rule without its
 * state) left the queue under the global rules, so the leader pruned the jobs the application
 * meant to keep after a day. It is refused now, naming the field, and the way to keep a queue's
 * jobs — every state's rule 0 — does keep them while other queues are pruned.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { clientInternals } from '../src/core/internals.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask, InvalidOptionError, type RetentionOptions } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-fleet-retention-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `retention-${++files}.db`);

test('retention.queues: an entry that is not an object of rules is refused, naming the queue', async () => {
  const cases: { queues: unknown; field: string }[] = [
    { queues: { audit: false }, field: 'retention.queues.audit' },
    { queues: { webhooks: '1h' }, field: 'retention.queues.webhooks' },
    { queues: { webhooks: 3_600_000 }, field: 'retention.queues.webhooks' },
    { queues: { audit: null }, field: 'retention.queues.audit' },
    { queues: { audit: [{ completed: '1h' }] }, field: 'retention.queues.audit' },
    { queues: ['webhooks'], field: 'retention.queues' },
    { queues: 'webhooks', field: 'retention.queues' },
    { queues: null, field: 'retention.queues' },
  ];
  for (const { queues, field } of cases) {
    const driver = sqliteDriver({ path: freshPath() });
    try {
      await assert.rejects(
        createJobwire({ driver, retention: { queues } as unknown as RetentionOptions }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError, `${JSON.stringify(queues)}: ${String(error)}`);
          assert.equal(error.field, field, JSON.stringify(queues));
          return true;
        },
        `retention.queues = ${JSON.stringify(queues)} must be refused`,
      );
    } finally {
      await driver.close();
    }
  }
});

test('retention.queues: every state 0 keeps that queue while the global rule prunes the others', async () => {
  const path = freshPath();
  const audit = defineTask({ name: 'audit-entry', queue: 'audit', handler: async () => 'kept' });
  const plain = defineTask({ name: 'plain', handler: async () => 'pruned' });
  const client = await createJobwire({
    driver: sqliteDriver({ path }),
    tasks: [audit, plain],
    retention: { completed: 1, queues: { audit: { completed: 0, cancelled: 0, abandoned: 0 } } },
  });
  try {
    const jobs = [
      ...(await Promise.all([1, 2, 3].map((n) => client.enqueue(audit, { n })))),
      ...(await Promise.all([1, 2, 3].map((n) => client.enqueue(plain, { n })))),
    ];
    const pool = client.createPool({ queues: ['audit', 'default'], handleSignals: false });
    await pool.start();
    for (const job of jobs) await client.waitForJob(job.id);
    await pool.stop();
    await new Promise((resolve) => setTimeout(resolve, 20)); // older than the 1 ms rule
    await clientInternals(client).leader.runOnce();
    const left = await client.listJobs({ state: 'completed' });
    assert.deepEqual(left.jobs.map((job) => job.queue).sort(), ['audit', 'audit', 'audit']);
  } finally {
    await client.close();
  }
});
