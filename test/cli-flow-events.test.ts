/**
 * The flow-control hold events as the CLI shows them: `jobwire events` lines and the worker's
 * event stream name the key (or queue), the limit that holds it and how long it was held.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventDetail, eventLine } from '../src/cli/event-lines.js';
import { painter } from '../src/cli/format.js';
import { formatEvent } from '../src/cli/format-event.js';
import { logMessage } from '../src/sinks/log.js';

const plain = painter(false);
const AT = Date.UTC(2026, 11, 1, 13, 3, 7, 250);

const keyHeld = {
  queue: 'email',
  key: 'tenant:acme',
  scope: 'key' as const,
  limit: 'concurrency' as const,
  running: 2,
  max: 2,
  intervalMs: null,
  at: AT,
};
const queueHeld = {
  ...keyHeld,
  key: null,
  scope: 'queue' as const,
  limit: 'rate' as const,
  max: 5,
  intervalMs: 1000,
};
const unheld = {
  queue: 'email',
  key: 'tenant:acme',
  scope: 'key' as const,
  reason: 'started' as const,
  heldSince: AT - 1500,
  heldMs: 1500,
  at: AT,
};

test('jobwire events: flow:held names the key or queue and its limit; flow:unheld how long', () => {
  assert.equal(eventDetail('flow:held', keyHeld), 'tenant:acme in email held: concurrency 2/2 running');
  assert.match(eventDetail('flow:held', queueHeld), /^queue email held: rate 5\/1s$/);
  assert.match(
    eventDetail('flow:unheld', unheld),
    /^tenant:acme in email let go after 1\.50?s \(a job started\)$/,
  );
  assert.match(
    eventDetail('flow:unheld', { ...unheld, key: null, scope: 'queue', reason: 'cleared' }),
    /^queue email let go after .* \(nothing of it left to start\)$/,
  );
  const line = eventLine({ type: 'flow:held', data: keyHeld, at: AT }, plain);
  assert.match(line, /flow:held\s+tenant:acme in email held: concurrency 2\/2 running$/);
});

test('worker event stream and log sink: the hold events read as sentences', () => {
  assert.match(
    formatEvent('flow:held', keyHeld, plain, { now: AT }),
    /flow:held\s+tenant:acme in email held: concurrency 2\/2 running/,
  );
  assert.match(formatEvent('flow:unheld', unheld, plain, { now: AT }), /let go after 1\.50?s/);
  assert.equal(
    logMessage('flow:held', keyHeld),
    'key tenant:acme of queue email held by its concurrency limit',
  );
  assert.equal(
    logMessage('flow:unheld', { ...unheld, key: null, scope: 'queue' }),
    'queue email no longer held (started) after 1500 ms',
  );
});
