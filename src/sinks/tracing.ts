/**
 * OpenTelemetry tracing for a client, through `@opentelemetry/api` only: without an SDK every
 * call is a no-op. Installed with `instrumentTracing(jobwire)`, it
 * - wraps each enqueue in a `jobwire.enqueue` producer span, active around the insert (so the
 *   database client's own spans nest under it), and stores that span's W3C trace context in each
 *   job's metadata under the reserved key `$trace` (`{ traceparent, tracestate? }`);
 * - runs each attempt inside a `<task> process` consumer span, child of the stored context, so
 *   a job's runs join the trace of the code that enqueued it — across processes — and the
 *   handler's own spans nest under its attempt. A failed attempt's span records the exception
 *   and has status error.
 * Attributes follow the OpenTelemetry messaging semantic conventions (`messaging.system` is
 * `jobwire`, the destination is the queue, the message id the job id).
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { AttemptOutcome } from '../core/attempt.js';
import type { Jobwire } from '../core/client.js';
import { SnoozeError } from '../core/errors.js';
import type { AttemptInfo, EnqueueBatch } from '../core/hooks.js';
import type { JobRecord } from '../core/types.js';
import { assertKnownOptions, optionNames } from '../index.js';

/** The metadata key holding a job's trace context. Reserved: an enqueue's own value is replaced. */
export const TRACE_METADATA_KEY = '$trace';

/** What `$trace` holds: the W3C Trace Context headers of the enqueue span. */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

/** Options of `instrumentTracing`. */
export interface TracingOptions {
  /** Where spans go. Default: the global tracer provider (a no-op until an SDK registers one). */
  tracerProvider?: TracerProvider;
}

/** Every field of `TracingOptions` (the compiler checks the list against it); any other key is refused. */
const TRACING_OPTION_NAMES = optionNames<TracingOptions>({ tracerProvider: true });

const TRACER_NAME = 'jobwire';

/**
 * Trace `jobwire`'s enqueues and attempts (see the module comment). The handler's spans nest
 * under its attempt only when a context manager is registered (the Node SDK registers the
 * AsyncLocalStorage one). Returns a function that removes the instrumentation. An option key
 * `TracingOptions` does not name is an `InvalidOptionError`: a misspelt `tracerProvider` would
 * otherwise send every span to the global provider, often a no-op.
 */
export function instrumentTracing(jobwire: Jobwire, options: TracingOptions = {}): () => void {
  assertKnownOptions('', options, TRACING_OPTION_NAMES, 'instrumentTracing option');
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
  return jobwire.addHooks({
    enqueue: { aroundInsert: (batch, write) => traceEnqueue(tracer, batch, write) },
    attempt: { aroundAttempt: (attempt, run) => traceAttempt(tracer, attempt, run) },
  });
}

async function traceEnqueue<J extends JobRecord>(
  tracer: Tracer,
  batch: EnqueueBatch,
  write: (metadata?: Readonly<Record<string, unknown>>) => Promise<J[]>,
): Promise<J[]> {
  const queues = new Set(batch.jobs.map((job) => job.queue));
  const attributes: Attributes = {
    'messaging.system': 'jobwire',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'enqueue',
  };
  const [queue] = queues;
  if (queues.size === 1 && queue !== undefined) attributes['messaging.destination.name'] = queue;
  if (batch.jobs.length !== 1) attributes['messaging.batch.message_count'] = batch.jobs.length;
  const span = tracer.startSpan('jobwire.enqueue', { kind: SpanKind.PRODUCER, attributes });
  const stored = toStoredContext(span.spanContext());
  try {
    // No span context (no SDK, no parent): nothing to carry or to nest under; skip the context switch.
    const jobs = stored
      ? await context.with(trace.setSpan(context.active(), span), () =>
          write({ [TRACE_METADATA_KEY]: stored }),
        )
      : await write();
    const [first] = jobs;
    if (jobs.length === 1 && first) {
      span.setAttribute('messaging.message.id', first.id);
      span.setAttribute('jobwire.task', first.task);
    }
    return jobs;
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

async function traceAttempt(
  tracer: Tracer,
  attempt: AttemptInfo,
  run: () => Promise<AttemptOutcome>,
): Promise<AttemptOutcome> {
  const parent = storedParent(attempt.metadata()[TRACE_METADATA_KEY]);
  const span = tracer.startSpan(
    `${attempt.task} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'jobwire',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': attempt.queue,
        'messaging.message.id': attempt.jobId,
        'messaging.message.conversation_id': attempt.correlationId,
        'jobwire.task': attempt.task,
        'jobwire.attempt': attempt.attempt,
        'jobwire.max_attempts': attempt.maxAttempts,
        'jobwire.worker.id': attempt.workerId,
      },
    },
    parent,
  );
  try {
    // As at enqueue: a span without a context (no SDK, no parent) has nothing for the handler to nest under.
    const outcome = isSpanContextValid(span.spanContext())
      ? await context.with(trace.setSpan(parent, span), run)
      : await run();
    if (outcome.ok) span.setStatus({ code: SpanStatusCode.OK });
    else if (outcome.error instanceof SnoozeError) span.setAttribute('jobwire.snoozed', true);
    else failSpan(span, outcome.error);
    return outcome;
  } finally {
    span.end();
  }
}

function failSpan(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setAttribute('error.type', exception.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}

/** The W3C headers of `spanContext`, or undefined when it is not a real one (no SDK, no parent). */
function toStoredContext(spanContext: SpanContext): StoredTraceContext | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const stored: StoredTraceContext = {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
  };
  const tracestate = spanContext.traceState?.serialize();
  if (tracestate) stored.tracestate = tracestate;
  return stored;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The context to start an attempt's span in: the enqueue's, from the job's `$trace`, else the
 * root (an attempt of a job enqueued without a trace starts its own trace; a `$trace` that is
 * not valid W3C is ignored, never an error).
 */
function storedParent(value: unknown): Context {
  if (typeof value !== 'object' || value === null) return ROOT_CONTEXT;
  const { traceparent, tracestate } = value as Partial<Record<string, unknown>>;
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  if (!match || match[1] === 'ff') return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16),
    isRemote: true,
  };
  if (typeof tracestate === 'string' && tracestate) spanContext.traceState = createTraceState(tracestate);
  if (!isSpanContextValid(spanContext)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
