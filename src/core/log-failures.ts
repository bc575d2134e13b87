/**
 * What jobwire itself writes to the `logger` option: the failures it recovers from —
 * `pool:error` and `service:error` at warn (the pool or service retries) — and event listeners
 * that throw, at error (unless `onListenerError` is given). One place, fed by the same events an
 * application sees, so a log line and an event never disagree. A line per event (job started,
 * completed…) is `logEvents(jobwire, logger)` from the log sink, not this.
 */
import { InvalidOptionError } from './errors.js';
import type { EventBus } from './events.js';
import type { Logger } from './runtime.js';

const METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** `logger` if it has the four methods jobwire calls (pino's logger does), else InvalidOptionError. */
export function checkLogger(logger: unknown): Logger {
  const missing = METHODS.filter(
    (method) => typeof (logger as Record<string, unknown> | null)?.[method] !== 'function',
  );
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new InvalidOptionError(
      'logger',
      `must be a pino-compatible logger with ${METHODS.join(', ')} methods` +
        (missing.length < METHODS.length ? ` (missing ${missing.join(', ')})` : ''),
    );
  }
  return logger as Logger;
}

/** The `onListenerError` a logger implies: the listener's error at `error`. */
export function listenerErrorsTo(logger: Logger): (error: unknown, eventName: string) => void {
  return (error, eventName) =>
    logger.error({ err: error, event: eventName }, `jobwire: a listener for "${eventName}" threw`);
}

/** Log `pool:error` and `service:error` at warn. Returns a function that stops. */
export function logFailures(events: EventBus, logger: Logger): () => void {
  const offPool = events.on('pool:error', (e) =>
    logger.warn(
      { event: 'pool:error', poolId: e.poolId, operation: e.operation, err: e.error, retryInMs: e.retryInMs },
      `jobwire pool ${e.poolId}: ${e.operation} failed: ${e.error.message}`,
    ),
  );
  const offService = events.on('service:error', (e) =>
    logger.warn(
      {
        event: 'service:error',
        service: e.service,
        operation: e.operation,
        err: e.error,
        retryInMs: e.retryInMs,
      },
      `jobwire ${e.service}: ${e.operation} failed: ${e.error.message}`,
    ),
  );
  return () => {
    offPool();
    offService();
  };
}
