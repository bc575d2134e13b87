/**
 * Input checks for the pool-registry methods, run by every driver before its database sees the
 * input, so the same bad registration gets the same `InvalidOptionError` on every driver (see
 * guards.ts): text PostgreSQL refuses (NUL) or would alter (a lone surrogate) never reaches it.
 */
import { InvalidOptionError } from '../core/errors.js';
import { isQueueName, MAX_RUN_AT, MIN_RUN_AT } from '../core/options.js';
import { preview } from '../core/preview.js';
import {
  MAX_POOL_QUEUES,
  type PoolReapStaleParams,
  type PoolRegistration,
  type PoolRemoveParams,
  type PoolUpsertParams,
} from './driver.js';
import { assertStorableText } from './guards.js';

const INT4_MAX = 2_147_483_647;
/** Longest pool id, host name and version stored (a pool id is at most 200 characters). */
const MAX_ID_CHARS = 200;
const MAX_HOST_CHARS = 255;
const MAX_VERSION_CHARS = 64;

function assertInteger(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(field, `must be an integer from ${min} to ${max}, got ${preview(value)}`);
  }
}

function assertText(field: string, value: unknown, maxChars: number): void {
  assertStorableText(field, value);
  const length = (value as string).length;
  if (length === 0 || length > maxChars) {
    throw new InvalidOptionError(field, `must be 1 to ${maxChars} characters, got ${length}`);
  }
}

/** Check a pool id (`poolRemove`, and the id of `poolUpsert`). */
export function checkPoolId(field: string, value: unknown): string {
  assertText(field, value, MAX_ID_CHARS);
  return value as string;
}

/** Check a `poolRemove` call. */
export function checkPoolRemove(params: PoolRemoveParams): string {
  if (typeof params !== 'object' || params === null)
    throw new InvalidOptionError('params', 'must be an object');
  return checkPoolId('poolId', params.poolId);
}

/** Check a `poolUpsert` call and return the registration with its queues copied. */
export function checkPoolUpsert(params: PoolUpsertParams): PoolRegistration {
  const pool = params?.pool;
  if (typeof pool !== 'object' || pool === null) throw new InvalidOptionError('pool', 'must be an object');
  checkPoolId('pool.poolId', pool.poolId);
  assertText('pool.host', pool.host, MAX_HOST_CHARS);
  assertInteger('pool.pid', pool.pid, 0, INT4_MAX);
  if (!Array.isArray(pool.queues) || pool.queues.length === 0 || pool.queues.length > MAX_POOL_QUEUES) {
    throw new InvalidOptionError('pool.queues', `must be an array of 1 to ${MAX_POOL_QUEUES} queue names`);
  }
  pool.queues.forEach((queue, i) => {
    if (!isQueueName(queue)) {
      throw new InvalidOptionError(
        `pool.queues[${i}]`,
        `must be 1–128 letters, digits, ".", "_", "-" or ":", got ${preview(queue)}`,
      );
    }
  });
  assertInteger('pool.concurrency', pool.concurrency, 1, INT4_MAX);
  assertInteger('pool.busy', pool.busy, 0, pool.concurrency);
  if (pool.state !== 'running' && pool.state !== 'stopping') {
    throw new InvalidOptionError('pool.state', `must be "running" or "stopping", got ${preview(pool.state)}`);
  }
  assertInteger('pool.heartbeatMs', pool.heartbeatMs, 1, INT4_MAX);
  if (pool.version !== null) assertText('pool.version', pool.version, MAX_VERSION_CHARS);
  if (typeof pool.startedAt !== 'number' || !(pool.startedAt >= MIN_RUN_AT && pool.startedAt <= MAX_RUN_AT)) {
    throw new InvalidOptionError(
      'pool.startedAt',
      `must be epoch ms a date can show, got ${preview(pool.startedAt)}`,
    );
  }
  return { ...pool, startedAt: Math.floor(pool.startedAt), queues: [...pool.queues] };
}

/** Check a `poolReapStale` call; returns the number of missed heartbeats. */
export function checkPoolReap(params: PoolReapStaleParams): number {
  assertInteger('missedHeartbeats', params?.missedHeartbeats, 1, 1000);
  return params.missedHeartbeats;
}
