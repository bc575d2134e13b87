/**
 * The HTTP API (`jobwire/http`) on SQLite and PostgreSQL: every endpoint, bad input answered
 * with a 4xx JSON error naming the problem and nothing stored, and the event stream resuming
 * across a server restart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineSchedule, defineTask, JOB_LIST_SCAN_CAP, UnrecoverableError } from '../src/index.js';
import { call, httpFixture, TOKEN } from './support/http.js';
import { postgresDatabases } from './support/postgres.js';
import { sqliteDatabases } from './support/sqlite.js';
import { sseReader } from './support/sse.js';

const sendEmail = defineTask({
  name: 'send-email',
  queue: 'mail',
  schema: z.object({ to: z.string().email(), subject: z.string() }),
  handler: async () => ({ sent: true }),
});
const explode = defineTask({
  name: 'explode',
  maxAttempts: 1,
  handler: async () => {
    throw new UnrecoverableError('boom <b>bold</b>');
  },
});
const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
const tasks = [sendEmail, explode, echo];

const inFuture = () => new Date(Date.now() + 3_600_000).toISOString();

async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

for (const factory of [sqliteDatabases, postgresDatabases]) {
  describe(`HTTP API on ${factory.name}`, () => {
    it('enqueues, reads and lists jobs with filters and cursor paging', async (t) => {
      const { handler } = await httpFixture(t, factory, { tasks });
      const created = await call(handler, 'POST', '/api/jobs', {
        body: {
          task: 'send-email',
          payload: { to: 'a@example.com', subject: 'hi' },
          options: { priority: 3, runAt: inFuture() },
        },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.job.task, 'send-email');
      assert.equal(created.body.job.queue, 'mail');
      assert.equal(created.body.job.state, 'scheduled');
      assert.equal(created.body.duplicate, false);
      for (let i = 0; i < 4; i++) {
        const r = await call(handler, 'POST', '/api/jobs', {
          body: { task: 'echo', payload: { i }, options: { runAt: inFuture() } },
        });
        assert.equal(r.status, 201, r.text);
      }
      const one = await call(handler, 'GET', `/api/jobs/${created.body.job.id}`);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body.job.payload, { to: 'a@example.com', subject: 'hi' });
      assert.equal(one.body.job.priority, 3);

      const first = await call(handler, 'GET', '/api/jobs?task=echo&limit=3');
      assert.equal(first.status, 200);
      assert.equal(first.body.jobs.length, 3);
      assert.ok(first.body.jobs.every((j: { task: string }) => j.task === 'echo'));
      assert.equal(first.body.jobs[0].payload, undefined, 'a list carries no payloads');
      const second = await call(
        handler,
        'GET',
        `/api/jobs?task=echo&limit=3&cursor=${first.body.nextCursor}`,
      );
      assert.equal(second.body.jobs.length, 1);
      const ids = [...first.body.jobs, ...second.body.jobs].map((j: { id: string }) => j.id);
      assert.equal(new Set(ids).size, 4);
      const byQueue = await call(handler, 'GET', '/api/jobs?queue=mail&state=scheduled,pending');
      assert.deepEqual(
        byQueue.body.jobs.map((j: { id: string }) => j.id),
        [created.body.job.id],
      );
      const missing = await call(handler, 'GET', '/api/jobs/987654321');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'JOBWIRE_JOB_NOT_FOUND');
    });

    it('a list page that stopped at the scan cap is short with a nextCursor that reaches older matches', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      const enqueue = (queue: string, count: number) =>
        jobwire.enqueueMany(
          Array.from({ length: count }, (_, i) => ({ task: echo, payload: { i }, options: { queue } })),
        );
      const [old] = await enqueue('old', 1);
      await enqueue('filler', JOB_LIST_SCAN_CAP);
      const first = await call(handler, 'GET', '/api/jobs?queue=old');
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.jobs, []);
      assert.equal(typeof first.body.nextCursor, 'string');
      const second = await call(handler, 'GET', `/api/jobs?queue=old&cursor=${first.body.nextCursor}`);
      assert.deepEqual(
        second.body.jobs.map((j: { id: string }) => j.id),
        [old!.id],
      );
      assert.equal(second.body.nextCursor, null);
    });

    it('refuses bad list parameters with 400 naming the parameter', async (t) => {
      const { handler } = await httpFixture(t, factory, { tasks });
      const cases: [string, string][] = [
        ['/api/jobs?cursor=not-a-cursor', 'cursor'],
        ['/api/jobs?state=sleeping', 'state'],
        ['/api/jobs?limit=0', 'limit'],
        ['/api/jobs?limit=201', 'limit'],
        ['/api/jobs?limit=ten', 'limit'],
        ['/api/events?after=nonsense', 'after'],
        ['/api/events?limit=5000', 'limit'],
        ['/api/stats?windowMs=-1', 'windowMs'],
      ];
      for (const [path, field] of cases) {
        const r = await call(handler, 'GET', path);
        assert.equal(r.status, 400, `${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'JOBWIRE_INVALID_OPTION', path);
        assert.equal(r.body.error.details.field, field, path);
      }
    });

    it('bad enqueues get a 4xx JSON error naming the problem, and nothing is stored', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, {
        tasks,
        http: { maxBodyBytes: 3 * 1024 * 1024 },
      });
      const post = (body: unknown) => call(handler, 'POST', '/api/jobs', { body });
      const expect = async (
        answer: Promise<Awaited<ReturnType<typeof call>>>,
        status: number,
        code: string,
        field?: string,
      ) => {
        const r = await answer;
        assert.equal(r.status, status, r.text);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(r.body.error.code, code, r.text);
        assert.equal(typeof r.body.error.message, 'string');
        if (field) assert.equal(r.body.error.details?.field, field, r.text);
        return r;
      };
      await expect(post({ task: 5 }), 400, 'JOBWIRE_INVALID_OPTION', 'task');
      await expect(post({ payload: {} }), 400, 'JOBWIRE_INVALID_OPTION', 'task');
      await expect(post([1, 2]), 400, 'JOBWIRE_INVALID_OPTION', 'body');
      await expect(post({ task: 'echo', extra: 1 }), 400, 'JOBWIRE_INVALID_OPTION', 'extra');
      await expect(
        post({ task: 'echo', options: { priority: 'high' } }),
        400,
        'JOBWIRE_INVALID_OPTION',
        'options.priority',
      );
      await expect(
        post({ task: 'echo', options: { transaction: {} } }),
        400,
        'JOBWIRE_INVALID_OPTION',
        'options.transaction',
      );
      await expect(
        post({ task: 'echo', options: { runAt: 'tomorrow-ish' } }),
        400,
        'JOBWIRE_INVALID_OPTION',
        'options.runAt',
      );
      await expect(
        post({ task: 'echo', options: { queue: 'no spaces allowed' } }),
        400,
        'JOBWIRE_INVALID_OPTION',
        'options.queue',
      );
      const unknown = await expect(
        post({ task: 'send-emial', payload: {} }),
        422,
        'JOBWIRE_UNKNOWN_TASK',
        'task',
      );
      assert.ok(unknown.body.error.details.known.includes('send-email'));
      const schema = await expect(
        post({ task: 'send-email', payload: { to: 'not-an-address', subject: 'x' } }),
        422,
        'JOBWIRE_INVALID_PAYLOAD',
      );
      assert.equal(schema.body.error.details.task, 'send-email');
      assert.deepEqual(schema.body.error.details.issues[0].path, ['to']);
      await expect(post({ task: 'echo', payload: 'x'.repeat(1_100_000) }), 413, 'JOBWIRE_PAYLOAD_TOO_LARGE');
      await expect(
        call(handler, 'POST', '/api/jobs', {
          raw: JSON.stringify({ task: 'echo', payload: 'y'.repeat(3_200_000) }),
          headers: { 'content-type': 'application/json' },
        }),
        413,
        'JOBWIRE_HTTP_BODY_TOO_LARGE',
      );
      await expect(
        call(handler, 'POST', '/api/jobs', {
          raw: '{"task": "echo",',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'JOBWIRE_HTTP_BAD_JSON',
      );
      await expect(
        call(handler, 'POST', '/api/jobs', {
          raw: 'task=echo',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'JOBWIRE_HTTP_UNSUPPORTED_MEDIA_TYPE',
      );
      const counts = await jobwire.countJobs();
      assert.equal(
        Object.values(counts).reduce((a, b) => a + b, 0),
        0,
        'no job was stored',
      );
    });

    it('a payload holding <script> comes back as JSON data, never markup', async (t) => {
      const { handler } = await httpFixture(t, factory, { tasks });
      const payload = { html: '<script>alert("x")</script>', amp: 'a & b', sep: '\u2028' };
      const created = await call(handler, 'POST', '/api/jobs', {
        body: { task: 'echo', payload, options: { runAt: inFuture() } },
      });
      const read = await call(handler, 'GET', `/api/jobs/${created.body.job.id}`);
      assert.match(read.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(read.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(!read.text.includes('<script>'), read.text);
      assert.ok(!read.text.includes('\u2028'));
      assert.deepEqual(read.body.job.payload, payload);
    });

    it('retries, cancels and deletes one job; a failed job shows its error and stack and its timeline', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      const failed = await call(handler, 'POST', '/api/jobs', { body: { task: 'explode', payload: null } });
      const pool = jobwire.createPool({ concurrency: 1, pollIntervalMs: 50 });
      await pool.start();
      const id = failed.body.job.id as string;
      await until('the job to be abandoned', async () => (await jobwire.getJob(id))?.state === 'abandoned');
      await pool.stop();
      const job = (await call(handler, 'GET', `/api/jobs/${id}`)).body.job;
      assert.equal(job.errors.length, 1);
      assert.equal(job.errors[0].message, 'boom <b>bold</b>');
      assert.match(job.errors[0].stack, /UnrecoverableError/);
      const listed = await call(handler, 'GET', '/api/jobs?state=abandoned');
      assert.equal(listed.body.jobs[0].lastError.message, 'boom <b>bold</b>');
      const timeline = await call(handler, 'GET', `/api/jobs/${id}/events`);
      assert.deepEqual(
        timeline.body.events.map((e: { type: string }) => e.type),
        ['job:queued', 'job:started', 'job:failed', 'job:abandoned'],
      );

      const retried = await call(handler, 'POST', `/api/jobs/${id}/retry`);
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.body.job.state, 'pending');
      const again = await call(handler, 'POST', `/api/jobs/${id}/retry`);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'JOBWIRE_NOT_RETRYABLE');
      const cancelled = await call(handler, 'POST', `/api/jobs/${id}/cancel`);
      assert.deepEqual(cancelled.body, { cancelled: true });
      assert.deepEqual((await call(handler, 'POST', `/api/jobs/${id}/cancel`)).body, { cancelled: false });
      assert.equal((await jobwire.getJob(id))?.state, 'cancelled');
      assert.equal((await call(handler, 'POST', '/api/jobs/424242/cancel')).status, 404);
      assert.equal((await call(handler, 'POST', '/api/jobs/424242/retry')).status, 404);
      const deleted = await call(handler, 'DELETE', `/api/jobs/${id}`);
      assert.deepEqual(deleted.body, { deleted: true });
      assert.equal(await jobwire.getJob(id), undefined);
      assert.equal((await call(handler, 'DELETE', `/api/jobs/${id}`)).status, 404);
    });

    it('bulk cancel and retry by filter', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      for (let i = 0; i < 3; i++) await jobwire.enqueue('echo', { i }, { runAt: Date.now() + 3_600_000 });
      await jobwire.enqueue('send-email', { to: 'a@b.co', subject: 's' }, { runAt: Date.now() + 3_600_000 });
      const cancelled = await call(handler, 'POST', '/api/jobs/cancel', { body: { task: 'echo' } });
      assert.deepEqual(cancelled.body, { count: 3, skipped: 0 });
      assert.equal((await jobwire.countJobs()).cancelled, 3);
      const retried = await call(handler, 'POST', '/api/jobs/retry', {
        body: { state: 'cancelled', queue: ['default'] },
      });
      assert.deepEqual(retried.body, { count: 3, skipped: 0 });
      const bad = await call(handler, 'POST', '/api/jobs/retry', { body: { state: 'running' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.details.field, 'state');
      const typo = await call(handler, 'POST', '/api/jobs/cancel', { body: { queues: 'default' } });
      assert.equal(typo.status, 400);
      assert.equal(typo.body.error.details.field, 'queues');
      assert.equal((await jobwire.countJobs()).cancelled, 0);
    });

    it('queues with counts, pause and resume', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      await jobwire.enqueue('echo', 1);
      await jobwire.enqueue('send-email', { to: 'a@b.co', subject: 's' });
      const listed = await call(handler, 'GET', '/api/queues');
      assert.deepEqual(
        listed.body.queues.map((q: { name: string; counts: { pending: number } }) => [
          q.name,
          q.counts.pending,
        ]),
        [
          ['default', 1],
          ['mail', 1],
        ],
      );
      assert.deepEqual((await call(handler, 'POST', '/api/queues/mail/pause')).body, {
        queue: 'mail',
        paused: true,
        changed: true,
      });
      assert.equal((await call(handler, 'POST', '/api/queues/mail/pause')).body.changed, false);
      assert.equal((await call(handler, 'GET', '/api/queues')).body.queues[1].paused, true);
      assert.deepEqual((await call(handler, 'POST', '/api/queues/mail/resume')).body, {
        queue: 'mail',
        paused: false,
        changed: true,
      });
      const bad = await call(handler, 'POST', `/api/queues/${'q'.repeat(300)}/pause`);
      assert.equal(bad.status, 400);
    });

    it('schedules: list, trigger, pause, resume; an unknown id is a 404', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      await jobwire.schedules.upsert(
        defineSchedule({ id: 'nightly', cron: '0 3 * * *', task: 'echo', payload: { n: 1 } }),
      );
      const listed = await call(handler, 'GET', '/api/schedules');
      assert.deepEqual(
        listed.body.schedules.map((s: { id: string }) => s.id),
        ['nightly'],
      );
      const triggered = await call(handler, 'POST', '/api/schedules/nightly/trigger');
      assert.equal(triggered.status, 201, triggered.text);
      assert.deepEqual(triggered.body.job.payload, { n: 1 });
      assert.deepEqual((await call(handler, 'POST', '/api/schedules/nightly/pause')).body, {
        schedule: 'nightly',
        paused: true,
        changed: true,
      });
      assert.equal((await jobwire.schedules.get('nightly'))?.paused, true);
      assert.equal((await call(handler, 'POST', '/api/schedules/nightly/resume')).body.changed, true);
      for (const action of ['trigger', 'pause', 'resume']) {
        const r = await call(handler, 'POST', `/api/schedules/weekly/${action}`);
        assert.equal(r.status, 404, action);
        assert.equal(r.body.error.code, 'JOBWIRE_SCHEDULE_NOT_FOUND');
      }
    });

    it('workers, stats and tasks', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks });
      const pool = jobwire.createPool({ concurrency: 2, queues: ['default'] });
      await pool.start();
      t.after(() => pool.stop());
      const job = await jobwire.enqueue('echo', { ok: 1 });
      await jobwire.waitForJob(job.id, { timeoutMs: 20_000 });
      const workers = await call(handler, 'GET', '/api/workers');
      assert.equal(workers.body.pools.length, 1);
      assert.equal(workers.body.pools[0].concurrency, 2);
      const stats = await call(handler, 'GET', '/api/stats?windowMs=600000');
      assert.equal(stats.body.windowMs, 600000);
      assert.equal(stats.body.queues.find((q: { queue: string }) => q.queue === 'default').completed, 1);
      const taskList = await call(handler, 'GET', '/api/tasks');
      assert.deepEqual(taskList.body.registered, ['echo', 'explode', 'send-email']);
      assert.ok(taskList.body.published.some((p: { name: string }) => p.name === 'send-email'));
    });

    it('the event log as JSON pages; an expired cursor is a 410', async (t) => {
      const { handler, jobwire, driver } = await httpFixture(t, factory, { tasks });
      const start = await jobwire.events.head();
      for (let i = 0; i < 3; i++) await jobwire.enqueue('echo', i, { runAt: Date.now() + 3_600_000 });
      const page = await call(
        handler,
        'GET',
        `/api/events?after=${encodeURIComponent(start)}&limit=2&type=job:queued`,
      );
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.events.length, 2);
      assert.equal(page.body.more, true);
      const rest = await call(
        handler,
        'GET',
        `/api/events?after=${encodeURIComponent(page.body.cursor)}&type=job:queued`,
      );
      assert.equal(rest.body.events.length, 1);
      const job = await jobwire.enqueue('echo', 'mine', { runAt: Date.now() + 3_600_000 });
      const mine = await call(handler, 'GET', `/api/events?job=${job.id}`);
      assert.deepEqual(
        mine.body.events.map((e: { data: { jobId: string } }) => e.data.jobId),
        [job.id],
      );
      while ((await driver.eventPrune({ before: Date.now() + 3_600_000, limit: 1000 })) > 0) {}
      const expired = await call(handler, 'GET', `/api/events?after=${encodeURIComponent(start)}`);
      assert.equal(expired.status, 410, expired.text);
      assert.equal(expired.body.error.code, 'JOBWIRE_EVENT_CURSOR_EXPIRED');
    });

    it('SSE resumes after a server restart with Last-Event-ID: no gap, no duplicate', async (t) => {
      const fixture = await httpFixture(t, factory, { tasks });
      const first = await fixture.handler.fetch(
        new Request('http://jobwire.test/api/events/stream?type=job:queued', {
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      );
      assert.equal(first.status, 200);
      assert.match(first.headers.get('content-type') ?? '', /^text\/event-stream/);
      const stream = sseReader(first);
      assert.equal((await stream.next())?.comment, 'connected');
      const enqueued: string[] = [];
      for (let i = 0; i < 3; i++)
        enqueued.push((await fixture.jobwire.enqueue('echo', i, { runAt: Date.now() + 3_600_000 })).id);
      const seen: { id: string; jobId: string }[] = [];
      for (let i = 0; i < 2; i++) {
        const frame = (await stream.nextEvent())!;
        assert.equal(frame.event, 'job:queued');
        seen.push({ id: frame.id!, jobId: JSON.parse(frame.data!).data.jobId });
      }
      // The server goes away after two of the three events reached the browser: whatever was
      // still in flight is lost with the connection, and the stream ends.
      fixture.handler.close();
      let frame = await stream.nextEvent();
      while (frame !== null) frame = await stream.nextEvent();
      await fixture.jobwire.close();
      const restarted = await fixture.reopen();
      for (let i = 3; i < 5; i++)
        enqueued.push((await restarted.jobwire.enqueue('echo', i, { runAt: Date.now() + 3_600_000 })).id);
      const second = await restarted.handler.fetch(
        new Request('http://jobwire.test/api/events/stream?type=job:queued', {
          headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': seen[1]!.id },
        }),
      );
      const resumed = sseReader(second);
      for (let i = 0; i < 3; i++) {
        const frame = (await resumed.nextEvent())!;
        seen.push({ id: frame.id!, jobId: JSON.parse(frame.data!).data.jobId });
      }
      await resumed.cancel();
      assert.deepEqual(
        seen.map((s) => s.jobId),
        enqueued,
        'every job:queued once, in order',
      );
      assert.equal(new Set(seen.map((s) => s.id)).size, 5);
    });

    it('SSE sends a typed reset on an expired cursor and goes on from the head; a bad ?after= is a 400', async (t) => {
      const { handler, jobwire, driver } = await httpFixture(t, factory, {
        tasks,
        http: { heartbeatMs: 50 },
      });
      const old = await jobwire.events.head();
      await jobwire.enqueue('echo', 0, { runAt: Date.now() + 3_600_000 });
      while ((await driver.eventPrune({ before: Date.now() + 3_600_000, limit: 1000 })) > 0) {}
      const response = await handler.fetch(
        new Request('http://jobwire.test/api/events/stream', {
          headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': old },
        }),
      );
      const stream = sseReader(response);
      const reset = (await stream.nextEvent())!;
      assert.equal(reset.event, 'reset');
      const body = JSON.parse(reset.data!);
      assert.equal(body.code, 'JOBWIRE_EVENT_CURSOR_EXPIRED');
      assert.equal(reset.id, body.cursor, 'the reset moves the browser to the head');
      let heartbeat = await stream.next();
      while (heartbeat && heartbeat.event !== undefined) heartbeat = await stream.next();
      assert.equal(heartbeat?.comment, 'heartbeat', 'idle streams get heartbeats');
      const job = await jobwire.enqueue('echo', 1, { runAt: Date.now() + 3_600_000 });
      const next = (await stream.nextEvent())!;
      assert.equal(next.event, 'job:queued');
      assert.equal(JSON.parse(next.data!).data.jobId, job.id);
      await stream.cancel();

      const bad = await handler.fetch(
        new Request('http://jobwire.test/api/events/stream?after=garbage', {
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      );
      assert.equal(bad.status, 400);
      assert.equal(
        ((await bad.json()) as { error: { details: { field: string } } }).error.details.field,
        'after',
      );
    });

    it('SSE resuming from a Last-Event-ID this log cannot hold (the database reset or restored, or not ours) gets a reset, not a 400 that ends EventSource for good', async (t) => {
      const { handler, jobwire } = await httpFixture(t, factory, { tasks, http: { heartbeatMs: 50 } });
      await jobwire.enqueue('echo', 0, { runAt: Date.now() + 3_600_000 });
      const head = await jobwire.events.head();
      // What a browser holds after this database was reset or restored from an older backup.
      const ahead = head.replace(/\.(\d+)/g, (_, n: string) => `.${Number(n) + 1_000_000}`);
      for (const lastEventId of [ahead, 'garbage']) {
        const response = await handler.fetch(
          new Request('http://jobwire.test/api/events/stream', {
            headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': lastEventId },
          }),
        );
        assert.equal(response.status, 200, lastEventId);
        const stream = sseReader(response);
        const reset = (await stream.nextEvent())!;
        assert.equal(reset.event, 'reset', lastEventId);
        const body = JSON.parse(reset.data!);
        assert.equal(body.code, 'JOBWIRE_INVALID_OPTION');
        assert.equal(reset.id, body.cursor, 'the reset moves the browser to the head');
        const job = await jobwire.enqueue('echo', 1, { runAt: Date.now() + 3_600_000 });
        const next = (await stream.nextEvent())!;
        assert.equal(JSON.parse(next.data!).data.jobId, job.id, 'it goes on from the head');
        await stream.cancel();
      }
    });
  });
}
