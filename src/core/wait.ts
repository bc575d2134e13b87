/**
 * `waitForJob`: resolve with a job's result, from any process. In-process events give an
 * immediate answer when the job runs here; a poll of the database (backing off to
 * `pollIntervalMs`) covers jobs run by other processes.
 */

import { MAX_LOGGED_RESULT_BYTES } from '../driver/completed-entry.js';
import {
  InvalidOptionError,
  JobFailedError,
  JobNotFoundError,
  WaitAbortedError,
  WaitTimeoutError,
} from './errors.js';
import type { LoggedEvent } from './event-log/types.js';
import { assertKnownOptions, optionNames } from './known-options.js';
import type { Runtime } from './runtime.js';
import type { JobRecord } from './types.js';

/** Options of `waitForJob`. */
export interface WaitForJobOptions {
  /** Reject with a WaitTimeoutError (`JOBWIRE_WAIT_TIMEOUT`) after this many ms. Default: wait forever. */
  timeoutMs?: number;
  /** Stop waiting when this signal aborts (rejects with a WaitAbortedError, `JOBWIRE_WAIT_ABORTED`). */
  signal?: AbortSignal;
  /** Longest interval between database checks. Default 500 ms. */
  pollIntervalMs?: number;
}

function settled(
  job: JobRecord,
): { done: true; value: unknown } | { done: true; error: Error } | { done: false } {
  if (job.state === 'completed') return { done: true, value: job.result };
  if (job.state === 'abandoned' || job.state === 'cancelled') {
    const last = job.errors.at(-1) ?? null;
    return { done: true, error: new JobFailedError(job.id, job.state, last) };
  }
  return { done: false };
}

/** The job's `job:completed` from the log, if it has one. */
async function loggedCompletion(
  logged: (id: string) => Promise<LoggedEvent[]>,
  id: string,
): Promise<{ result: unknown; resultOmitted?: true } | undefined> {
  const events = await logged(id);
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === 'job:completed') return event.data;
  }
  return undefined;
}

const WAIT_OPTIONS = optionNames<WaitForJobOptions>({ timeoutMs: true, signal: true, pollIntervalMs: true });

/**
 * See `Jobwire.waitForJob`. Needs only storage and the event bus of the runtime, and `logged` (the
 * job's events from the durable log) for a job whose row was deleted as it completed (retention
 * `completed: 'immediately'`): its result is then the one its logged `job:completed` carries.
 */
export function waitForJob(
  runtime: Pick<Runtime, 'driver' | 'events'>,
  id: string,
  options: WaitForJobOptions,
  logged?: (id: string) => Promise<LoggedEvent[]>,
): Promise<unknown> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object like { timeoutMs: 30000 }');
  }
  // `timeout` for `timeoutMs` would otherwise wait forever.
  assertKnownOptions('', options, WAIT_OPTIONS, 'waitForJob option');
  const { timeoutMs } = options;
  // A negative or non-number timeout would reject at once as a timeout, hiding the mistake.
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > 2_147_483_647)
  ) {
    throw new InvalidOptionError(
      'timeoutMs',
      `must be a number of ms from 0 to 2147483647, got ${String(timeoutMs).slice(0, 40)}`,
    );
  }
  const maxPoll = options.pollIntervalMs ?? 500;
  if (!Number.isFinite(maxPoll) || maxPoll < 1)
    throw new InvalidOptionError('pollIntervalMs', 'must be >= 1');
  return new Promise((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    let finished = false;
    const finish = (error: Error | null, value?: unknown) => {
      if (finished) return;
      finished = true;
      for (const cleanup of cleanups) cleanup();
      if (error) reject(error);
      else resolve(value);
    };
    // This process's own report of the completion, for a row deleted as it completed.
    let completedHere: { result: unknown } | undefined;
    const check = async () => {
      const job = await runtime.driver.jobGet({ id });
      if (!job) {
        if (completedHere) return finish(null, completedHere.result);
        const completion = logged ? await loggedCompletion(logged, id) : undefined;
        if (completion?.resultOmitted) {
          return finish(
            new JobNotFoundError(
              id,
              `It completed and its row was deleted (retention completed: 'immediately'), and its result was over ${MAX_LOGGED_RESULT_BYTES} bytes, too large for the event log: keep its queue's completed jobs to wait for such results.`,
            ),
          );
        }
        if (completion) return finish(null, completion.result);
        // The common cause: waiting inside the transaction that enqueued it, which other
        // connections cannot see until it commits.
        const hint =
          "If it was enqueued in a transaction, wait after that transaction commits; a job deleted by hand or by retention is gone too (a completed job deleted as it completed, retention completed: 'immediately', is found through its job:completed event, which needs the event log on).";
        return finish(new JobNotFoundError(id, hint));
      }
      const state = settled(job);
      if (state.done)
        finish('error' in state ? state.error : null, 'value' in state ? state.value : undefined);
    };

    // In-process fast path: re-read the row when this process reports the job done, so the
    // answer is the stored one whichever event arrives first.
    const onDone = (event: { jobId: string }) => {
      if (event.jobId === id) void check().catch((error) => finish(error));
    };
    cleanups.push(
      runtime.events.on('job:completed', (event) => {
        // As the row would have stored it (JSON), not the handler's own object.
        if (event.jobId === id)
          completedHere = {
            result: event.result === undefined ? null : JSON.parse(JSON.stringify(event.result)),
          };
        onDone(event);
      }),
    );
    cleanups.push(runtime.events.on('job:abandoned', onDone));
    cleanups.push(runtime.events.on('job:cancelled', onDone));

    if (options.signal) {
      const signal = options.signal;
      if (signal.aborted) return finish(new WaitAbortedError(id));
      const onAbort = () => finish(new WaitAbortedError(id));
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }
    if (options.timeoutMs !== undefined) {
      const timeoutMs = options.timeoutMs;
      const timer = setTimeout(() => finish(new WaitTimeoutError(id, timeoutMs)), timeoutMs);
      cleanups.push(() => clearTimeout(timer));
    }

    let delay = 10;
    let timer: NodeJS.Timeout | undefined;
    cleanups.push(() => clearTimeout(timer));
    const poll = () => {
      check()
        .catch((error) => finish(error))
        .finally(() => {
          if (finished) return;
          delay = Math.min(maxPoll, delay * 2);
          timer = setTimeout(poll, delay);
        });
    };
    poll();
  });
}
