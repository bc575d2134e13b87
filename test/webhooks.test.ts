/**
 * The webhook sink end to end, on SQLite and PostgreSQL: events of a real client become
 * delivery jobs that a pool sends to a receiver on 127.0.0.1, signed (verified with the
 * `standardwebhooks` package), retried, refused for private targets, and never about themselves.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { defineTask } from '../src/core/task.js';
import type { ConformanceDatabases } from '../src/driver/conformance/index.js';
import {
  generateWebhookSecret,
  WEBHOOK_DELIVER_TASK,
  type WebhookBody,
  type WebhookSinkOptions,
  webhooks,
} from '../src/sinks/webhooks/index.js';
import { nextEvent, recordEvents, testPool, until, withClient } from './support/harness.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';
import { startReceiver } from './support/webhook-receiver.js';

const failing = defineTask({
  name: 'always-fails',
  maxAttempts: 1,
  handler: () => {
    throw new Error('boom');
  },
});

/** Retries come fast in tests; the production default waits seconds. */
const fastRetries = { backoff: { type: 'fixed', delayMs: 10 } } as const;

async function setup(
  t: TestContext,
  databases: ConformanceDatabases,
  sinkOptions: Omit<WebhookSinkOptions, 'endpoints'> & { url: string; events: string[] },
) {
  const { client } = await withClient(t, databases, { tasks: [failing] });
  const secret = generateWebhookSecret();
  const { url, events, ...rest } = sinkOptions;
  const sink = webhooks(client, {
    ...fastRetries,
    ...rest,
    endpoints: [{ id: 'receiver', url, secret, events: events as never }],
  });
  const recorded = recordEvents(client);
  const pool = client.createPool({ ...testPool, concurrency: 1, queues: ['default', sink.queue] });
  return { client, sink, secret, recorded, pool };
}

function runWebhookSuite(databases: ConformanceDatabases) {
  describe(`webhooks on ${databases.name}`, () => {
    test('job:abandoned reaches the receiver signed per Standard Webhooks', async (t) => {
      const receiver = await startReceiver(t);
      const { client, sink, secret, pool } = await setup(t, databases, {
        url: receiver.url,
        events: ['job:abandoned'],
        allowPrivateTargets: true,
      });
      const delivered = nextEvent(client, 'job:completed', (event) => event.task === WEBHOOK_DELIVER_TASK);
      await pool.start();
      const job = await client.enqueue(failing, {});
      const completion = await delivered;
      assert.equal(receiver.received.length, 1);
      const [request] = receiver.received;
      assert.equal(request!.method, 'POST');
      assert.equal(request!.headers['content-type'], 'application/json');
      const headers = {
        'webhook-id': String(request!.headers['webhook-id']),
        'webhook-timestamp': String(request!.headers['webhook-timestamp']),
        'webhook-signature': String(request!.headers['webhook-signature']),
      };
      const body = new Webhook(secret).verify(request!.body, headers) as WebhookBody;
      assert.equal(body.type, 'job:abandoned');
      assert.equal((body.data as { jobId: string }).jobId, job.id);
      assert.equal((body.data as { reason: string }).reason, 'attempts-exhausted');
      assert.match(headers['webhook-id'], /^msg_/);
      const stored = await client.getJob(completion.jobId);
      assert.equal(stored?.queue, sink.queue);
      assert.deepEqual(stored?.result, {
        status: 200,
        endpointId: 'receiver',
        messageId: headers['webhook-id'],
      });
      assert.equal(stored?.metadata.webhookEvent, 'job:abandoned');
      // One sink per client: a second would register a second delivery task of the same name.
      assert.throws(
        () => webhooks(client, { endpoints: [{ id: 'x', url: receiver.url, secret, events: ['*'] }] }),
        /has a webhook sink already/,
      );
    });

    test('a receiver answering 500 twice gets retries; the third attempt completes the delivery', async (t) => {
      const receiver = await startReceiver(t, (index) => (index < 2 ? 500 : 200));
      const { client, secret, recorded, pool } = await setup(t, databases, {
        url: receiver.url,
        events: ['queue:paused'],
        allowPrivateTargets: true,
      });
      const delivered = nextEvent(client, 'job:completed', (event) => event.task === WEBHOOK_DELIVER_TASK);
      await pool.start();
      await client.pauseQueue('reports');
      const completion = await delivered;
      assert.equal(completion.attempt, 3);
      const retries = recorded.of('job:retrying').filter((event) => event.jobId === completion.jobId);
      assert.equal(retries.length, 2);
      assert.match(retries[0]!.error.message, /answered 500/);
      assert.equal(receiver.received.length, 3);
      // Every attempt carries the same message id and a valid signature of its own.
      const ids = new Set(receiver.received.map((request) => request.headers['webhook-id']));
      assert.equal(ids.size, 1);
      for (const request of receiver.received) {
        const body = new Webhook(secret).verify(request.body, {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as WebhookBody;
        assert.deepEqual(body.data, { queue: 'reports', at: (body.data as { at: number }).at });
      }
    });

    test('a private target is refused by default: the delivery is abandoned as unrecoverable', async (t) => {
      const receiver = await startReceiver(t);
      const { client, pool } = await setup(t, databases, {
        url: `http://localhost:${receiver.port}/hook`,
        events: ['queue:paused'],
      });
      const abandoned = nextEvent(client, 'job:abandoned', (event) => event.task === WEBHOOK_DELIVER_TASK);
      await pool.start();
      await client.pauseQueue('reports');
      const event = await abandoned;
      assert.equal(event.reason, 'unrecoverable');
      assert.equal(event.attempt, 1);
      assert.match(event.error.message, /resolves to (127\.0\.0\.1|::1), a loopback address/);
      assert.match(event.error.message, /allowPrivateTargets/);
      assert.equal(receiver.received.length, 0);
      const stored = await client.getJob(event.jobId);
      assert.equal(stored?.state, 'abandoned');
    });

    test('410 Gone abandons the delivery at once: the receiver asks for no more', async (t) => {
      const receiver = await startReceiver(t, () => 410);
      const { client, pool } = await setup(t, databases, {
        url: receiver.url,
        events: ['queue:paused'],
        allowPrivateTargets: true,
      });
      const abandoned = nextEvent(client, 'job:abandoned', (event) => event.task === WEBHOOK_DELIVER_TASK);
      await pool.start();
      await client.pauseQueue('reports');
      const event = await abandoned;
      assert.equal(event.reason, 'unrecoverable');
      assert.equal(event.attempt, 1);
      assert.match(event.error.message, /answered 410/);
      assert.equal(receiver.received.length, 1);
    });

    test("delivery jobs' own events are not delivered", async (t) => {
      const receiver = await startReceiver(t);
      const { client, sink, recorded, pool } = await setup(t, databases, {
        url: receiver.url,
        events: ['job:*', 'queue:*', 'worker:*'],
        allowPrivateTargets: true,
      });
      const types = () => receiver.received.map((request) => (JSON.parse(request.body) as WebhookBody).type);
      const workerIdle = () =>
        recorded.names().lastIndexOf('worker:idle') > recorded.names().lastIndexOf('worker:busy');
      const completedDeliveries = () =>
        recorded.of('job:completed').filter((event) => event.task === WEBHOOK_DELIVER_TASK).length;
      // Without the guard each delivery's queued/started/completed and worker busy/idle events
      // are delivered by more jobs, without end — enqueue after enqueue, starving the event loop
      // of timers. A breaker stops the sink from inside the loop, so that failure ends the test.
      let deliveriesQueued = 0;
      client.events.on('job:queued', (event) => {
        if (event.task === WEBHOOK_DELIVER_TASK && ++deliveriesQueued > 20) void sink.stop();
      });
      try {
        await pool.start();
        await client.pauseQueue('reports');
        await until(() => types().includes('queue:paused'), 5_000, 'queue:paused delivered');
        await until(workerIdle, 5_000, 'the delivery worker idle');
        await client.resumeQueue('reports');
        await until(() => completedDeliveries() >= 4 && workerIdle(), 5_000, 'every delivery done');
      } finally {
        await sink.stop();
      }
      // The pool's own worker events (it was created after the sink) are delivered like any.
      assert.deepEqual(types().sort(), ['queue:paused', 'queue:resumed', 'worker:created', 'worker:started']);
      const { jobs } = await client.listJobs({ queue: sink.queue });
      assert.equal(jobs.length, 4);
    });

    test("from the durable log: another process's events are delivered once, and a restart resumes", async (t) => {
      const receiver = await startReceiver(t);
      const { client: emitter, db } = await withClient(t, databases, { tasks: [failing] });
      // The sink runs in a second client on the same database, as another process would.
      const secret = generateWebhookSecret();
      const open = async () => {
        const { createJobwire } = await import('../src/core/client.js');
        const client = await createJobwire({ driver: await db.open() });
        const sink = webhooks(client, {
          ...fastRetries,
          allowPrivateTargets: true,
          source: { subscription: 'hooks' },
          endpoints: [
            { id: 'receiver', url: receiver.url, secret, events: ['queue:paused', 'queue:resumed'] },
          ],
        });
        const pool = client.createPool({ ...testPool, concurrency: 1, queues: [sink.queue] });
        await pool.start();
        return { client, sink };
      };
      const first = await open();
      await emitter.pauseQueue('reports');
      await until(() => receiver.received.length === 1, 10_000, 'the first delivery');
      await first.sink.stop();
      await first.client.close();
      // Committed while no sink runs: delivered by the next one, from the stored position.
      await emitter.resumeQueue('reports');
      const second = await open();
      t.after(() => second.client.close());
      await until(() => receiver.received.length === 2, 10_000, 'the delivery after the restart');
      await new Promise((r) => setTimeout(r, 300));
      const types = receiver.received.map((request) => {
        const headers = {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        };
        return (new Webhook(secret).verify(request.body, headers) as WebhookBody).type;
      });
      assert.deepEqual(types, ['queue:paused', 'queue:resumed'], 'each once, in order');
      await second.sink.stop();
    });
  });
}

runWebhookSuite(sqliteDatabases);
runWebhookSuite(postgresDatabases);
