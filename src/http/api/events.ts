/**
 * The durable event log over HTTP: pages of JSON (`GET /api/events`) and a live Server-Sent
 * Events stream (`GET /api/events/stream`).
 *
 * The stream's `id:` is each event's cursor, so a browser's EventSource resumes after a drop
 * (or a server restart) with `Last-Event-ID` exactly after the last event it got: no gap, no
 * duplicate. When that cursor has expired (retention pruned the events after it) the stream sends
 * a typed `reset` event whose `id:` is the log's head and goes on from there: the client must
 * reload its state. Idle streams get a comment line every `heartbeatMs` (proxies close silent
 * connections). The stream reads one page at a time as the consumer takes it, so a slow reader
 * costs no memory, only lag.
 */
import type { Context, Hono } from 'hono';
import type { EventLogFilter, Jobwire, JobwireError, LoggedEventName } from '../../index.js';
import { isJobwireError } from '../../index.js';
import type { HttpEnv } from '../auth.js';
import { badRequest } from '../errors.js';
import { json, safeJsonText } from '../respond.js';
import { intParam, listParam } from './params.js';

/** Largest page of `GET /api/events`. */
export const MAX_EVENTS_PAGE = 1000;

const EXPIRED = 'JOBWIRE_EVENT_CURSOR_EXPIRED';

/** The headers of an event stream. */
const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  // nginx buffers responses by default, which would hold events back.
  'x-accel-buffering': 'no',
};

function eventFilter(c: Context): EventLogFilter | undefined {
  const types = listParam(c, 'type') as LoggedEventName[] | undefined;
  const queues = listParam(c, 'queue');
  const jobIds = listParam(c, 'job');
  if (!types && !queues && !jobIds) return undefined;
  return { ...(types && { types }), ...(queues && { queues }), ...(jobIds && { jobIds }) };
}

/** One SSE frame. `data` is JSON on one line (JSON.stringify never emits a raw newline). */
function frame(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${safeJsonText(data)}\n\n`;
}

/** Open event streams, so the handler's `close()` can end them. */
export class StreamRegistry {
  readonly #open = new Set<AbortController>();

  add(controller: AbortController): () => void {
    this.#open.add(controller);
    return () => this.#open.delete(controller);
  }

  /** End every open stream. */
  closeAll(): void {
    for (const controller of this.#open) controller.abort();
    this.#open.clear();
  }
}

/** Add the event routes to `app`. */
export function addEventRoutes(
  app: Hono<HttpEnv>,
  jobwire: Jobwire,
  heartbeatMs: number,
  streams: StreamRegistry,
): void {
  app.get('/api/events', async (c) => {
    const page = await jobwire.events.read({
      after: c.req.query('after') ?? 'start',
      limit: intParam(c, 'limit', 1, MAX_EVENTS_PAGE) ?? 100,
      filter: eventFilter(c),
    });
    return json(page);
  });

  app.get('/api/events/stream', async (c) => {
    const filter = eventFilter(c);
    const resumed = c.req.header('last-event-id');
    const afterParam = c.req.query('after');
    // An empty `after` is refused as on GET /api/events, not read as "now".
    if (afterParam === '')
      throw badRequest('after', 'is empty: pass a cursor, "start" or "now", or leave it out');
    const requested = resumed || afterParam || 'now';
    // 'now' fixed here, so nothing committed between this check and the first read is lost.
    let after = requested === 'now' ? await jobwire.events.head() : requested;
    let reset: { code: string; message: string } | undefined;
    try {
      // Checks the cursor and the filter before the stream starts: a bad one is a 400 JSON error.
      await jobwire.events.read({ after, limit: 1, filter });
    } catch (error) {
      // A browser's EventSource gives up for good on any answer but 200, and it resumes with the
      // id it was sent last — which this log may no longer (expired) or not yet (a database reset
      // or restored from a backup) hold. So a `Last-Event-ID` we cannot resume from gets a reset
      // to the head, like an expired one; a bad `?after=` is the caller's own, and a 400.
      const unusableResume =
        Boolean(resumed) &&
        isJobwireError(error, 'JOBWIRE_INVALID_OPTION') &&
        (error as JobwireError & { field?: unknown }).field === 'after';
      if (!isJobwireError(error) || (error.code !== EXPIRED && !unusableResume)) throw error;
      reset = { code: error.code, message: error.message };
      after = await jobwire.events.head();
    }
    // HEAD gets the headers GET would (its checks above included) and no stream: its body would
    // be dropped unread, and the stream never cancelled would stay registered until close().
    if (c.req.method === 'HEAD') return new Response(null, { headers: STREAM_HEADERS });
    const abort = new AbortController();
    const forget = streams.add(abort);
    const frames = streamFrames(jobwire, after, filter, abort.signal, reset);
    const encoder = new TextEncoder();
    let pending: Promise<IteratorResult<string>> | undefined;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        pending ??= frames.next();
        let timer: NodeJS.Timeout | undefined;
        const beat = new Promise<'beat'>((resolve) => {
          timer = setTimeout(() => resolve('beat'), heartbeatMs);
        });
        const result = await Promise.race([pending, beat]);
        clearTimeout(timer);
        if (result === 'beat') {
          controller.enqueue(encoder.encode(': heartbeat\n\n'));
          return;
        }
        pending = undefined;
        if (result.done) {
          forget();
          controller.close();
        } else controller.enqueue(encoder.encode(result.value));
      },
      cancel() {
        forget();
        abort.abort();
      },
    });
    return new Response(body, { headers: STREAM_HEADERS });
  });
}

/** The frames of one stream: a first comment, a reset if due, then every event as it commits. */
async function* streamFrames(
  jobwire: Jobwire,
  start: string,
  filter: EventLogFilter | undefined,
  signal: AbortSignal,
  reset: { code: string; message: string } | undefined,
): AsyncGenerator<string, void, undefined> {
  yield ': connected\nretry: 2000\n\n';
  let cursor = start;
  if (reset) yield frame('reset', { ...reset, cursor }, cursor);
  let resetsInARow = 0;
  while (!signal.aborted) {
    try {
      for await (const event of jobwire.events.tail({ after: cursor, filter, signal })) {
        cursor = event.cursor;
        resetsInARow = 0;
        yield frame(event.type, event, event.cursor);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!isJobwireError(error, EXPIRED)) {
        yield frame('error', {
          code: 'JOBWIRE_HTTP_STREAM',
          message: 'The event stream failed; reconnect to resume.',
        });
        return;
      }
      // Pruned while we read: say so, and go on from the head (pausing if it keeps happening,
      // so a log pruned faster than it is read cannot spin this loop).
      if (++resetsInARow > 1) await sleep(Math.min(10_000, 500 * resetsInARow), signal);
      cursor = await jobwire.events.head();
      yield frame('reset', { code: EXPIRED, message: error.message, cursor }, cursor);
    }
  }
}

/** Wait `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
