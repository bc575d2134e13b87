/**
 * `runAttempt`'s contract, which the pool relies on: `done` is called exactly once and never
 * before `runAttempt` returns; an abort ends the attempt even when the handler never settles; a
 * failure before or inside the handler is an outcome, never a throw or a lost attempt.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttemptControl, type AttemptOutcome, type AttemptSetup, runAttempt } from '../src/core/attempt.js';
import { defineTask, type TaskHandler } from '../src/core/task.js';
import type { ClaimedJob } from '../src/driver/driver.js';

const job = (overrides: Partial<ClaimedJob> = {}): ClaimedJob => ({
  id: '7',
  task: 'work',
  queue: 'default',
  payloadJson: '{"n":1}',
  priority: 0,
  attempt: 1,
  maxAttempts: 3,
  interruptions: 0,
  leaseToken: 1,
  runAt: 0,
  createdAt: 0,
  startedAt: 0,
  correlationId: 'c',
  metadataJson: '{}',
  timeoutMs: null,
  backoff: null,
  ...overrides,
});

/** Runs `handler` (or an unknown task) for `claimed`; resolves with every outcome reported. */
function run(
  claimed: ClaimedJob,
  handler: TaskHandler<unknown, unknown> | undefined,
  control = new AttemptControl(),
  afterStart: (control: AttemptControl) => void = () => {},
): { outcomes: AttemptOutcome[]; returnedFirst: boolean; settled: Promise<AttemptOutcome[]> } {
  const outcomes: AttemptOutcome[] = [];
  let returned = false;
  let returnedFirst = true;
  let resolve!: () => void;
  const first = new Promise<void>((r) => (resolve = r));
  const setup: AttemptSetup = {
    task: handler ? defineTask({ name: 'work', handler }) : undefined,
    knownTasks: () => ['other'],
    control,
    workerId: 'p/0',
    onProgress: () => {},
    readDependencies: async () => [],
  };
  runAttempt(claimed, setup, (outcome) => {
    if (!returned) returnedFirst = false;
    outcomes.push(outcome);
    resolve();
  });
  returned = true;
  afterStart(control);
  // Settled: the first outcome, then a moment for any (wrong) second one.
  const settled = first.then(() => new Promise((r) => setTimeout(r, 20))).then(() => outcomes);
  return {
    outcomes,
    settled,
    get returnedFirst() {
      return returnedFirst;
    },
  };
}

describe('runAttempt', () => {
  it('reports a handler result once, after returning', async () => {
    const r = run(job(), async (payload) => ({ got: payload }));
    const outcomes = await r.settled;
    assert.equal(r.returnedFirst, true);
    assert.deepEqual(outcomes, [{ ok: true, result: { got: { n: 1 } } }]);
  });

  it('reports a synchronous throw, an unknown task and a bad payload as failed outcomes, after returning', async () => {
    const thrown = run(job(), () => {
      throw new Error('boom');
    });
    const unknown = run(job(), undefined);
    const badPayload = run(job({ payloadJson: '{nope' }), async () => 'ran');
    for (const r of [thrown, unknown, badPayload]) {
      const outcomes = await r.settled;
      assert.equal(r.returnedFirst, true);
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0]!.ok, false);
    }
    assert.match(String((badPayload.outcomes[0] as { error: Error }).error.message), /payload rejected/);
  });

  it('fails the attempt when its context cannot be built, without calling the handler', async () => {
    let called = false;
    const r = run(job({ metadataJson: '{not json' }), async () => {
      called = true;
    });
    const outcomes = await r.settled;
    assert.equal(called, false);
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]!.ok, false);
  });

  it('an abort ends an attempt whose handler never settles, once, with the abort reason', async () => {
    const reason = new Error('stop');
    const r = run(
      job(),
      () => new Promise(() => {}),
      undefined,
      (control) => setTimeout(() => control.abort(reason), 5),
    );
    const outcomes = await r.settled;
    assert.deepEqual(outcomes.map(withoutHandler), [{ ok: false, error: reason }]);
    // The handler still runs: the outcome carries its promise, so the slot can wait for it.
    assert.ok((outcomes[0] as { handlerStillRunning?: unknown }).handlerStillRunning instanceof Promise);
  });

  it('a handler settling after the abort changes nothing, and its rejection is handled', async () => {
    const reason = new Error('stop');
    let reject!: (error: Error) => void;
    const r = run(
      job(),
      () => new Promise((_, rej) => (reject = rej)),
      undefined,
      (control) => control.abort(reason),
    );
    const outcomes = await r.settled;
    reject(new Error('late'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(outcomes.map(withoutHandler), [{ ok: false, error: reason }]);
  });

  it('a job timeout aborts the handler with JobTimeoutError', async () => {
    const r = run(job({ timeoutMs: 10 }), () => new Promise(() => {}));
    const outcomes = await r.settled;
    assert.equal(outcomes.length, 1);
    assert.equal((outcomes[0] as { error: Error }).error.name, 'JobTimeoutError');
  });
});

/** An outcome without the handler's promise an abort carries (compared on its own). */
function withoutHandler(outcome: object): object {
  const { handlerStillRunning: _, ...rest } = outcome as { handlerStillRunning?: unknown };
  return rest;
}
