/**
 * Shared fixtures of the conformance suite: a fixed clock, job builders, and small helpers that
 * keep each test about one behaviour. Time is always passed explicitly, so nothing sleeps and
 * nothing depends on the wall clock.
 */
import assert from 'node:assert/strict';
import type { EpochMs, JobRecord, JobState, StoredError } from '../../core/types.js';
import type { ClaimedJob, Driver, FinalizeResult, JobInsertParams } from '../driver.js';

/** Registers one test; the body gets a fresh, migrated driver that is closed afterwards. */
export type DefineTest = (title: string, body: (driver: Driver) => Promise<void>) => void;

/** The suite's "now": every time in a test is T0 plus an offset. */
export const T0: EpochMs = Date.UTC(2030, 0, 1, 12, 0, 0);

/** Defaults used by `claim` and by tests that do not care about the lease length. */
export const LEASE_MS = 30_000;
export const WORKER = 'worker-a';

/** A job to insert, due now in queue `default`, with any field overridden. */
export function jobParams(overrides: Partial<JobInsertParams> = {}): JobInsertParams {
  return {
    task: 'send-email',
    queue: 'default',
    payloadJson: '{"to":"ada@example.com"}',
    priority: 0,
    maxAttempts: 3,
    delayMs: 0,
    runAt: null,
    uniqueKey: null,
    correlationId: 'corr-1',
    metadataJson: '{}',
    timeoutMs: null,
    backoff: null,
    ...overrides,
  };
}

/** Insert jobs (none may be refused) and return their records in input order. */
export async function insertJobs(
  driver: Driver,
  jobs: readonly Partial<JobInsertParams>[],
  now: EpochMs = T0,
): Promise<JobRecord[]> {
  const result = await driver.jobInsertMany({ jobs: jobs.map(jobParams), now });
  assert.ok('inserted' in result, 'insert was refused');
  return result.inserted.map((r) => r.job);
}

/** Insert one job and return its record. */
export async function insertJob(
  driver: Driver,
  overrides: Partial<JobInsertParams> = {},
  now: EpochMs = T0,
): Promise<JobRecord> {
  const [job] = await insertJobs(driver, [overrides], now);
  return job!;
}

/** Claim from `default` (or the given queues) at `now`. */
export function claim(
  driver: Driver,
  options: {
    queues?: string[];
    limit?: number;
    leaseMs?: number;
    poolId?: string;
    now?: EpochMs;
    excludeSuspects?: boolean;
  } = {},
): Promise<ClaimedJob[]> {
  return driver.jobClaim({
    queues: options.queues ?? ['default'],
    limit: options.limit ?? 10,
    leaseMs: options.leaseMs ?? LEASE_MS,
    poolId: options.poolId ?? WORKER,
    now: options.now ?? T0,
    ...(options.excludeSuspects === undefined ? {} : { excludeSuspects: options.excludeSuspects }),
  });
}

/** Claim exactly one job (the test set it up to be the only one due). */
export async function claimOne(
  driver: Driver,
  options: Parameters<typeof claim>[1] = {},
): Promise<ClaimedJob> {
  const claimed = await claim(driver, { ...options, limit: 1 });
  assert.equal(claimed.length, 1, 'expected one job to claim');
  return claimed[0]!;
}

/** Complete a claimed job and return the guarded write's result. */
export async function complete(
  driver: Driver,
  lease: { id: string; leaseToken: number },
  now: EpochMs = T0,
  resultJson: string | null = null,
): Promise<FinalizeResult> {
  const [result] = await driver.jobFinalizeMany({
    items: [{ id: lease.id, leaseToken: lease.leaseToken, outcome: 'completed', resultJson }],
    now,
  });
  return result!;
}

/** A stored error for attempt `attempt`. */
export function storedError(attempt: number, at: EpochMs, message = 'boom'): StoredError {
  return { name: 'Error', message, attempt, at };
}

/** The job as it is now; fails the test when it does not exist. */
export async function getJob(driver: Driver, id: string): Promise<JobRecord> {
  const job = await driver.jobGet({ id });
  assert.ok(job, `job ${id} does not exist`);
  return job;
}

/** The state of a job right now. */
export async function stateOf(driver: Driver, id: string): Promise<JobState> {
  return (await getJob(driver, id)).state;
}

/**
 * The next payload published on `channel` that passes `accept`. Subscribe before the action that
 * should notify. The timer only bounds a failing test; a passing test never waits on it.
 */
export function nextPayload(
  driver: Driver,
  channel: string,
  accept: (payload: string) => boolean = () => true,
  timeoutMs = 5000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no notification on ${channel} within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = driver.notifier.listen(channel, (payload) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(payload);
    });
  });
}

/** Compare decimal id strings numerically. */
export const byIdAscending = (a: string, b: string): number => (BigInt(a) < BigInt(b) ? -1 : a === b ? 0 : 1);
