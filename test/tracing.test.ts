/**
 * OpenTelemetry tracing (`jobwire/tracing`) with the real SDK: an in-memory exporter and the
 * AsyncLocalStorage context manager, on SQLite.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createJobwire } from '../src/core/client.js';
import { defineTask } from '../src/core/task.js';
import { instrumentTracing, TRACE_METADATA_KEY } from '../src/sinks/tracing.js';
import { nextEvent, testPool, withClient } from './support/harness.js';
import { sqliteDatabases } from './support/sqlite.js';

const contextManager = new AsyncLocalStorageContextManager();
before(() => {
  context.setGlobalContextManager(contextManager.enable());
});
after(() => {
  context.disable();
});

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const spans = () => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan => {
    const span = spans().find((s) => s.name === name);
    assert.ok(span, `no span "${name}" among ${spans().map((s) => s.name)}`);
    return span;
  };
  return { provider, tracer: provider.getTracer('test'), spans, named };
}

/** A task that opens a span of its own, to show where the handler's spans land. */
const inner = defineTask({
  name: 'traced',
  handler: async (payload: { fail?: boolean }) => {
    const span = trace.getTracer('handler').startSpan('handler work');
    span.end();
    if (payload.fail) throw new TypeError('boom');
    return 'ok';
  },
});

test('a job enqueued inside a span runs in a consumer span of that trace; the handler nests in it', async (t) => {
  const { provider, tracer, named } = tracing();
  // The handler's tracer comes from the global provider: the one the application registered.
  trace.setGlobalTracerProvider(provider);
  t.after(() => trace.disable());
  const { client } = await withClient(t, sqliteDatabases, { tasks: [inner] });
  instrumentTracing(client, { tracerProvider: provider });

  const job = await tracer.startActiveSpan('request', async (span) => {
    try {
      return await client.enqueue(inner, {}, { queue: 'mail', metadata: { video: 7 } });
    } finally {
      span.end();
    }
  });
  const request = named('request');
  const stored = job.metadata[TRACE_METADATA_KEY] as { traceparent: string };
  assert.equal(job.metadata.video, 7, "the caller's metadata is kept");
  assert.match(stored.traceparent, new RegExp(`^00-${request.spanContext().traceId}-[0-9a-f]{16}-01$`));

  const enqueue = named('jobwire.enqueue');
  assert.equal(enqueue.kind, SpanKind.PRODUCER);
  assert.equal(enqueue.parentSpanContext?.spanId, request.spanContext().spanId);
  assert.equal(stored.traceparent.split('-')[2], enqueue.spanContext().spanId, 'the enqueue span is stored');
  assert.equal(enqueue.attributes['messaging.message.id'], job.id);
  assert.equal(enqueue.attributes['messaging.destination.name'], 'mail');

  const completed = nextEvent(client, 'job:completed');
  const pool = client.createPool({ ...testPool, queues: ['mail'] });
  await pool.start();
  await completed;
  await pool.stop();

  const processSpan = named('traced process');
  assert.equal(processSpan.kind, SpanKind.CONSUMER);
  assert.equal(processSpan.spanContext().traceId, request.spanContext().traceId);
  assert.equal(processSpan.parentSpanContext?.spanId, enqueue.spanContext().spanId);
  assert.equal(processSpan.status.code, SpanStatusCode.OK);
  assert.deepEqual(
    {
      system: processSpan.attributes['messaging.system'],
      queue: processSpan.attributes['messaging.destination.name'],
      id: processSpan.attributes['messaging.message.id'],
      attempt: processSpan.attributes['jobwire.attempt'],
    },
    { system: 'jobwire', queue: 'mail', id: job.id, attempt: 1 },
  );
  const work = named('handler work');
  assert.equal(work.parentSpanContext?.spanId, processSpan.spanContext().spanId);
});

test("a failing attempt's span has error status and records the exception", async (t) => {
  const { provider, tracer, spans } = tracing();
  const { client } = await withClient(t, sqliteDatabases, { tasks: [inner] });
  instrumentTracing(client, { tracerProvider: provider });
  await tracer.startActiveSpan('request', async (span) => {
    await client.enqueue(inner, { fail: true }, { maxAttempts: 1 });
    span.end();
  });
  const abandoned = nextEvent(client, 'job:abandoned');
  const pool = client.createPool(testPool);
  await pool.start();
  await abandoned;
  await pool.stop();

  const [failed, ...more] = spans().filter((s) => s.name === 'traced process');
  assert.ok(failed);
  assert.equal(more.length, 0);
  assert.equal(failed.status.code, SpanStatusCode.ERROR);
  assert.equal(failed.status.message, 'boom');
  assert.equal(failed.attributes['error.type'], 'TypeError');
  const exception = failed.events.find((e) => e.name === 'exception');
  assert.equal(exception?.attributes?.['exception.type'], 'TypeError');
  assert.equal(exception?.attributes?.['exception.message'], 'boom');
});

test('without the instrumentation (or after removing it) nothing is added to metadata', async (t) => {
  const { provider, tracer, spans } = tracing();
  const { client } = await withClient(t, sqliteDatabases, { tasks: [inner] });
  const enqueueInSpan = () =>
    tracer.startActiveSpan('request', async (span) => {
      try {
        return await client.enqueue(inner, {}, { metadata: { tenant: 'a' } });
      } finally {
        span.end();
      }
    });

  const plain = await enqueueInSpan();
  assert.deepEqual(plain.metadata, { tenant: 'a' });

  const remove = instrumentTracing(client, { tracerProvider: provider });
  const traced = await enqueueInSpan();
  assert.ok(traced.metadata[TRACE_METADATA_KEY]);
  remove();
  const afterRemoval = await enqueueInSpan();
  assert.deepEqual(afterRemoval.metadata, { tenant: 'a' });
  assert.equal(spans().filter((s) => s.name === 'jobwire.enqueue').length, 1);
});

test('without an SDK the instrumentation stores nothing and the job still runs', async (t) => {
  const { client } = await withClient(t, sqliteDatabases, { tasks: [inner] });
  instrumentTracing(client); // the global provider: the API's no-op
  const job = await client.enqueue(inner, {}, { metadata: { tenant: 'a' } });
  assert.deepEqual(job.metadata, { tenant: 'a' });
  const completed = nextEvent(client, 'job:completed');
  const pool = client.createPool(testPool);
  await pool.start();
  assert.equal((await completed).jobId, job.id);
  await pool.stop();
});

test('another process runs the job in the enqueue trace; each retry is its own attempt span', async (t) => {
  const { provider, tracer, spans, named } = tracing();
  let calls = 0;
  const flaky = defineTask({
    name: 'flaky',
    maxAttempts: 2,
    backoff: { type: 'fixed', delayMs: 0 },
    handler: async () => {
      if (++calls === 1) throw new Error('first try fails');
    },
  });
  const { client: producer, db } = await withClient(t, sqliteDatabases, { tasks: [flaky] });
  instrumentTracing(producer, { tracerProvider: provider });
  // The worker is a second client on the same database: it knows the job only from storage.
  const worker = await createJobwire({ driver: await db.open(), tasks: [flaky] });
  t.after(() => worker.close());
  instrumentTracing(worker, { tracerProvider: provider });

  await tracer.startActiveSpan('request', async (span) => {
    await producer.enqueue(flaky, {});
    span.end();
  });
  const completed = nextEvent(worker, 'job:completed');
  const pool = worker.createPool(testPool);
  await pool.start();
  await completed;
  await pool.stop();

  const enqueue = named('jobwire.enqueue');
  const attempts = spans().filter((s) => s.name === 'flaky process');
  assert.deepEqual(
    attempts.map((s) => [s.attributes['jobwire.attempt'], s.status.code, s.parentSpanContext?.spanId]),
    [
      [1, SpanStatusCode.ERROR, enqueue.spanContext().spanId],
      [2, SpanStatusCode.OK, enqueue.spanContext().spanId],
    ],
  );
  for (const attempt of attempts) assert.equal(attempt.spanContext().traceId, enqueue.spanContext().traceId);
});
