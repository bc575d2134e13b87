/**
 * Turning values into stored JSON and thrown things into stored errors — defensively, because
 * both come from user code.
 */
import {
  InvalidOptionError,
  InvalidPayloadError,
  PayloadTooLargeError,
  ResultTooLargeError,
} from './errors.js';
import { toStorableText } from './storable.js';
import type { EpochMs, StoredError } from './types.js';

/** Longest stored error message, in characters; longer ones are cut with a note. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;
/** Longest stored stack trace, in characters. */
export const MAX_ERROR_STACK_CHARS = 8192;
/** Longest stored error name, in characters. */
export const MAX_ERROR_NAME_CHARS = 200;
/** Room for the "… [N more characters cut]" note after a cut. */
const CUT_NOTE_SLACK = 64;

/**
 * Encode a payload as JSON, enforcing the size limit. Throws `InvalidPayloadError` for values
 * JSON cannot represent (circular structures, BigInt) and `PayloadTooLargeError` past the limit.
 */
export function encodePayload(task: string, payload: unknown, limitBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload === undefined ? null : payload);
  } catch (error) {
    throw new InvalidPayloadError(
      task,
      `it cannot be encoded as JSON (${error instanceof Error ? error.message : String(error)})`,
      undefined,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new InvalidPayloadError(task, `a ${typeof payload} cannot be encoded as JSON`);
  }
  // Every UTF-16 unit is at most 3 UTF-8 bytes, so short strings skip the exact count.
  if (json.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limitBytes) throw new PayloadTooLargeError(task, bytes, limitBytes);
  }
  return json;
}

/**
 * Encode a job's metadata as a JSON object, within `limitBytes`. Throws `InvalidOptionError`
 * (field `metadata`) for values JSON cannot represent (cycles, BigInt, a throwing `toJSON`),
 * for anything that does not encode as an object, and past the size limit. Text inside is kept
 * exactly as JSON escapes it (a NUL or an unpaired surrogate included), which every driver
 * stores and reads back unchanged.
 */
export function encodeMetadata(metadata: Record<string, unknown>, limitBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(metadata);
  } catch (error) {
    throw new InvalidOptionError(
      'metadata',
      `cannot be encoded as JSON (${error instanceof Error ? error.message : String(error)}); ` +
        'use plain objects, arrays, strings, finite numbers, booleans and null',
    );
  }
  if (json === undefined || !json.startsWith('{')) {
    throw new InvalidOptionError('metadata', 'must encode as a JSON object (check its toJSON method)');
  }
  if (json.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limitBytes) {
      throw new InvalidOptionError(
        'metadata',
        `is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit (maxPayloadBytes); ` +
          'keep metadata to small facts (tenant, trace id) and large data elsewhere',
      );
    }
  }
  return json;
}

/** Default cap on a handler's result, in bytes of JSON: 1 MiB, like payloads. */
export const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;

/**
 * Encode a handler's result. A result JSON cannot hold (circular, BigInt, a throwing `toJSON`)
 * is stored as a description, not thrown; one over `limitBytes` throws `ResultTooLargeError`,
 * which the pool stores as the attempt's error. JSON escapes NUL and lone surrogates
 * (`\u0000`, `\ud800`), so the text is storable in every driver's JSON column as is.
 */
export function encodeResult(result: unknown, limitBytes = DEFAULT_MAX_RESULT_BYTES): string | null {
  if (result === undefined) return null;
  let json: string | null;
  try {
    json = JSON.stringify(result) ?? null;
  } catch (error) {
    json = JSON.stringify({
      unserializableResult: toStorableText(
        `the handler's result could not be encoded as JSON: ${describe(error)}`,
        MAX_ERROR_MESSAGE_CHARS,
      ),
    });
  }
  if (json !== null && json.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > limitBytes) throw new ResultTooLargeError(bytes, limitBytes);
  }
  return json;
}

/** Progress as stored JSON, or undefined when JSON cannot hold it or it is over `limitBytes`. */
export function encodeProgress(value: unknown, limitBytes: number): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(value ?? null);
  } catch {
    return undefined;
  }
  if (json === undefined) return undefined;
  if (json.length * 3 > limitBytes && Buffer.byteLength(json, 'utf8') > limitBytes) return undefined;
  return json;
}

/**
 * A stored error as JSON text every driver can store (PostgreSQL's `jsonb` refuses the escapes
 * of NUL and lone surrogates): each text field is made storable again here, so an error built
 * by hand or by an older version cannot poison a write. Drivers call this, not JSON.stringify.
 */
export function storedErrorJson(error: StoredError): string {
  // The slack leaves text that toStoredError already cut (with its note) as it is.
  const stored: StoredError = {
    name: toStorableText(String(error.name), MAX_ERROR_NAME_CHARS + CUT_NOTE_SLACK),
    message: toStorableText(String(error.message), MAX_ERROR_MESSAGE_CHARS + CUT_NOTE_SLACK),
    attempt: error.attempt,
    at: error.at,
  };
  if (typeof error.stack === 'string') {
    stored.stack = toStorableText(error.stack, MAX_ERROR_STACK_CHARS + CUT_NOTE_SLACK);
  }
  return JSON.stringify(stored);
}

/** A thrown value's message for another message; never throws. */
function describe(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'an error that could not be described';
  }
}

/** What `read` gives for a property whose getter threw. */
const UNREADABLE = Symbol('unreadable');

/** Read one property of a thrown value; a hostile getter gives UNREADABLE instead of throwing. */
function read(thrown: object, key: 'name' | 'message' | 'stack'): unknown {
  try {
    return (thrown as Record<string, unknown>)[key];
  } catch {
    return UNREADABLE;
  }
}

/** `String(value)`, or `fallback` when its toString throws. */
function text(value: unknown, fallback: string): string {
  try {
    return String(value);
  } catch {
    return fallback;
  }
}

/**
 * Normalise anything a handler may throw — an Error, a string, `undefined`, a circular object, a
 * 10 MB message, text with NUL or lone surrogates, hostile getters — into a bounded `StoredError`
 * that every driver can store (see `toStorableText`). Never throws.
 */
export function toStoredError(thrown: unknown, attempt: number, at: EpochMs): StoredError {
  try {
    if (thrown instanceof Error) {
      const name = read(thrown, 'name');
      const message = read(thrown, 'message');
      const stack = read(thrown, 'stack');
      const stored: StoredError = {
        name: toStorableText(
          name === UNREADABLE ? 'Error' : text(name || 'Error', 'Error'),
          MAX_ERROR_NAME_CHARS,
        ),
        message: toStorableText(
          message === UNREADABLE
            ? '(the error message could not be read: its getter threw)'
            : message === undefined
              ? ''
              : text(message, '(the error message could not be converted to text)'),
          MAX_ERROR_MESSAGE_CHARS,
        ),
        attempt,
        at,
      };
      if (typeof stack === 'string') stored.stack = toStorableText(stack, MAX_ERROR_STACK_CHARS);
      return stored;
    }
    if (thrown === undefined || thrown === null) {
      return { name: 'NonError', message: `the handler threw ${String(thrown)}`, attempt, at };
    }
    if (typeof thrown === 'string') {
      return { name: 'NonError', message: toStorableText(thrown, MAX_ERROR_MESSAGE_CHARS), attempt, at };
    }
    let description: string;
    try {
      description = JSON.stringify(thrown) ?? String(thrown);
    } catch {
      description = Object.prototype.toString.call(thrown);
    }
    return {
      name: 'NonError',
      message: toStorableText(`the handler threw a non-Error value: ${description}`, MAX_ERROR_MESSAGE_CHARS),
      attempt,
      at,
    };
  } catch {
    // A hostile value (a Proxy, a toString that throws) must not take the pool down.
    return {
      name: 'NonError',
      message: 'the handler threw a value that could not be described',
      attempt,
      at,
    };
  }
}
