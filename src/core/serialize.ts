/**
 * Turning values into stored JSON and thrown things into stored errors — defensively, because
 * both come from user code.
 */
import { InvalidOptionError, InvalidPayloadError, PayloadTooLargeError } from './errors.js';
import type { EpochMs, StoredError } from './types.js';

/** Longest stored error message, in characters; longer ones are cut with a note. */
export const MAX_ERROR_MESSAGE_CHARS = 4096;
/** Longest stored stack trace, in characters. */
export const MAX_ERROR_STACK_CHARS = 8192;

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

/** Encode a handler's result; a result JSON cannot hold is stored as a description, not thrown. */
export function encodeResult(result: unknown): string | null {
  if (result === undefined) return null;
  try {
    return JSON.stringify(result) ?? null;
  } catch (error) {
    return JSON.stringify({
      unserializableResult: `the handler's result could not be encoded as JSON: ${
        error instanceof Error ? error.message : String(error)
      }`,
    });
  }
}

/** Decode stored JSON text; null stays null. */
export function decodeJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/**
 * Normalise anything a handler may throw — an Error, a string, `undefined`, a circular object, a
 * 10 MB message — into a bounded, JSON-safe `StoredError`. Never throws.
 */
export function toStoredError(thrown: unknown, attempt: number, at: EpochMs): StoredError {
  try {
    if (thrown instanceof Error) {
      const stored: StoredError = {
        name: cap(String(thrown.name || 'Error'), 200),
        message: cap(String(thrown.message), MAX_ERROR_MESSAGE_CHARS),
        attempt,
        at,
      };
      if (typeof thrown.stack === 'string') stored.stack = cap(thrown.stack, MAX_ERROR_STACK_CHARS);
      return stored;
    }
    if (thrown === undefined || thrown === null) {
      return { name: 'NonError', message: `the handler threw ${String(thrown)}`, attempt, at };
    }
    if (typeof thrown === 'string') {
      return { name: 'NonError', message: cap(thrown, MAX_ERROR_MESSAGE_CHARS), attempt, at };
    }
    let description: string;
    try {
      description = JSON.stringify(thrown) ?? String(thrown);
    } catch {
      description = Object.prototype.toString.call(thrown);
    }
    return {
      name: 'NonError',
      message: cap(`the handler threw a non-Error value: ${description}`, MAX_ERROR_MESSAGE_CHARS),
      attempt,
      at,
    };
  } catch {
    // A hostile getter (name, message or toString that throws) must not take the pool down.
    return {
      name: 'NonError',
      message: 'the handler threw a value that could not be described',
      attempt,
      at,
    };
  }
}
