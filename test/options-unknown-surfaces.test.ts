/**
 * Unknown option keys on the sinks and the HTTP surface: a misspelt or foreign key is an
 * InvalidOptionError naming where it was written and the key it most likely meant, never a
 * silently used default. Each test also passes the right spelling, which must be accepted.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import {
  createHttpHandler,
  type HttpHandlerOptions,
  type ReadinessThresholds,
  readiness,
  serveHttp,
} from '../src/http/index.js';
import { EventBus, InvalidOptionError, type Jobwire } from '../src/index.js';
import { logEvents } from '../src/sinks/log.js';
import { createMetrics, DEFAULT_DURATION_BUCKETS, DEFAULT_WAIT_BUCKETS } from '../src/sinks/metrics.js';
import { type ProcessMetricsOptions, registerProcessMetrics } from '../src/sinks/process-metrics.js';
import { instrumentTracing, type TracingOptions } from '../src/sinks/tracing.js';
import {
  generateWebhookSecret,
  type WebhookEndpoint,
  type WebhookSinkOptions,
  webhooks,
} from '../src/sinks/webhooks/index.js';
import { withClient } from './support/harness.js';
import { TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

/** An InvalidOptionError for `field` whose message suggests `meant`. */
function unknownKey(field: string, meant: string) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `expected an InvalidOptionError, got ${String(error)}`);
    assert.equal(error.code, 'JOBWIRE_INVALID_OPTION');
    assert.equal(error.field, field);
    assert.match(error.message, new RegExp(`did you mean "${meant}"\\?`));
    assert.match(error.message, /known: /);
    return true;
  };
}

/** A misspelt key, typed as the options so the test compiles (the call must refuse it at run time). */
const misspelt = <T>(value: object) => value as T;

async function client(t: TestContext): Promise<Jobwire> {
  return (await withClient(t, sqliteDatabases)).client;
}

describe('sinks refuse unknown option keys', () => {
  test('logEvents: includeBody → did you mean includeBodies', () => {
    const bus = new EventBus();
    const logger = pino({ level: 'silent' });
    assert.throws(
      () => logEvents({ events: bus }, logger, misspelt({ includeBody: true })),
      unknownKey('includeBody', 'includeBodies'),
    );
    const stop = logEvents({ events: bus }, logger, { includeBodies: true, events: ['job:queued'] });
    stop();
  });

  test('createMetrics: cacheMS → did you mean cacheMs', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () => createMetrics(jobwire, misspelt({ cacheMS: 1000 })),
      unknownKey('cacheMS', 'cacheMs'),
    );
    const metrics = createMetrics(jobwire, { cacheMs: 1000, prefix: 'spelt_' });
    t.after(() => metrics.close());
    assert.match(await metrics.text(), /spelt_cluster_up/);
  });

  test('registerProcessMetrics: prefx → did you mean prefix', async (t) => {
    const jobwire = await client(t);
    const registry = new Registry();
    const settings = {
      registry,
      durationBuckets: DEFAULT_DURATION_BUCKETS,
      waitBuckets: DEFAULT_WAIT_BUCKETS,
    };
    assert.throws(
      () => registerProcessMetrics(jobwire, misspelt<ProcessMetricsOptions>({ ...settings, prefx: 'p_' })),
      unknownKey('prefx', 'prefix'),
    );
    const stop = registerProcessMetrics(jobwire, { ...settings, prefix: 'p_' });
    stop();
    assert.ok(registry.getSingleMetric('p_jobs_enqueued_total'));
  });

  test('instrumentTracing: tracerProvidr → did you mean tracerProvider', async (t) => {
    const jobwire = await client(t);
    const tracerProvider = trace.getTracerProvider();
    assert.throws(
      () => instrumentTracing(jobwire, misspelt<TracingOptions>({ tracerProvidr: tracerProvider })),
      unknownKey('tracerProvidr', 'tracerProvider'),
    );
    const remove = instrumentTracing(jobwire, { tracerProvider });
    remove();
  });
});

describe('the webhook sink refuses unknown option keys', () => {
  const endpoint = (): WebhookEndpoint => ({
    id: 'receiver',
    url: 'https://hooks.example.com/jobwire',
    secret: generateWebhookSecret(),
    events: ['job:abandoned'],
  });

  test('webhooks(): timeoutMS → did you mean timeoutMs', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () => webhooks(jobwire, misspelt<WebhookSinkOptions>({ endpoints: [endpoint()], timeoutMS: 5000 })),
      unknownKey('timeoutMS', 'timeoutMs'),
    );
    const sink = webhooks(jobwire, { endpoints: [endpoint()], timeoutMs: 5000 });
    await sink.stop();
  });

  test('webhooks(): an endpoint entry, endpoints[1].filtr → did you mean filter', async (t) => {
    const jobwire = await client(t);
    const entry = { ...endpoint(), id: 'second', filtr: () => true };
    assert.throws(
      () => webhooks(jobwire, { endpoints: [endpoint(), misspelt<WebhookEndpoint>(entry)] }),
      unknownKey('endpoints[1].filtr', 'filter'),
    );
    const sink = webhooks(jobwire, {
      endpoints: [endpoint(), { ...endpoint(), id: 'second', filter: () => true }],
    });
    await sink.stop();
  });

  test('webhooks(): the source subscription, source.subscripton → did you mean subscription', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () =>
        webhooks(jobwire, {
          endpoints: [endpoint()],
          source: misspelt<{ subscription: string }>({ subscripton: 'hooks' }),
        }),
      unknownKey('source.subscripton', 'subscription'),
    );
    const sink = webhooks(jobwire, { endpoints: [endpoint()], source: { subscription: 'hooks' } });
    await sink.stop();
  });
});

describe('event names the sinks are given must exist', () => {
  /** An InvalidOptionError for `field` whose message suggests `meant`. */
  const unknownEvent = (field: string, meant: string) => (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `expected an InvalidOptionError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(
      error.message,
      new RegExp(`is no jobwire event — did you mean "${meant.replace('*', '\\*')}"\\?`),
    );
    return true;
  };

  test('logEvents: a level for job:complete, or events naming it, is refused', () => {
    const bus = new EventBus();
    const logger = pino({ level: 'silent' });
    assert.throws(
      () => logEvents({ events: bus }, logger, misspelt({ level: { 'job:complete': 'info' } })),
      unknownEvent('level', 'job:completed'),
    );
    assert.throws(
      () => logEvents({ events: bus }, logger, misspelt({ events: ['job:queued', 'job:faild'] })),
      unknownEvent('events', 'job:failed'),
    );
    logEvents({ events: bus }, logger, { level: { 'job:completed': 'debug' }, events: ['job:failed'] })();
  });

  test('webhooks(): an endpoint whose events no event matches is refused', async (t) => {
    const jobwire = await client(t);
    const endpoint = (events: string[]) =>
      ({
        id: 'r',
        url: 'https://hooks.example.com/j',
        secret: generateWebhookSecret(),
        events,
      }) as WebhookEndpoint;
    assert.throws(
      () => webhooks(jobwire, { endpoints: [endpoint(['job:abandonned'])] }),
      unknownEvent('endpoints[0].events', 'job:abandoned'),
    );
    assert.throws(
      () => webhooks(jobwire, { endpoints: [endpoint(['jobs:*'])] }),
      unknownEvent('endpoints[0].events', 'job:*'),
    );
    const sink = webhooks(jobwire, { endpoints: [endpoint(['job:abandoned', 'queue:*', '*'])] });
    await sink.stop();
  });
});

describe('the HTTP surface refuses unknown option keys', () => {
  const handlerOptions = (extra: object) => ({ auth: { token: TOKEN }, ...extra }) as HttpHandlerOptions;

  test('createHttpHandler: readonly → did you mean readOnly', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () => createHttpHandler(jobwire, handlerOptions({ readonly: true })),
      unknownKey('readonly', 'readOnly'),
    );
    const handler = createHttpHandler(jobwire, handlerOptions({ readOnly: true }));
    t.after(() => handler.close());
    assert.equal(handler.readOnly, true);
  });

  test('createHttpHandler: auth settings, auth.tokn and auth.tokens → did you mean token', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () => createHttpHandler(jobwire, handlerOptions({ auth: { tokn: TOKEN } })),
      unknownKey('auth.tokn', 'token'),
    );
    assert.throws(
      () => createHttpHandler(jobwire, handlerOptions({ auth: { token: TOKEN, tokens: [TOKEN] } })),
      unknownKey('auth.tokens', 'token'),
    );
    createHttpHandler(jobwire, handlerOptions({ auth: { token: TOKEN } })).close();
  });

  test('createHttpHandler: basic auth, auth.basic.pasword → did you mean password', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () =>
        createHttpHandler(
          jobwire,
          handlerOptions({ auth: { basic: { username: 'admin', pasword: 'correct horse' } } }),
        ),
      unknownKey('auth.basic.pasword', 'password'),
    );
    createHttpHandler(
      jobwire,
      handlerOptions({ auth: { basic: { username: 'admin', password: 'correct horse' } } }),
    ).close();
  });

  test('createHttpHandler: readiness thresholds, health.maxPendng → did you mean maxPending', async (t) => {
    const jobwire = await client(t);
    assert.throws(
      () => createHttpHandler(jobwire, handlerOptions({ health: { maxPendng: 100 } })),
      unknownKey('health.maxPendng', 'maxPending'),
    );
    createHttpHandler(jobwire, handlerOptions({ health: { maxPending: 100 } })).close();
  });

  test('readiness: thresholds.maxPendng → did you mean maxPending', async (t) => {
    const jobwire = await client(t);
    await assert.rejects(
      readiness(
        jobwire,
        misspelt<ReadinessThresholds & { timeoutMs: number }>({ timeoutMs: 5000, maxPendng: 1 }),
      ),
      unknownKey('thresholds.maxPendng', 'maxPending'),
    );
    const report = await readiness(jobwire, { timeoutMs: 5000, maxPending: 1 });
    assert.equal(report.status, 'ready');
  });

  test('serveHttp: hots → did you mean host', async (t) => {
    const jobwire = await client(t);
    const handler = createHttpHandler(jobwire, handlerOptions({}));
    t.after(() => handler.close());
    // Port 0 either way: if the key were ignored, the server must still be closed.
    const refused = await serveHttp(handler, misspelt({ port: 0, hots: '127.0.0.1' })).catch(
      (error) => error,
    );
    if (!(refused instanceof Error)) await refused.close();
    unknownKey('hots', 'host')(refused);
    const served = await serveHttp(handler, { port: 0, host: '127.0.0.1' });
    await served.close();
  });
});
