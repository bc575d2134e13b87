/**
 * `jobwire jobs show`: the lease line says whether the lease is still held or has run out (a
 * running job whose process was killed shows an expired lease until the rescuer takes it back).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderJob } from '../src/cli/commands/jobs.js';
import { painter } from '../src/cli/format.js';
import type { JobRecord } from '../src/index.js';

/** A job running under a lease that ends `inMs` from now (negative: ended that long ago). */
function runningJob(inMs: number): JobRecord {
  const now = Date.now();
  return {
    id: '1',
    task: 'sleep',
    queue: 'default',
    payload: {},
    state: 'running',
    priority: 0,
    attempt: 1,
    maxAttempts: 3,
    interruptions: 0,
    runAt: new Date(now - 60_000),
    createdAt: new Date(now - 60_000),
    startedAt: new Date(now - 40_000),
    finishedAt: null,
    leaseExpiresAt: new Date(now + inMs),
    poolId: 'host:1:abc',
    result: null,
    errors: [],
    progress: null,
    uniqueKey: null,
    dedup: null,
    concurrencyKey: null,
    correlationId: 'c',
    metadata: {},
    timeoutMs: null,
    backoff: null,
  };
}

const leaseLine = (job: JobRecord) =>
  renderJob(job, painter(false))
    .split('\n')
    .find((line) => /^ {2}lease /.test(line));

test('an expired lease reads "lease expired … ago", a live one "lease expires … in"', () => {
  assert.match(
    leaseLine(runningJob(-7710)) ?? '',
    /^ {2}lease expired +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}\(7\.\d\ds ago\)$/,
  );
  assert.match(
    leaseLine(runningJob(20_000)) ?? '',
    /^ {2}lease expires +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}\(in \d+\.\ds\)$/,
  );
  const finished = { ...runningJob(0), state: 'completed' as const, leaseExpiresAt: null };
  assert.match(leaseLine(finished) ?? '', /^ {2}lease expires +–$/);
});
