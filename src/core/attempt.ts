/**
 * Running one attempt: decode and validate the payload, call the handler inside the job's async
 * context, and race it against the attempt's AbortSignal — so a timeout, cancellation or
 * shutdown frees the worker even when the handler never settles.
 */
import type { ClaimedJob } from '../driver/driver.js';
import { runningJob } from './context.js';
import { JobTimeoutError, UnknownTaskError, UnrecoverableError } from './errors.js';
import type { AnyTask, TaskContext } from './task.js';
import { validatePayload } from './task.js';

/** How the handler ended. */
export type AttemptOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** Everything `executeAttempt` needs besides the job. */
export interface AttemptSetup {
  task: AnyTask | undefined;
  knownTasks: () => string[];
  controller: AbortController;
  workerId: string;
  onProgress: (value: unknown) => void;
}

const swallow = () => {};

/** Run the handler for `job`; never rejects. */
export async function executeAttempt(job: ClaimedJob, setup: AttemptSetup): Promise<AttemptOutcome> {
  const { task, controller } = setup;
  if (!task) return { ok: false, error: new UnknownTaskError(job.task, setup.knownTasks()) };

  let timer: NodeJS.Timeout | undefined;
  if (job.timeoutMs !== null) {
    const timeoutMs = job.timeoutMs;
    timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutMs)), timeoutMs);
  }
  const signal = controller.signal;
  try {
    let payload: unknown;
    try {
      payload = JSON.parse(job.payloadJson);
      if (task.schema) payload = await validatePayload(task, payload);
    } catch (error) {
      // A payload that no longer decodes or validates will not on a retry either.
      return {
        ok: false,
        error: new UnrecoverableError(
          `payload rejected before the run: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      };
    }
    if (signal.aborted) return { ok: false, error: signal.reason };

    const context: TaskContext = {
      job: {
        id: job.id,
        task: job.task,
        queue: job.queue,
        attempt: job.attempt,
        maxAttempts: job.maxAttempts,
        correlationId: job.correlationId,
        metadata: job.metadataJson === '{}' ? {} : JSON.parse(job.metadataJson),
        priority: job.priority,
      },
      signal,
      progress: setup.onProgress,
      workerId: setup.workerId,
    };

    let handlerPromise: Promise<unknown>;
    try {
      handlerPromise = Promise.resolve(
        runningJob.run({ jobId: job.id, correlationId: job.correlationId }, () => task.handler(payload, context)),
      );
    } catch (error) {
      return { ok: false, error };
    }
    return await raceAbort(handlerPromise, signal);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function raceAbort(handler: Promise<unknown>, signal: AbortSignal): Promise<AttemptOutcome> {
  return new Promise<AttemptOutcome>((resolve) => {
    if (signal.aborted) {
      handler.then(swallow, swallow);
      resolve({ ok: false, error: signal.reason });
      return;
    }
    const onAbort = () => resolve({ ok: false, error: signal.reason });
    signal.addEventListener('abort', onAbort, { once: true });
    handler.then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ ok: true, result });
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, error });
      },
    );
  });
}
