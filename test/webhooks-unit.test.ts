/**
 * The webhook sink's parts without a database: the address classifier (the SSRF guard), the
 * Standard Webhooks signature (verified by the reference `standardwebhooks` package), option
 * validation, and one HTTP delivery (refusals, redirects, timeouts).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { InvalidOptionError } from '../src/core/errors.js';
import { deliverHttp } from '../src/sinks/webhooks/deliver.js';
import {
  classifyAddress,
  generateWebhookSecret,
  signWebhook,
  WebhookResponseError,
  WebhookTargetRefusedError,
  webhookMessageId,
} from '../src/sinks/webhooks/index.js';
import { resolveSinkOptions, selects } from '../src/sinks/webhooks/options.js';
import { startReceiver } from './support/webhook-receiver.js';

describe('classifyAddress', () => {
  const refused: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.1', 'private'],
    ['192.168.1.10', 'private'],
    ['100.64.0.1', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::', 'unique-local'],
    ['fd00::1', 'unique-local'],
    ['fc12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['64:ff9b:1::a00:1', 'reserved'],
    ['64:ff9b:1:2::8.8.8.8', 'reserved'],
    ['2002:7f00:1::', 'loopback'],
    ['2001:db8::1', 'documentation'],
    ['not-an-address', 'invalid'],
  ];
  for (const [address, kind] of refused) {
    test(`${address} is ${kind}`, () => assert.equal(classifyAddress(address), kind));
  }
  const allowed = [
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '11.0.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '::ffff:0:8.8.8.8',
  ];
  for (const address of allowed) {
    test(`${address} is public`, () => assert.equal(classifyAddress(address), null));
  }
});

describe('signature', () => {
  test('the standardwebhooks package verifies what signWebhook signs', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'job:abandoned', data: { jobId: '7' } });
    const now = Date.now() / 1000;
    const headers = signWebhook(secret, 'msg_abc', now, body);
    assert.equal(headers['webhook-id'], 'msg_abc');
    assert.equal(headers['webhook-timestamp'], String(Math.floor(now)));
    assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
    // A changed body, or another secret, does not verify.
    assert.throws(() => new Webhook(secret).verify(`${body} `, { ...headers }));
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers }));
  });

  test('the signature equals the reference implementation byte for byte', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const at = new Date(1_700_000_000_000);
    const expected = new Webhook(secret).sign('msg_1', at, '{"a":1}');
    assert.equal(signWebhook(secret, 'msg_1', at.getTime() / 1000, '{"a":1}')['webhook-signature'], expected);
  });

  test('while a secret rotates, both signatures go out and a receiver with either secret verifies', () => {
    const [fresh, old] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = JSON.stringify({ type: 'job:abandoned', data: { jobId: '8' } });
    const headers = signWebhook([fresh, old], 'msg_rot', Date.now() / 1000, body);
    assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(new Webhook(fresh).verify(body, { ...headers }), JSON.parse(body));
    assert.deepEqual(new Webhook(old).verify(body, { ...headers }), JSON.parse(body));
    assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers }));
    // One secret in a list signs exactly as the secret alone.
    assert.deepEqual(
      signWebhook([fresh], 'msg_1', 1_700_000_000, body),
      signWebhook(fresh, 'msg_1', 1_700_000_000, body),
    );
  });

  test('message ids are stable for one event and differ between events', () => {
    const event = { queue: 'q', at: 1 };
    assert.equal(webhookMessageId('queue:paused', event), webhookMessageId('queue:paused', { ...event }));
    assert.notEqual(webhookMessageId('queue:paused', event), webhookMessageId('queue:resumed', event));
    assert.notEqual(
      webhookMessageId('queue:paused', event),
      webhookMessageId('queue:paused', { ...event, at: 2 }),
    );
  });
});

describe('options', () => {
  const endpoint = {
    id: 'ops',
    url: 'https://hooks.example.com/x',
    secret: generateWebhookSecret(),
    events: ['*'],
  };
  const invalid: [string, object][] = [
    ['endpoints', { endpoints: [] }],
    ['endpoints[0].secret', { endpoints: [{ ...endpoint, secret: 'plain-text' }] }],
    ['endpoints[0].secret', { endpoints: [{ ...endpoint, secret: 'whsec_c2hvcnQ=' }] }],
    ['endpoints[0].secret', { endpoints: [{ ...endpoint, secret: [] }] }],
    ['endpoints[0].secret[1]', { endpoints: [{ ...endpoint, secret: [endpoint.secret, 'plain'] }] }],
    ['endpoints[0].secret', { endpoints: [{ ...endpoint, secret: Array(6).fill(endpoint.secret) }] }],
    ['endpoints[0].url', { endpoints: [{ ...endpoint, url: 'ftp://example.com' }] }],
    ['endpoints[0].url', { endpoints: [{ ...endpoint, url: 'https://user:pw@example.com' }] }],
    ['endpoints[0].events', { endpoints: [{ ...endpoint, events: [] }] }],
    ['endpoints[0].events', { endpoints: [{ ...endpoint, events: ['job'] }] }],
    ['endpoints[1].id', { endpoints: [endpoint, endpoint] }],
    ['maxAttempts', { endpoints: [endpoint], maxAttempts: 0 }],
    ['timeoutMs', { endpoints: [endpoint], timeoutMs: 1.5 }],
  ];
  for (const [field, options] of invalid) {
    test(`refuses a bad ${field}`, () => {
      assert.throws(
        () => resolveSinkOptions(options as never),
        (error: unknown) => error instanceof InvalidOptionError && error.field === field,
      );
    });
  }

  test('event patterns select exact names, scopes and everything', () => {
    assert.ok(selects(['job:abandoned'], 'job:abandoned'));
    assert.ok(!selects(['job:abandoned'], 'job:failed'));
    assert.ok(selects(['queue:*'], 'queue:paused'));
    assert.ok(!selects(['queue:*'], 'job:queued'));
    assert.ok(selects(['*'], 'worker:idle'));
  });
});

describe('deliverHttp', () => {
  const base = { headers: {}, body: '{}', timeoutMs: 5_000, signal: new AbortController().signal };

  test('refuses a loopback literal and a name resolving to loopback before any request', async (t) => {
    const receiver = await startReceiver(t);
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      await assert.rejects(
        deliverHttp({
          ...base,
          url: new URL(`http://${host}:${receiver.port}/`),
          allowPrivateTargets: false,
        }),
        (error: unknown) =>
          error instanceof WebhookTargetRefusedError && /allowPrivateTargets/.test(error.message),
      );
    }
    assert.equal(receiver.received.length, 0);
  });

  test('does not follow a redirect: a 3xx is a failed delivery', async (t) => {
    const receiver = await startReceiver(t, () => 302);
    await assert.rejects(
      deliverHttp({ ...base, url: new URL(receiver.url), allowPrivateTargets: true }),
      (error: unknown) => error instanceof WebhookResponseError && error.status === 302,
    );
    assert.equal(receiver.received.length, 1);
  });

  test('an endpoint that does not answer in time fails the delivery', async (t) => {
    const server = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    await assert.rejects(
      deliverHttp({
        ...base,
        timeoutMs: 50,
        url: new URL(`http://127.0.0.1:${port}/`),
        allowPrivateTargets: true,
      }),
      /did not answer within 50 ms/,
    );
  });
});
