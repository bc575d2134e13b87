/** Reads Server-Sent Events frames from a fetch Response body, one at a time. */

/** One frame: a comment, or an event with its id, name and data. */
export interface SseFrame {
  comment?: string;
  id?: string;
  event?: string;
  data?: string;
}

/** A reader of `response`'s frames. `next` rejects after `timeoutMs` (a failing test's bound). */
export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const frames: SseFrame[] = [];

  function parse(): void {
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const frame: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
        }
      }
      frames.push(frame);
    }
  }

  return {
    /** The next frame (comments included), or null when the stream ended. */
    async next(timeoutMs = 15_000): Promise<SseFrame | null> {
      const deadline = Date.now() + timeoutMs;
      while (frames.length === 0) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('no SSE frame in time')),
            Math.max(1, deadline - Date.now()),
          );
        });
        const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
        if (chunk.done) return null;
        buffer += decoder.decode(chunk.value, { stream: true });
        parse();
      }
      return frames.shift()!;
    },
    /** The next frame that is an event (comments skipped). */
    async nextEvent(timeoutMs = 15_000): Promise<SseFrame | null> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = await this.next(Math.max(1, deadline - Date.now()));
        if (frame === null || frame.event !== undefined) return frame;
      }
    },
    async cancel(): Promise<void> {
      await reader.cancel().catch(() => {});
    },
  };
}
