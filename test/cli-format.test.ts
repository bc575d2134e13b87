/** The CLI's one-line event format, in-process: every interruption is readable at a glance. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEvent, painter } from '../src/cli/format.js';
import { FAILURE_EVENTS } from '../src/cli/output.js';

const plain = painter(false);
const base = {
  jobId: '42',
  task: 'resize',
  queue: 'media',
  correlationId: 'c',
  attempt: 2,
  maxAttempts: 3,
  poolId: 'p',
  workerId: 'host:1:abc/0',
  runAt: 0,
  startedAt: 0,
  waitMs: 0,
  metadata: {},
};
const error = {
  name: 'ShutdownInterruptedError',
  message: 'cut off',
  attempt: 2,
  at: 0,
  interrupted: true as const,
};

describe('cli event format', () => {
  it('says what a shutdown cut-off did to the job', () => {
    const again = formatEvent(
      'job:interrupted',
      { ...base, error, interruptions: 1, willRunAgain: true, durationMs: 5, at: 0 },
      plain,
      { now: 0 },
    );
    assert.match(
      again,
      /job:interrupted\s+#42\s+resize\s+media\s+2\/3 .*cut off by shutdown \(1 interruptions\); queued again/,
    );
    const last = formatEvent(
      'job:interrupted',
      { ...base, error, interruptions: 5, willRunAgain: false, durationMs: 5, at: 0 },
      plain,
      { now: 0 },
    );
    assert.match(last, /interruption budget used up/);
    assert.ok(FAILURE_EVENTS.has('job:interrupted'), '--quiet still prints it');
  });
});
