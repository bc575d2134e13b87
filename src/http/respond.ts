/**
 * JSON answers and request bodies. Answers escape `<`, `>`, `&` and the two JavaScript line
 * separators inside strings (`\u003c`…): the JSON means the same, and a payload holding
 * `<script>` can never be read as markup, even by a client that sniffs the type.
 */
import { HttpError } from './errors.js';

const UNSAFE = /[<>&\u2028\u2029]/g;

/** `value` as JSON text with the characters above escaped. */
export function safeJsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A JSON answer (never cached: job data changes and may be private). */
export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(safeJsonText(value), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * The request's body, at most `maxBytes` (413 above, counted as it arrives: a chunked body
 * without a length is cut off too).
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'JOBWIRE_HTTP_BODY_TOO_LARGE',
    `The request body is over the ${maxBytes}-byte limit.`,
    {
      limitBytes: maxBytes,
    },
  );
}

/**
 * The request's JSON body: `Content-Type: application/json` (415 otherwise, which also keeps
 * plain HTML forms of other sites out), at most `maxBytes`, valid JSON (400 naming the position).
 * An absent body is `undefined` when `optional`.
 */
export async function readJson(request: Request, maxBytes: number, optional = false): Promise<unknown> {
  const bytes = await readBody(request, maxBytes);
  if (bytes.byteLength === 0 && optional) return undefined;
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(
      415,
      'JOBWIRE_HTTP_UNSUPPORTED_MEDIA_TYPE',
      'Send the body as Content-Type: application/json.',
    );
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new HttpError(
      400,
      'JOBWIRE_HTTP_BAD_JSON',
      `The body is not valid JSON: ${(error as Error).message}`,
    );
  }
}
