/**
 * `logEvents` with a real pino logger writing JSON lines to a stream.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { EventBus, type JobwireEvents } from '../src/core/events.js';
import { defineTask } from '../src/core/task.js';
import { logEvents } from '../src/sinks/log.js';
import { nextEvent, testPool, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

/** pino's numeric levels. */
const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A pino logger at debug whose JSON lines land in `lines`. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug', base: undefined, timestamp: false },
    { write: (chunk: string) => lines.push(JSON.parse(chunk)) },
  );
  return { logger, lines, of: (event: string) => lines.filter((line) => line.event === event) };
}

const storedError = { name: 'Error', message: 'disk full', attempt: 0, at: 1 };

test('a job run is logged as JSON lines with levels, event names and messages, without bodies', async (t) => {
  let calls = 0;
  const flaky = defineTask({
    name: 'flaky',
    maxAttempts: 2,
    backoff: { type: 'fixed', delayMs: 0 },
    handler: async (_payload: { secret: string }, { progress }) => {
      progress({ step: 'private detail' });
      if (++calls === 1) throw new Error('first try fails');
      return { token: 'private result' };
    },
  });
  const { client } = await withClient(t, sqliteDatabases, { tasks: [flaky] });
  const { logger, lines, of } = capture();
  const stop = logEvents(client, logger);

  const job = await client.enqueue(flaky, { secret: 's3cret' }, { metadata: { tenant: 'private' } });
  const completed = nextEvent(client, 'job:completed');
  const pool = client.createPool(testPool);
  await pool.start();
  await completed;
  await pool.stop();
  stop();
  const count = lines.length;
  await client.enqueue(flaky, { secret: 'x' });
  assert.equal(lines.length, count, 'nothing is logged after stop()');

  const [queued] = of('job:queued');
  assert.deepEqual(
    { level: queued?.level, msg: queued?.msg, jobId: queued?.jobId, queue: queued?.queue },
    { level: LEVEL.debug, msg: `job ${job.id} (flaky) queued on default`, jobId: job.id, queue: 'default' },
  );
  const [failed] = of('job:failed');
  assert.equal(failed?.level, LEVEL.warn);
  assert.equal(failed?.msg, `job ${job.id} (flaky) failed attempt 1/2: Error: first try fails (will retry)`);
  assert.equal(failed?.willRetry, true);
  const [done] = of('job:completed');
  assert.equal(done?.level, LEVEL.info);
  assert.equal(done?.attempt, 2);
  assert.match(String(done?.msg), new RegExp(`^job ${job.id} \\(flaky\\) completed in \\d+ ms$`));
  assert.equal(of('job:progress')[0]?.level, LEVEL.debug);
  assert.equal(of('worker:busy')[0]?.level, LEVEL.debug);
  assert.equal(of('pool:started')[0]?.level, LEVEL.info);

  for (const line of lines) {
    assert.ok(!('result' in line) && !('progress' in line) && !('metadata' in line), JSON.stringify(line));
  }
  const text = JSON.stringify(lines);
  for (const secret of ['s3cret', 'private detail', 'private result', 'tenant']) {
    assert.ok(!text.includes(secret), `"${secret}" was logged`);
  }
});

test('bodies are opt-in; levels can be overridden per event; events can be filtered', () => {
  const bus = new EventBus();
  const { logger, lines } = capture();
  const base = { jobId: '9', task: 't', queue: 'q', correlationId: 'c', attempt: 1, maxAttempts: 1 };
  const attempt = { ...base, poolId: 'p', workerId: 'p/0', runAt: 0, startedAt: 0, waitMs: 0, metadata: {} };
  const stop = logEvents({ events: bus }, logger, {
    includeBodies: true,
    events: ['job:completed', 'job:progress'],
    level: {
      'job:completed': 'warn',
      'job:progress': (event) => ((event.progress as number) < 50 ? 'off' : 'info'),
    },
  });
  bus.emit('job:completed', { ...attempt, completedAt: 5, durationMs: 5, result: { rows: 3 } });
  bus.emit('job:progress', { ...attempt, progress: 10, at: 1 });
  bus.emit('job:progress', { ...attempt, progress: 60, at: 2 });
  bus.emit('pool:error', { poolId: 'p', operation: 'claim', error: storedError, retryInMs: 5, at: 3 });
  stop();
  assert.deepEqual(
    lines.map((line) => [line.event, line.level, line.result ?? line.progress]),
    [
      ['job:completed', LEVEL.warn, { rows: 3 }],
      ['job:progress', LEVEL.info, 60],
    ],
  );
});

test('failures an operator must see are logged at error', () => {
  const bus = new EventBus();
  const { logger, lines } = capture();
  logEvents({ events: bus }, logger);
  const base = { jobId: '3', task: 't', queue: 'q', correlationId: 'c', attempt: 3, maxAttempts: 3 };
  const attempt = { ...base, poolId: 'p', workerId: 'p/0', runAt: 0, startedAt: 0, waitMs: 0, metadata: {} };
  const failed: JobwireEvents['job:failed'] = {
    ...attempt,
    failedAt: 1,
    durationMs: 1,
    error: storedError,
    willRetry: false,
  };
  bus.emit('job:failed', failed);
  bus.emit('job:abandoned', { ...base, reason: 'attempts-exhausted', error: storedError, at: 1 });
  bus.emit('pool:error', { poolId: 'p', operation: 'claim', error: storedError, retryInMs: 5, at: 3 });
  bus.emit('service:error', {
    service: 'rescuer',
    operation: 'rescue',
    error: storedError,
    retryInMs: 5,
    at: 3,
  });
  bus.emit('job:rescued', {
    ...base,
    previousPoolId: 'p',
    leaseExpiredAt: 1,
    interruptions: 1,
    error: storedError,
    at: 2,
  });
  bus.emit('job:cancelled', { ...base, previousState: 'pending', at: 4 });
  assert.deepEqual(
    lines.map((line) => [line.event, line.level, line.msg]),
    [
      ['job:failed', LEVEL.error, 'job 3 (t) failed attempt 3/3: Error: disk full'],
      ['job:abandoned', LEVEL.error, 'job 3 (t) abandoned (attempts-exhausted): Error: disk full'],
      ['pool:error', LEVEL.error, 'pool p claim failed: Error: disk full'],
      ['service:error', LEVEL.error, 'rescuer rescue failed: Error: disk full'],
      ['job:rescued', LEVEL.warn, 'job 3 (t) rescued'],
      ['job:cancelled', LEVEL.info, 'job 3 (t) cancelled'],
    ],
  );
  assert.deepEqual(lines[2]?.error, storedError);
});
