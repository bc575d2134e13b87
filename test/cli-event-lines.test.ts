/**
 * Event lines of `jobwire events`: every event of the catalogue fits in 100 columns however long
 * its names and messages, keeps its identifying columns whole, and carries the time with its
 * zone; date lines mark the days.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENT_NAMES, EventLinePrinter, eventLine, eventTime, LINE_WIDTH } from '../src/cli/event-lines.js';
import { painter } from '../src/cli/format.js';
import { formatEvent } from '../src/cli/format-event.js';
import type { LoggedEvent } from '../src/index.js';

const plain = painter(false);
const AT = Date.UTC(2026, 11, 1, 13, 3, 7, 250);

/** Every field any payload has, long where a field can be long. */
function payload(type: string): Record<string, unknown> {
  const error = { name: 'TypeError', message: `cannot read ${'properties '.repeat(30)}`, attempt: 2, at: AT };
  const data: Record<string, unknown> = {
    jobId: '123456789012345',
    task: 'render-a-very-long-video-name',
    queue: 'transcoding-high-priority',
    correlationId: 'c0ffee',
    attempt: 2,
    maxAttempts: 5,
    poolId: `${'a-very-long-host-name'.repeat(3)}:4242:abcdef`,
    workerId: 'host:4242:abcdef/3',
    index: 3,
    runAt: AT,
    startedAt: AT,
    waitMs: 12,
    queuedAt: AT - 60_000,
    state: 'scheduled',
    priority: 3,
    uniqueKey: 'k'.repeat(200),
    metadata: { videoId: 'v'.repeat(100) },
    progress: { percent: 40, frame: `${'1'.repeat(100)}/300` },
    completedAt: AT,
    durationMs: 1234,
    result: 'r'.repeat(500),
    failedAt: AT,
    error,
    willRetry: true,
    delayMs: 5000,
    nextRunAt: AT + 5000,
    reason: 'attempts-exhausted',
    previousState: 'running',
    previousPoolId: 'p'.repeat(120),
    leaseExpiredAt: AT,
    interruptions: 1,
    willRunAgain: true,
    queues: Array.from({ length: 30 }, (_, i) => `queue-${i}`),
    concurrency: 10,
    running: 2,
    graceMs: 10_000,
    aborted: 0,
    released: 1,
    operation: 'claim',
    retryInMs: 400,
    service: 'subscription:a-long-subscription-name-for-tests',
    ownerId: `maintenance:${'o'.repeat(100)}`,
    maxPending: 100,
    pending: 250,
    host: 'h'.repeat(100),
    pid: 4242,
    lastSeenAt: AT,
    paused: false,
    scheduled: 4,
    oldestPendingMs: 90_000,
    windowMs: 60_000,
    completed: 40,
    failedAttempts: 2,
    abandoned: 1,
    throughputPerSec: 0.66,
    successRate: 0.95,
    failureRate: 0.05,
    alertId: 'queue-backlog:transcoding-high-priority',
    kind: 'queue-backlog',
    value: 250,
    threshold: 100,
    firedAt: AT,
    signal: 'SIGTERM',
    forced: false,
    dependencyIds: ['123456789012340', '123456789012341'],
    dependencyId: '123456789012340',
    at: AT,
  };
  // Only job events (and worker:busy) name a job.
  if (!type.startsWith('job:') && type !== 'worker:busy') {
    delete data.jobId;
    delete data.task;
  }
  return data;
}

const event = (type: string, at = AT) => ({ type, data: payload(type), at }) as unknown as LoggedEvent;

describe('event lines', () => {
  test(`every event fits in ${LINE_WIDTH} columns and keeps the job id whole`, () => {
    for (const type of [...EVENT_NAMES, 'future:event']) {
      const line = eventLine(event(type), plain);
      assert.ok(line.length <= LINE_WIDTH, `${type}: ${line.length} columns\n${line}`);
      assert.ok(line.includes(` ${type}`), `${type}: ${line}`);
      if (type.startsWith('job:')) {
        assert.match(line, / #123456789012345 transcoding-high-pr… \d\/5 /, line);
      }
    }
    // With an everyday id and names, the detail gets the rest of the line.
    const short = (type: string) =>
      ({
        type,
        at: AT,
        data: { ...payload(type), jobId: '42', queue: 'video', task: 'render' },
      }) as LoggedEvent;
    const failed = eventLine(short('job:failed'), plain);
    assert.match(failed, / 2\/5 +will retry: TypeError: cannot read/);
    assert.match(eventLine(short('job:queued'), plain), / 0\/5 +runs in 1m00s, priority 3, key kkk/);
    assert.match(eventLine(short('job:deleted'), plain), / 2\/5 +was running$/);
    const deleted = formatEvent('job:deleted', short('job:deleted').data as never, plain, { now: AT });
    assert.match(deleted, /job:deleted +#42 +render +video +2\/5 +was running$/, deleted);
  });

  test('the time carries its zone: Z in UTC, the offset elsewhere', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      assert.equal(eventTime(AT), '13:03:07.250Z');
      assert.match(eventLine(event('job:completed'), plain), /^13:03:07\.250Z {2}job:completed /);
      process.env.TZ = 'Asia/Kolkata';
      assert.equal(eventTime(AT), '18:33:07.250+05:30');
      process.env.TZ = 'America/New_York';
      assert.equal(eventTime(AT), '08:03:07.250-05:00');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  test('a date line comes first (or only when not today, for a live tail) and when the day changes', () => {
    const printed: string[] = [];
    const always = new EventLinePrinter((line) => printed.push(line), plain, { dated: 'always' });
    const day = 24 * 60 * 60 * 1000;
    always.print(event('job:queued', AT));
    always.print(event('job:started', AT + 1));
    always.print(event('job:completed', AT + day));
    assert.deepEqual(
      printed.filter((line) => line.startsWith('──')),
      [
        `── ${new Date(AT).toLocaleDateString('sv')} ──`,
        `── ${new Date(AT + day).toLocaleDateString('sv')} ──`,
      ],
    );
    assert.equal(printed.length, 5);

    const live: string[] = [];
    const tail = new EventLinePrinter((line) => live.push(line), plain, { dated: 'when-not-today' });
    tail.print(event('job:queued', Date.now()));
    assert.equal(live.length, 1, 'no date line for today');
  });
});
