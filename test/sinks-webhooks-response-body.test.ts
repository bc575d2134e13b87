/**
 * A delivery's outcome is the receiver's status line: a 2xx answer is a success as soon as it
 * arrives, whatever the body does after it (a receiver that streams or trickles a body must not
 * turn an accepted delivery into a timeout, a retry and a duplicate), and a failure's body is
 * read only up to the preview's limit (an endless error body must not hide the status behind a
 * timeout).
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { defineTask } from '../src/core/task.js';
import { deliverHttp, WebhookResponseError } from '../src/sinks/webhooks/deliver.js';
import { generateWebhookSecret, webhooks } from '../src/sinks/webhooks/index.js';
import { testPool, until, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

/** A server whose answer `answer` writes; every open response is ended when the test ends. */
async function server(t: TestContext, answer: (res: ServerResponse) => void) {
  let requests = 0;
  const open = new Set<ServerResponse>();
  const srv = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      open.add(res);
      answer(res);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  );
  return {
    url: new URL(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`),
    requests: () => requests,
  };
}

/** Writes a chunk every 100 ms for `ms`, then ends. */
function trickle(res: ServerResponse, ms: number): void {
  const timer = setInterval(() => res.write('.'.repeat(1024)), 100);
  setTimeout(() => {
    clearInterval(timer);
    res.end();
  }, ms);
  res.on('close', () => clearInterval(timer));
}

const post = (url: URL, timeoutMs: number) =>
  deliverHttp({
    url,
    headers: {},
    body: '{}',
    timeoutMs,
    allowPrivateTargets: true,
    signal: AbortSignal.timeout(timeoutMs),
  });

describe('webhook responses', () => {
  test('a 2xx status is a success at once, even while its body is still coming', async (t) => {
    const { url } = await server(t, (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      trickle(res, 5_000);
    });
    const started = Date.now();
    assert.equal(await post(url, 2_000), 200);
    assert.ok(Date.now() - started < 1_500, `resolved after ${Date.now() - started} ms`);
  });

  test('a non-2xx status with an endless body fails with its status, not a timeout', async (t) => {
    const { url } = await server(t, (res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.write('busy, try later ');
      const timer = setInterval(() => res.write('x'.repeat(8 * 1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    await assert.rejects(post(url, 2_000), (error: unknown) => {
      assert.ok(error instanceof WebhookResponseError, `got ${String(error)}`);
      assert.equal(error.status, 503);
      assert.match(error.message, /answered 503: busy, try later/);
      return true;
    });
  });

  test('end to end: a receiver that accepts with a slow body gets the delivery once, completed', async (t) => {
    const receiver = await server(t, (res) => {
      res.writeHead(200);
      trickle(res, 3_000);
    });
    const failing = defineTask({
      name: 'fails',
      maxAttempts: 1,
      handler: () => {
        throw new Error('boom');
      },
    });
    const { client } = await withClient(t, sqliteDatabases, { tasks: [failing] });
    const sink = webhooks(client, {
      allowPrivateTargets: true,
      timeoutMs: 1_000,
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 10 },
      endpoints: [
        {
          id: 'slow-body',
          url: receiver.url.href,
          secret: generateWebhookSecret(),
          events: ['job:abandoned'],
        },
      ],
    });
    t.after(() => sink.stop());
    const pool = client.createPool({ ...testPool, queues: ['default', sink.queue] });
    await pool.start();
    t.after(() => pool.stop());
    await client.enqueue(failing, {});
    let states: string[] = [];
    await until(
      async () => {
        states = (await client.listJobs({ queue: sink.queue })).jobs.map((job) => job.state);
        return states.length === 1 && (states[0] === 'completed' || states[0] === 'abandoned');
      },
      10_000,
      'the delivery finished',
    );
    assert.deepEqual(states, ['completed']);
    assert.equal(receiver.requests(), 1, 'sent once');
  });
});
