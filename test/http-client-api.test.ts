/**
 * The HTTP API as a client in another process sees it (found by probing it with fetch, curl and
 * an OpenAPI validator): every answer must be one the OpenAPI document describes (a `blocked`
 * job, a 401 on a read route), `options.runAt` must mean one instant whatever the server's time
 * zone, and errors of one kind must carry the same details on every route.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamRegistry } from '../src/http/api/events.js';
import { defineSchedule, defineTask, JOB_STATES } from '../src/index.js';
import { call, httpFixture } from './support/http.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';

const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
const later = () => Date.now() + 3_600_000;

interface Operation {
  security?: unknown[];
  responses: Record<string, unknown>;
}

for (const factory of [sqliteDatabases, postgresDatabases]) {
  describe(`HTTP API as a client sees it, on ${factory.name}`, () => {
    it('lists a blocked job with a state the OpenAPI document allows', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks: [echo] });
      const dependency = await jobwire.enqueue('echo', 1, { runAt: later() });
      const blocked = await jobwire.enqueue('echo', 2, { dependsOn: [dependency.id] });
      assert.equal(blocked.state, 'blocked');
      const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
      const allowed: string[] = doc.components.schemas.JobState.enum;
      const list = await call(handler, 'GET', '/api/jobs');
      assert.equal(list.status, 200, list.text);
      for (const job of list.body.jobs as { id: string; state: string }[]) {
        assert.ok(allowed.includes(job.state), `job ${job.id} is ${job.state}, not in JobState ${allowed}`);
      }
      assert.deepEqual([...allowed].sort(), [...JOB_STATES].sort(), 'JobState lists every job state');
    });

    it('takes runAt as an instant: an offset is required, a number in a string is refused', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks: [echo] });
      const post = (runAt: unknown) =>
        call(handler, 'POST', '/api/jobs', { body: { task: 'echo', options: { runAt } } });
      // "5" parses as 2001-05-01 and "2030-01-01T10:00" as the server's local time: both refused.
      for (const runAt of ['5', '1796438400000', '2030-01-01T10:00', '2030-01-01', 'Jan 1 2030']) {
        const r = await post(runAt);
        assert.equal(r.status, 400, `${runAt}: ${r.text}`);
        assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION');
        assert.equal(r.body.error.details.field, 'options.runAt');
      }
      const numeric = await post('1796438400000');
      assert.match(numeric.body.error.message, /JSON number/);
      for (const runAt of [{}, true, [1]]) {
        const r = await post(runAt);
        assert.equal(r.status, 400, `${JSON.stringify(runAt)}: ${r.text}`);
        assert.equal(r.body.error.details.field, 'options.runAt');
        assert.doesNotMatch(r.body.error.message, /Date\b/, 'JSON carries no Date');
      }
      assert.equal((await jobwire.listJobs({})).jobs.length, 0, 'nothing stored');

      const utc = await post('2030-01-01T10:00:00Z');
      assert.equal(utc.status, 201, utc.text);
      assert.equal(utc.body.job.runAt, '2030-01-01T10:00:00.000Z');
      const offset = await post('2030-01-01T12:00:00.5+02:00');
      assert.equal(offset.status, 201, offset.text);
      assert.equal(offset.body.job.runAt, '2030-01-01T10:00:00.500Z');
      const epoch = await post(Date.UTC(2030, 0, 1, 10));
      assert.equal(epoch.status, 201, epoch.text);
      assert.equal(epoch.body.job.runAt, '2030-01-01T10:00:00.000Z');
    });
  });
}

describe('HTTP API as a client sees it: documents and errors', () => {
  it('documents a 401 for every operation behind authentication, and answers with it', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    const paths = doc.paths as Record<string, Record<string, Operation>>;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const open = Array.isArray(operation.security) && operation.security.length === 0;
        if (open) continue;
        assert.ok(operation.responses['401'], `${method.toUpperCase()} ${path} documents no 401`);
        if (method !== 'get' || path.includes('{') || path.endsWith('/stream')) continue;
        const r = await call(handler, 'GET', path, { headers: { authorization: '' } });
        assert.equal(r.status, 401, `${path}: ${r.text}`);
      }
    }
  });

  it('names the job in every 404 of a job the same way', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    for (const [method, path] of [
      ['GET', '/api/jobs/999999'],
      ['GET', '/api/jobs/999999/events'],
      ['DELETE', '/api/jobs/999999'],
      ['POST', '/api/jobs/999999/cancel'],
      ['POST', '/api/jobs/999999/retry'],
    ] as const) {
      const r = await call(handler, method, path);
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'JOBWIRE_JOB_NOT_FOUND');
      assert.equal(r.body.error.details?.jobId, '999999', `${method} ${path}: ${r.text}`);
    }
  });

  it('says what a bulk cancel of every job acts on, blocked jobs included', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const refused = await call(handler, 'POST', '/api/jobs/cancel', { body: {} });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /every blocked, scheduled, pending and running job/);
    const dependency = await jobwire.enqueue('echo', 1, { runAt: later() });
    const blocked = await jobwire.enqueue('echo', 2, { dependsOn: [dependency.id] });
    const all = await call(handler, 'POST', '/api/jobs/cancel', { body: { all: true } });
    assert.deepEqual(all.body, { count: 2, skipped: 0 });
    assert.equal((await jobwire.getJob(blocked.id))?.state, 'cancelled');
  });

  it('tells a client that posts an array that there is one job per request', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const r = await call(handler, 'POST', '/api/jobs', { body: [{ task: 'echo' }, { task: 'echo' }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.field, 'body');
    assert.match(r.body.error.message, /one job per request/);
    assert.equal((await jobwire.listJobs({})).jobs.length, 0);
  });

  it('ends the queue-not-found hint with one punctuation mark', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.enqueue('echo', 1, { queue: 'imports', runAt: later() });
    for (const action of ['pause', 'resume']) {
      const r = await call(handler, 'POST', `/api/queues/imprts/${action}`);
      assert.equal(r.status, 404);
      assert.match(r.body.error.message, /did you mean "imports"\?/);
      assert.doesNotMatch(r.body.error.message, /\?\./);
    }
  });
});

describe('HTTP API as a client sees it: values that mean nothing', () => {
  it('refuses an empty filter or cursor instead of answering for everything', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.enqueue('echo', 1, { queue: 'a' });
    await jobwire.enqueue('echo', 2, { queue: 'b' });
    for (const path of ['/api/jobs?queue=', '/api/jobs?state=', '/api/jobs?task=,', '/api/events?type=']) {
      const r = await call(handler, 'GET', path);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.match(r.body.error.message, /is empty/);
    }
    const stream = await call(handler, 'GET', '/api/events/stream?after=');
    assert.equal(stream.status, 400, `an empty after on the stream: ${stream.text}`);
    assert.equal(stream.body.error.details.field, 'after');
    assert.equal((await call(handler, 'GET', '/api/jobs?queue=a')).body.jobs.length, 1);
  });

  it('refuses a day past the end of its month in runAt', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    for (const runAt of ['2030-02-30T10:00:00Z', '2030-04-31T10:00:00+02:00', '2029-02-29T00:00:00Z']) {
      const r = await call(handler, 'POST', '/api/jobs', { body: { task: 'echo', options: { runAt } } });
      assert.equal(r.status, 400, `${runAt}: ${r.text}`);
      assert.match(r.body.error.message, /not a date: that month has \d+ days/);
    }
    assert.equal((await jobwire.listJobs({})).jobs.length, 0, 'nothing stored');
    const leap = await call(handler, 'POST', '/api/jobs', {
      body: { task: 'echo', options: { runAt: '2032-02-29T10:00:00Z' } },
    });
    assert.equal(leap.status, 201, leap.text);
  });

  it('tells a client whose token was refused that the token is invalid (RFC 6750)', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const wrong = await call(handler, 'GET', '/api/jobs', { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="jobwire", error="invalid_token"');
    const none = await call(handler, 'GET', '/api/jobs', { headers: { authorization: '' } });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="jobwire"');
  });
});

describe('HTTP API as a client sees it: HEAD of the event stream', () => {
  it('answers HEAD with the stream headers and keeps no stream open', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    let open = 0;
    const add = StreamRegistry.prototype.add;
    StreamRegistry.prototype.add = function (this: StreamRegistry, controller: AbortController) {
      open++;
      const forget = add.call(this, controller);
      return () => {
        open--;
        return forget();
      };
    };
    t.after(() => {
      StreamRegistry.prototype.add = add;
    });
    for (let i = 0; i < 5; i++) {
      const head = await call(handler, 'HEAD', '/api/events/stream');
      assert.equal(head.status, 200);
      assert.match(head.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(head.text, '');
    }
    assert.equal(open, 0, 'HEAD requests left event streams registered');
    const bad = await call(handler, 'HEAD', '/api/events/stream?after=garbage');
    assert.equal(bad.status, 400, 'HEAD runs the checks GET runs');
  });
});

describe('HTTP API as a client sees it: routes that read no body', () => {
  it('refuses a body field instead of dropping it, and changes nothing', async (t) => {
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    await jobwire.schedules.upsert(
      defineSchedule({ id: 'nightly', cron: '0 3 * * *', task: 'echo', payload: { n: 1 } }),
    );
    const job = await jobwire.enqueue('echo', 1, { queue: 'imports', runAt: later() });
    await jobwire.pauseQueue('imports');
    // The schedule's next run is already stored as a job.
    const before = (await jobwire.listJobs({})).jobs.length;
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    const routes: [string, string, unknown][] = [
      ['POST', '/api/schedules/nightly/trigger', { payload: { n: 2 } }],
      ['POST', '/api/schedules/nightly/pause', { reason: 'maintenance' }],
      ['POST', '/api/schedules/nightly/resume', { at: 1 }],
      ['POST', '/api/queues/imports/resume', { force: true }],
      ['POST', `/api/jobs/${job.id}/cancel`, { reason: 'duplicate' }],
      ['POST', `/api/jobs/${job.id}/retry`, { delayMs: 1000 }],
      ['DELETE', `/api/jobs/${job.id}`, { force: true }],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(handler, method, path, { body });
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION');
      assert.equal(r.body.error.details.field, Object.keys(body as object)[0]);
      assert.match(r.body.error.message, /takes no body/);
      const template = path
        .replace(/\/nightly\//, '/{id}/')
        .replace(/\/imports\//, '/{name}/')
        .replace(`/${job.id}`, '/{id}');
      assert.ok(
        doc.paths[template]?.[method.toLowerCase()]?.responses['400'],
        `${method} ${template} documents its 400`,
      );
      const text = await call(handler, method, path, { raw: 'x', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.status, 400, `${method} ${path} with text: ${text.text}`);
    }
    assert.equal((await jobwire.listJobs({})).jobs.length, before, 'no job triggered');
    assert.equal((await jobwire.getJob(job.id))?.state, 'scheduled');
    assert.equal((await jobwire.schedules.get('nightly'))?.paused, false);
    assert.ok((await jobwire.listQueues()).find((q) => q.name === 'imports')?.paused);
    // No body, or an empty object, is what these routes take.
    const none = await call(handler, 'POST', '/api/schedules/nightly/pause');
    assert.equal(none.status, 200, none.text);
    const empty = await call(handler, 'POST', '/api/schedules/nightly/resume', { body: {} });
    assert.equal(empty.status, 200, empty.text);
    const cancelled = await call(handler, 'POST', `/api/jobs/${job.id}/cancel`, { body: {} });
    assert.deepEqual(cancelled.body, { cancelled: true });
  });
});

/**
 * The parts of JSON Schema the OpenAPI document uses, checked the way a validating client checks
 * an answer: type (or a list of types), enum, const, required, properties, additionalProperties
 * false, items, $ref and oneOf. Returns every mismatch as `path: what`.
 */
// biome-ignore lint/suspicious/noExplicitAny: schemas are plain JSON.
function mismatches(schema: any, value: unknown, doc: any, path = '$'): string[] {
  if (schema.$ref) return mismatches(doc.components.schemas[schema.$ref.split('/').pop()], value, doc, path);
  if (schema.oneOf) {
    const fits = schema.oneOf.filter((s: unknown) => mismatches(s, value, doc, path).length === 0);
    return fits.length === 1 ? [] : [`${path}: matches ${fits.length} of oneOf`];
  }
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  const types: string[] | undefined = schema.type && [schema.type].flat();
  if (types && !types.some((t) => t === typeOf(value) || (t === 'number' && typeof value === 'number')))
    return [`${path}: ${typeOf(value)}, not ${types.join(' or ')}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${String(value)} not in the enum`];
  if ('const' in schema && schema.const !== value) return [`${path}: not ${schema.const}`];
  if (schema.format === 'date-time' && typeof value === 'string' && Number.isNaN(Date.parse(value)))
    return [`${path}: not a date-time`];
  const found: string[] = [];
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) found.push(`${path}.${key}: missing`);
    for (const [key, field] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) found.push(...mismatches(property, field, doc, `${path}.${key}`));
      else if (schema.additionalProperties === false) found.push(`${path}.${key}: not in the schema`);
    }
  }
  if (Array.isArray(value) && schema.items)
    for (const [i, item] of value.entries())
      found.push(...mismatches(schema.items, item, doc, `${path}[${i}]`));
  return found;
}

describe('HTTP API as a client sees it: the Job schema', () => {
  it('describes every field of a job as GET /api/jobs/{id} answers it, in every shape', async (t) => {
    const flaky = defineTask({
      name: 'flaky',
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 0 },
      handler: async (_: unknown, { progress, job }) => {
        progress({ percent: 50 });
        if (job.attempt === 1) throw new Error('first attempt fails');
        return { rows: 3 };
      },
    });
    const { handler, jobwire } = await httpFixture(t, sqliteDatabases, { tasks: [echo, flaky] });
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    const done = await jobwire.enqueue(
      flaky,
      {},
      { uniqueKey: 'k1', metadata: { who: 'probe' }, timeoutMs: 5000 },
    );
    const waiting = await jobwire.enqueue(
      'echo',
      { a: [1, 'b'] },
      { runAt: later(), concurrencyKey: 'tenant:1' },
    );
    const pool = jobwire.createPool({ queues: ['default'], pollIntervalMs: 20, handleSignals: false });
    t.after(() => pool.stop({ graceMs: 0 }));
    await pool.start();
    await done.wait({ timeoutMs: 10_000 });
    for (const id of [done.id, waiting.id]) {
      const answer = await call(handler, 'GET', `/api/jobs/${id}`);
      assert.equal(answer.status, 200, answer.text);
      const schema = doc.paths['/api/jobs/{id}'].get.responses['200'].content['application/json'].schema;
      assert.deepEqual(mismatches(schema, answer.body, doc), [], `job ${id} as the document describes it`);
      assert.deepEqual(
        Object.keys(answer.body.job).sort(),
        [...doc.components.schemas.Job.required].sort(),
        'the schema lists exactly the fields a job has',
      );
    }
    const completed = (await call(handler, 'GET', `/api/jobs/${done.id}`)).body.job;
    assert.equal(completed.errors.length, 1, 'the failed first attempt is in the errors');
    // The schema catches a wrong answer too (the check is not vacuous).
    const schema = { $ref: '#/components/schemas/Job' };
    assert.notDeepEqual(mismatches(schema, { ...completed, attempt: '2' }, doc), []);
    assert.notDeepEqual(mismatches(schema, { ...completed, extra: 1 }, doc), []);
    assert.notDeepEqual(mismatches(schema, { ...completed, errors: [{ name: 'E' }] }, doc), []);
  });

  it('closes the enqueue body as the server does: an unknown field is invalid in the document too', async (t) => {
    const { handler } = await httpFixture(t, sqliteDatabases, { tasks: [echo] });
    const doc = (await call(handler, 'GET', '/api/openapi.json')).body;
    const request = { $ref: '#/components/schemas/EnqueueRequest' };
    const typo = { task: 'echo', payload: 1, options: { priorty: 2 } };
    assert.notDeepEqual(mismatches(request, typo, doc), [], 'the document refuses the typo');
    const answer = await call(handler, 'POST', '/api/jobs', { body: typo });
    assert.equal(answer.status, 400, 'and so does the server');
    assert.deepEqual(mismatches(request, { task: 'echo', payload: 1, options: { priority: 2 } }, doc), []);
  });
});
