/**
 * The webhook sink reading the durable log on SQLite: the log's subscription is at least once
 * there (no transaction joins the handler and the stored position), so the sink's handler can get
 * the same event twice — every process attached to the subscription may handle it (docs/webhooks.md
 * asks to attach the sink in every process serving its queue), and a process that dies between
 * the enqueue and the stored position handles it again. The sink must still enqueue one delivery
 * per (event, endpoint), as it does on PostgreSQL. It enqueued one per handling: in a probe with two
 * app processes on one SQLite file (and two CLI workers, a database locked twice), 76 of 776 events
 * were delivered twice, each as a separate delivery job, while no process died.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobwire } from '../src/core/client.js';
import type { Driver } from '../src/driver/driver.js';
import { WEBHOOK_DELIVER_TASK, webhooks } from '../src/sinks/webhooks/index.js';
import { until, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function attach(client: Awaited<ReturnType<typeof createJobwire>>) {
  return webhooks(client, {
    allowPrivateTargets: true,
    source: { subscription: 'hooks' },
    endpoints: [
      {
        id: 'ops',
        url: 'http://127.0.0.1:9/hook',
        secret: SECRET,
        events: ['queue:paused', 'queue:resumed'],
      },
    ],
  });
}

describe('webhooks from the durable log on SQLite: an event handled twice', () => {
  test('is enqueued once per endpoint', async (t) => {
    const { client: emitter, db } = await withClient(t, sqliteDatabases);
    const driver: Driver = await db.open();
    const first = await createJobwire({ driver });
    t.after(() => first.close());
    let sink = attach(first);
    // The new subscription pins its starting position ('now') before the events commit.
    await until(
      async () => (await driver.eventSubscriptionGet({ name: 'hooks' })) !== null,
      10_000,
      'pinned',
    );
    const start = (await driver.eventSubscriptionGet({ name: 'hooks' }))!;

    await emitter.pauseQueue('reports');
    await emitter.resumeQueue('reports');
    await emitter.pauseQueue('billing');
    const deliveries = async () =>
      (await emitter.listJobs({ task: WEBHOOK_DELIVER_TASK, limit: 100 })).jobs.map((job) => job.payload);
    await until(async () => (await deliveries()).length >= 3, 10_000, 'three delivery jobs');
    await sink.stop();
    const handled = (await driver.eventSubscriptionGet({ name: 'hooks' }))!;

    // The position as another process of the subscription (or this one, had it died before
    // storing it) still has it: the three events are handled again.
    assert.ok(await driver.eventSubscriptionAdvance({ name: 'hooks', from: handled, to: start }));
    const second = await createJobwire({ driver: await db.open() });
    t.after(() => second.close());
    sink = attach(second);
    // Caught up: its position is the log's head (the deliveries' own events included).
    await until(
      async () => (await driver.eventSubscriptionGet({ name: 'hooks' })) === (await driver.eventHead()),
      10_000,
      'the events handled again',
    );
    await sink.stop();

    const payloads = (await deliveries()) as { messageId: string; type: string }[];
    assert.deepEqual(
      payloads.map((p) => p.type).sort(),
      ['queue:paused', 'queue:paused', 'queue:resumed'],
      'one delivery job per event and endpoint',
    );
    assert.equal(new Set(payloads.map((p) => p.messageId)).size, 3);
  });
});
