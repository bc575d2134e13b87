/**
 * The webhook sink reading the durable log (`source: { subscription }`) starts, the first time its
 * subscription name is used, at the events committed from then on — not at the oldest event the
 * log keeps (up to 7 days by default): attaching the sink to a database with history must not
 * send that history to the receivers (stale `alert:fired`, `job:abandoned` … of past days).
 * `from: 'start'` asks for the retained history on purpose. A restart still resumes from the
 * stored position (test/webhooks.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { InvalidOptionError } from '../src/core/errors.js';
import type { ConformanceDatabase } from '../src/driver/conformance/index.js';
import {
  generateWebhookSecret,
  type WebhookBody,
  type WebhookSinkOptions,
  webhooks,
} from '../src/sinks/webhooks/index.js';
import { testPool, until, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';
import { startReceiver } from './support/webhook-receiver.js';

/** A second client on the same database, as the process that attaches the sink would be. */
async function attach(
  t: TestContext,
  db: ConformanceDatabase,
  url: string,
  secret: string,
  source: WebhookSinkOptions['source'],
) {
  const { createJobwire } = await import('../src/core/client.js');
  const client = await createJobwire({ driver: await db.open() });
  const sink = webhooks(client, {
    backoff: { type: 'fixed', delayMs: 10 },
    allowPrivateTargets: true,
    source,
    endpoints: [{ id: 'receiver', url, secret, events: ['queue:paused', 'queue:resumed'] }],
  });
  const pool = client.createPool({ ...testPool, concurrency: 1, queues: [sink.queue] });
  await pool.start();
  t.after(async () => {
    await sink.stop();
    await client.close();
  });
  return { client, sink };
}

function deliveredTypes(received: { body: string; headers: Record<string, unknown> }[], secret: string) {
  return received.map((request) => {
    const headers = {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    };
    return (new Webhook(secret).verify(request.body, headers) as WebhookBody).type;
  });
}

describe('webhooks from the durable log: where a new subscription starts', () => {
  test('a new sink delivers only events committed after it was attached, not the retained history', async (t) => {
    const receiver = await startReceiver(t);
    const { client: emitter, db } = await withClient(t, sqliteDatabases);
    // History: committed long before anyone attached a webhook sink.
    await emitter.pauseQueue('reports');
    await emitter.resumeQueue('reports');
    await emitter.pauseQueue('billing');

    const secret = generateWebhookSecret();
    await attach(t, db, receiver.url, secret, { subscription: 'hooks' });
    // Let the new subscription take its starting position before the next event commits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await emitter.resumeQueue('billing');
    await until(() => receiver.received.length >= 1, 10_000, 'the delivery of the new event');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      deliveredTypes(receiver.received, secret),
      ['queue:resumed'],
      'only the event committed after the sink was attached',
    );
    assert.equal(JSON.parse(receiver.received[0]!.body).data.queue, 'billing');
  });

  test("from: 'start' delivers the retained history on purpose", async (t) => {
    const receiver = await startReceiver(t);
    const { client: emitter, db } = await withClient(t, sqliteDatabases);
    await emitter.pauseQueue('reports');
    await emitter.resumeQueue('reports');
    const secret = generateWebhookSecret();
    await attach(t, db, receiver.url, secret, { subscription: 'hooks', from: 'start' });
    await until(() => receiver.received.length >= 2, 10_000, 'the two old events');
    assert.deepEqual(deliveredTypes(receiver.received, secret), ['queue:paused', 'queue:resumed']);
  });

  test('a bad from is refused when the sink is created', async (t) => {
    const { client } = await withClient(t, sqliteDatabases);
    assert.throws(
      () =>
        webhooks(client, {
          source: { subscription: 'hooks', from: 'yesterday' as never },
          endpoints: [
            {
              id: 'r',
              url: 'https://example.com/hook',
              secret: generateWebhookSecret(),
              events: ['queue:paused'],
            },
          ],
        }),
      (error: unknown) => error instanceof InvalidOptionError && /source\.from/.test(error.message),
    );
  });
});
