/**
 * Errors as HTTP answers. Every error leaves as JSON `{ error: { code, message, details? } }`
 * with the status that fits: the client's typed errors keep their `code`, problems found by the
 * HTTP layer itself (bad JSON, a body too large, no credentials…) have `JOBWIRE_HTTP_*` codes,
 * and anything unexpected is a 500 whose message reveals nothing of the server.
 */
import { isJobwireError } from '../index.js';

/** A problem the HTTP layer found in a request. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of an error answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Status codes of the client's errors, by `code`. */
const STATUS_BY_CODE: Record<string, number> = {
  JOBWIRE_INVALID_OPTION: 400,
  JOBWIRE_UNKNOWN_TASK: 422,
  JOBWIRE_INVALID_PAYLOAD: 422,
  JOBWIRE_PAYLOAD_TOO_LARGE: 413,
  JOBWIRE_QUEUE_FULL: 429,
  JOBWIRE_JOB_NOT_FOUND: 404,
  JOBWIRE_SCHEDULE_NOT_FOUND: 404,
  JOBWIRE_NOT_RETRYABLE: 409,
  JOBWIRE_EVENT_CURSOR_EXPIRED: 410,
  JOBWIRE_CLOSED: 503,
};

/** Fields of a client error worth returning (what names the problem), by `code`. */
function detailsOf(error: Record<string, unknown>): Record<string, unknown> | undefined {
  const details: Record<string, unknown> = {};
  for (const key of [
    'field',
    'task',
    'issues',
    'bytes',
    'limitBytes',
    'queue',
    'maxPending',
    'pending',
    'jobId',
    'state',
    'cursor',
    'scheduleId',
  ]) {
    if (error[key] !== undefined) details[key] = error[key];
  }
  return Object.keys(details).length ? details : undefined;
}

/** `error` as a status and a JSON body (see the module comment). */
export function errorAnswer(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details) body.error.details = error.details;
    return { status: error.status, body };
  }
  if (isJobwireError(error)) {
    let status = STATUS_BY_CODE[error.code];
    if (status === undefined && error.code === 'JOBWIRE_STORAGE') {
      status = (error as { kind?: string }).kind === 'unavailable' ? 503 : 500;
    }
    if (status !== undefined && status < 500) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      const details = detailsOf(error as unknown as Record<string, unknown>);
      if (details) body.error.details = details;
      return { status, body };
    }
    if (status === 503) {
      return {
        status,
        body: {
          error: { code: error.code, message: 'The job store is unavailable right now; retry later.' },
        },
      };
    }
  }
  return {
    status: 500,
    body: { error: { code: 'JOBWIRE_HTTP_INTERNAL', message: 'Internal server error.' } },
  };
}

/**
 * 400 naming the field: a request parameter or body field has the wrong type or value, or is
 * one nothing reads. `extra` adds details (the known names, a suggestion).
 */
export function badRequest(field: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(400, 'JOBWIRE_INVALID_OPTION', `Invalid option "${field}": ${message}`, {
    field,
    ...extra,
  });
}
