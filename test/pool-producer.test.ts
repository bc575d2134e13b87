/**
 * The producer's wake-ups, on a fake driver that records claims (no database): an in-process
 * wake-up with a due time makes the pool claim then, not at its next poll.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../src/core/events.js';
import { RuntimeHooks } from '../src/core/hooks.js';
import { DirectStarts } from '../src/core/pool/direct-starts.js';
import { Executor } from '../src/core/pool/executor.js';
import { resolvePoolSettings } from '../src/core/pool/options.js';
import { Producer } from '../src/core/pool/producer.js';
import { InFlightWrites, type Runtime, silentLogger, Wakeups } from '../src/core/runtime.js';
import { TaskRegistry } from '../src/core/task-registry.js';
import { systemClock } from '../src/core/types.js';
import type { ClaimedJob, Driver } from '../src/driver/driver.js';

/** A producer on a driver whose claims find nothing; `claims` resolves one waiter per claim. */
function setup() {
  let claimCount = 0;
  const waiters: (() => void)[] = [];
  const driver = {
    capabilities: { crossProcessNotify: false, callerTransactions: false, blocksEventLoop: false },
    notifier: { listen: () => () => {} },
    async jobClaim(): Promise<ClaimedJob[]> {
      claimCount++;
      for (const wake of waiters.splice(0)) wake();
      return [];
    },
  } as unknown as Driver;
  const runtime: Runtime = {
    driver,
    events: new EventBus(),
    clock: systemClock,
    dbNow: () => undefined,
    tasks: new TaskRegistry(),
    logger: silentLogger,
    limits: { maxPayloadBytes: 1024, maxResultBytes: 1024, maxInterruptions: 3 },
    wakeups: new Wakeups(),
    directStarts: new DirectStarts(),
    inFlight: new InFlightWrites(),
    hooks: new RuntimeHooks(),
    eventLog: false,
    deletesAtCompletion: () => false,
  };
  // A poll far beyond any test timeout: every claim after the first comes from a wake-up.
  const settings = resolvePoolSettings({ queues: ['mail'], pollIntervalMs: 3_600_000, id: 'p' });
  const executor = new Executor(runtime, settings, {
    progressChanged() {},
    attemptEnded() {},
    slotFreed() {},
  });
  const producer = new Producer(runtime, settings, executor, {
    finalizerBacklog: () => 0,
    claimSettled() {},
    giveBack: async () => {},
    returnSuspects() {},
    reportError(operation, error) {
      throw new Error(`unexpected ${operation} error: ${String(error)}`);
    },
  });
  const nextClaim = () => new Promise<void>((resolve) => waiters.push(resolve));
  return { runtime, producer, nextClaim, claims: () => claimCount };
}

describe('Producer wake-ups', () => {
  it('claims once at start, then at the due time a wake-up announced', { timeout: 5000 }, async () => {
    const { runtime, producer, nextClaim, claims } = setup();
    const first = nextClaim();
    producer.start();
    await first;
    assert.equal(claims(), 1);
    const dueAt = Date.now() + 30;
    const second = nextClaim();
    runtime.wakeups.notify('mail', dueAt);
    assert.equal(claims(), 1, 'not before the due time');
    await second;
    assert.equal(Date.now() >= dueAt, true, 'the claim waited for the due time');
    producer.stop();
    assert.equal(runtime.wakeups.hasListeners, false, 'stop() unsubscribes');
  });

  it('keeps several due times and wakes at each, earliest first', { timeout: 5000 }, async () => {
    const { runtime, producer, nextClaim, claims } = setup();
    const first = nextClaim();
    producer.start();
    await first;
    runtime.wakeups.notify('mail', Date.now() + 80);
    runtime.wakeups.notify('mail', Date.now() + 20);
    await nextClaim();
    await nextClaim();
    assert.equal(claims(), 3);
    producer.stop();
  });

  it('a wake-up without a due time, or one already due, claims at once; other queues are ignored', {
    timeout: 5000,
  }, async () => {
    const { runtime, producer, nextClaim, claims } = setup();
    const first = nextClaim();
    producer.start();
    await first;
    runtime.wakeups.notify('other-queue');
    runtime.wakeups.notify('other-queue', Date.now() - 1);
    const second = nextClaim();
    runtime.wakeups.notify('mail', Date.now() - 1000);
    await second;
    const third = nextClaim();
    runtime.wakeups.notify('mail');
    await third;
    assert.equal(claims(), 3, 'only the served queue woke the producer');
    producer.stop();
  });
});
