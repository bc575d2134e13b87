/**
 * A column of UUIDs stored as their bytes (a column batch's encoded column, event-pack.ts).
 *
 * Correlation ids are UUIDs unless the caller chose others, and each is 39 bytes of JSON (36
 * characters, quotes, a comma) in every `job:queued`, `job:started` and `job:completed` the log
 * stores: three quarters of what a drain writes to it. As the base64url text of their 16 bytes
 * each they take 21.3; a column qualifies only when every value is a canonical lower-case UUID,
 * the one form that decodes back to exactly itself.
 */

import { Buffer } from 'node:buffer';

/** The key of an encoded UUID column: `{"u": "<base64url of 16 bytes per value>"}`. */
const UUID_COLUMN_KEY = 'u';

const UUID_LENGTH = 36;
const DASH = 45; // '-'

/** Each byte's value as a lower-case hex digit, or -1 (upper case is not canonical). */
const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let c = 0; c < 16; c++) HEX_DIGIT['0123456789abcdef'.charCodeAt(c)] = c;

/**
 * Writes the 16 bytes of `v` at `bytes[at]` to `bytes[at + 15]` when it is a canonical lower-case
 * UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits `0-9a-f`), else returns false (some of
 * those bytes may be written). The hex digits are read character by character: 66–90 ns a value
 * against JSON.stringify's ~45 for the string (Buffer.from(…, 'hex') of the digits, dashes taken
 * out first, took ~140), for 17 bytes less.
 */
export function uuidBytesInto(v: unknown, bytes: Uint8Array, at: number): boolean {
  if (
    typeof v !== 'string' ||
    v.length !== UUID_LENGTH ||
    v.charCodeAt(8) !== DASH ||
    v.charCodeAt(13) !== DASH ||
    v.charCodeAt(18) !== DASH ||
    v.charCodeAt(23) !== DASH
  )
    return false;
  let out = at;
  for (let i = 0; i < UUID_LENGTH; i += 2) {
    // Step over each dash (offsets 8, 13, 18, 23): the digits pair up between them.
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    const a = v.charCodeAt(i);
    const b = v.charCodeAt(i + 1);
    const hi = a < 256 ? HEX_DIGIT[a]! : -1;
    const lo = b < 256 ? HEX_DIGIT[b]! : -1;
    if (hi < 0 || lo < 0) return false;
    bytes[out++] = (hi << 4) | lo;
  }
  return true;
}

/** The JSON text of an encoded UUID column holding `bytes` (16 a value, see `uuidBytesInto`). */
export const uuidBytesJson = (bytes: Buffer): string =>
  `{"${UUID_COLUMN_KEY}":"${bytes.toString('base64url')}"}`;

/**
 * The JSON text of `values` as an encoded UUID column, or undefined when one of them is not a
 * canonical lower-case UUID (`uuidBytesInto`). Any other column is turned down at its first
 * value, before anything is built.
 */
export function uuidColumnJson(values: readonly unknown[]): string | undefined {
  const first = values[0];
  if (typeof first !== 'string' || first.length !== UUID_LENGTH) return undefined;
  const n = values.length;
  const bytes = Buffer.allocUnsafe(16 * n);
  for (let k = 0; k < n; k++) if (!uuidBytesInto(values[k], bytes, 16 * k)) return undefined;
  return uuidBytesJson(bytes);
}

/** The `n` UUIDs of an encoded column, as they were written; throws on a malformed one. */
export function uuidColumnValues(column: unknown, n: number): string[] {
  const text = (column as Record<string, unknown>)[UUID_COLUMN_KEY];
  if (typeof text !== 'string' || Object.keys(column as object).length !== 1)
    throw new Error(
      `unknown column encoding ${JSON.stringify(column)} in the event log: it was written by a newer jobwire; upgrade this process to read it`,
    );
  const hex = Buffer.from(text, 'base64url').toString('hex');
  if (hex.length !== 32 * n)
    throw new Error(`malformed UUID column in the event log: ${hex.length / 2} bytes for ${n} values`);
  const values = new Array<string>(n);
  for (let k = 0, o = 0; k < n; k++, o += 32) {
    values[k] =
      `${hex.slice(o, o + 8)}-${hex.slice(o + 8, o + 12)}-${hex.slice(o + 12, o + 16)}-${hex.slice(o + 16, o + 20)}-${hex.slice(o + 20, o + 32)}`;
  }
  return values;
}
