/**
 * The running job's identity, visible to code called from its handler — so jobs enqueued from
 * inside a handler inherit its correlation id without passing it by hand.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler's async context carries. */
export interface RunningJobContext {
  jobId: string;
  correlationId: string;
}

/** The async-local store of the running job. */
export const runningJob = new AsyncLocalStorage<RunningJobContext>();
