/**
 * Streams opened on a browser session end when the session does. Authentication happens when a
 * request arrives; an event stream (the API's `/api/events/stream`, the dashboard's live view, a
 * host's own) then stays open for hours, and went on delivering events to a browser whose
 * session had expired. So the guard hands every `text/event-stream` answer to a session-signed
 * request to `endWithSession`, which ends it at the session's expiry: the browser's EventSource
 * reconnects, is refused (401), and the page says it is signed out.
 */

/** Longest delay a Node timer takes (about 24.8 days); a later end is re-armed from there. */
const MAX_TIMER_MS = 2_147_483_647;

/** `response` itself, or, for an event stream, the same answer ending at `endsAt` (epoch ms). */
export function endWithSession(response: Response, endsAt: number): Response {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream') || response.body === null) return response;
  return new Response(endingAt(response.body, endsAt), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** `body`'s bytes until it ends or until `endsAt`, whichever comes first. */
function endingAt(body: ReadableStream<Uint8Array>, endsAt: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    controller.close();
    void reader.cancel('the session ended').catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const arm = () => {
        const left = endsAt - Date.now();
        if (left <= 0) return end(controller);
        timer = setTimeout(left > MAX_TIMER_MS ? arm : () => end(controller), Math.min(left, MAX_TIMER_MS));
      };
      arm();
    },
    async pull(controller) {
      const chunk = await reader.read().catch(() => undefined);
      if (ended) return;
      if (chunk === undefined || chunk.done) end(controller);
      else controller.enqueue(chunk.value);
    },
    cancel(reason) {
      ended = true;
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
}
