/** Every branch of the pool's outcome policy, without a database. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidPayloadError,
  JobCancelledError,
  JobTimeoutError,
  LeaseLostError,
  ShutdownAbortError,
  SnoozeError,
  UnrecoverableError,
} from '../src/core/errors.js';
import { decideOutcome, finalizeItemFor, type OutcomeInput } from '../src/core/pool/outcome-policy.js';
import type { ClaimedJob } from '../src/driver/driver.js';

const NOW = 1_700_000_000_000;

function job(overrides: Partial<ClaimedJob> = {}): ClaimedJob {
  return {
    id: '42',
    task: 'send-email',
    queue: 'default',
    payloadJson: '{}',
    priority: 0,
    attempt: 1,
    maxAttempts: 3,
    interruptions: 0,
    leaseToken: 7,
    runAt: NOW - 100,
    createdAt: NOW - 200,
    startedAt: NOW - 50,
    correlationId: 'c-1',
    metadataJson: '{}',
    timeoutMs: null,
    backoff: { type: 'exponential', baseMs: 1000, jitter: true },
    ...overrides,
  };
}

function decide(overrides: Partial<OutcomeInput>) {
  return decideOutcome({
    job: job(),
    outcome: { ok: true, result: undefined },
    abortReason: undefined,
    backoffFn: undefined,
    maxResultBytes: 1024,
    poolId: 'pool-a',
    now: NOW,
    random: () => 1,
    ...overrides,
  });
}

const failed = (error: unknown) => ({ ok: false, error }) as const;

describe('decideOutcome', () => {
  it('a returned value completes with its JSON; undefined stores no result', () => {
    assert.deepEqual(decide({ outcome: { ok: true, result: { sent: 3 } } }), {
      kind: 'complete',
      resultJson: '{"sent":3}',
    });
    assert.deepEqual(decide({}), { kind: 'complete', resultJson: null });
  });

  it('a result over maxResultBytes abandons the job as unrecoverable (the work is done)', () => {
    const decision = decide({ outcome: { ok: true, result: 'x'.repeat(2000) } });
    assert.equal(decision.kind, 'abandon');
    assert.equal(decision.kind === 'abandon' && decision.reason, 'unrecoverable');
    assert.equal(decision.kind === 'abandon' && decision.error.name, 'ResultTooLargeError');
    assert.equal(decision.kind === 'abandon' && decision.error.attempt, 1);
    assert.equal(decision.kind === 'abandon' && decision.error.at, NOW);
  });

  it('a failure with attempts left retries after the backoff (task function first, then job spec)', () => {
    const decision = decide({ outcome: failed(new Error('smtp down')), job: job({ attempt: 2 }) });
    assert.equal(decision.kind, 'retry');
    assert.equal(decision.kind === 'retry' && decision.delayMs, 2000);
    assert.equal(decision.kind === 'retry' && decision.error.message, 'smtp down');
    assert.equal(decision.kind === 'retry' && decision.error.attempt, 2);
    const custom = decide({ outcome: failed(new Error('x')), backoffFn: (attempt) => attempt * 7 });
    assert.equal(custom.kind === 'retry' && custom.delayMs, 7);
    const noJitter = decide({ outcome: failed(new Error('x')), random: () => 0 });
    assert.equal(noJitter.kind === 'retry' && noJitter.delayMs, 500);
  });

  it('a timeout is a failure like any other (retried while attempts are left)', () => {
    const timeout = new JobTimeoutError(100);
    const decision = decide({ outcome: failed(timeout), abortReason: timeout });
    assert.equal(decision.kind, 'retry');
  });

  it('the last attempt failing abandons the job with attempts-exhausted', () => {
    const decision = decide({ outcome: failed(new Error('still down')), job: job({ attempt: 3 }) });
    assert.equal(decision.kind, 'abandon');
    assert.equal(decision.kind === 'abandon' && decision.reason, 'attempts-exhausted');
    assert.equal(decision.kind === 'abandon' && decision.error.message, 'still down');
  });

  it('UnrecoverableError and InvalidPayloadError abandon at once, attempts left or not', () => {
    for (const error of [
      new UnrecoverableError('never'),
      new InvalidPayloadError('send-email', 'bad payload'),
    ]) {
      const decision = decide({ outcome: failed(error) });
      assert.equal(decision.kind, 'abandon');
      assert.equal(decision.kind === 'abandon' && decision.reason, 'unrecoverable');
    }
  });

  it('a SnoozeError snoozes for its delay (the attempt does not count)', () => {
    assert.deepEqual(decide({ outcome: failed(new SnoozeError(300)), job: job({ attempt: 3 }) }), {
      kind: 'snooze',
      delayMs: 300,
    });
  });

  it('a shutdown cut-off is an interruption recorded under the attempt number', () => {
    const reason = new ShutdownAbortError();
    const decision = decide({ outcome: failed(reason), abortReason: reason, job: job({ attempt: 2 }) });
    assert.equal(decision.kind, 'interrupt');
    assert.deepEqual(decision.kind === 'interrupt' && decision.error, {
      name: 'ShutdownInterruptedError',
      message:
        'pool pool-a shut down and its grace period ended before the attempt finished; ' +
        'the attempt does not count (an interruption)',
      attempt: 2,
      at: NOW,
      interrupted: true,
    });
  });

  it('a cancelled job or a lost lease writes nothing, whatever the handler threw', () => {
    const cancelled = new JobCancelledError('42');
    assert.deepEqual(decide({ outcome: failed(new Error('aborted')), abortReason: cancelled }), {
      kind: 'drop',
      why: 'cancelled',
    });
    const lost = new LeaseLostError('42');
    assert.deepEqual(decide({ outcome: failed(lost), abortReason: lost }), {
      kind: 'drop',
      why: 'lease-lost',
    });
  });

  it('a handler that returned before the abort landed still completes', () => {
    const decision = decide({ outcome: { ok: true, result: 1 }, abortReason: new ShutdownAbortError() });
    assert.deepEqual(decision, { kind: 'complete', resultJson: '1' });
  });
});

describe('finalizeItemFor', () => {
  it('turns each storing decision into the fenced write', () => {
    const claimed = job();
    const error = { name: 'Error', message: 'x', attempt: 1, at: NOW };
    assert.deepEqual(finalizeItemFor(claimed, { kind: 'complete', resultJson: '1' }), {
      id: '42',
      leaseToken: 7,
      outcome: 'completed',
      resultJson: '1',
    });
    assert.deepEqual(finalizeItemFor(claimed, { kind: 'retry', delayMs: 5, error }), {
      id: '42',
      leaseToken: 7,
      outcome: 'retry',
      error,
      delayMs: 5,
    });
    assert.deepEqual(finalizeItemFor(claimed, { kind: 'abandon', reason: 'unrecoverable', error }), {
      id: '42',
      leaseToken: 7,
      outcome: 'abandoned',
      error,
    });
    assert.deepEqual(finalizeItemFor(claimed, { kind: 'snooze', delayMs: 9 }), {
      id: '42',
      leaseToken: 7,
      outcome: 'snoozed',
      delayMs: 9,
    });
  });
});
