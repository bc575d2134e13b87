/** The CLI's one-line event format, in-process: every interruption is readable at a glance. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { painter } from '../src/cli/format.js';
import { formatEvent } from '../src/cli/format-event.js';
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
      /job:interrupted\s+#42\s+resize\s+media\s+2\/3 [\s\S]*shutdown cut it off \(interruption 1\); runs again, same attempt$/,
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

  it('fits 80 columns: a long detail moves to its own line under the event name, cut to fit; an error wraps whole', () => {
    const failed = formatEvent(
      'job:failed',
      {
        ...base,
        task: 'a-rather-long-task-name',
        failedAt: 0,
        durationMs: 1234,
        willRetry: true,
        error: { name: 'Error', message: 'x'.repeat(200), attempt: 2, at: 0 },
      },
      plain,
      { now: 0 },
    );
    const [head, detail, ...more] = failed.split('\n');
    assert.match(head!, /^00:00:00\.000 job:failed +#42 +a-rather-long-… media +2\/3 +w0$/);
    assert.match(detail!, /^ {13}1\.23s +x+$/);
    for (const line of more) assert.match(line, /^ {13}x+$/, 'the rest of the message, under the name');
    assert.equal(failed.match(/x/g)?.length, 200, 'the whole message');
    for (const line of failed.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    const deduplicated = formatEvent(
      'job:deduplicated',
      { ...base, rule: 'unique', key: 'k'.repeat(200), state: 'pending', at: 0 },
      plain,
      { now: 0 },
    );
    const [, keyLine, ...rest] = deduplicated.split('\n');
    assert.deepEqual(rest, []);
    assert.match(keyLine!, /^ {13}unique key k+…$/);
    assert.equal(keyLine!.length, 80);
    const wide = formatEvent(
      'job:completed',
      { ...base, completedAt: 0, durationMs: 5, result: null },
      plain,
      {
        now: 0,
        width: 120,
      },
    );
    assert.ok(!wide.includes('\n'));
  });
});
