/**
 * A batch column sent as ONE delimited text parameter instead of an array parameter.
 *
 * node-postgres encodes an array parameter element by element: every string is quoted and its
 * quotes and backslashes escaped (JSON payloads are full of quotes), and the server parses the
 * array literal back, unescaping each element. For a bulk insert of 1,000 jobs with a dozen such
 * columns that encoding was about 15 % of the client's CPU (a profile of `enqueueMany`). Joined by
 * a record separator instead, a column costs one `join` here and one `string_to_array` there.
 *
 * U+001E separates elements and U+001F alone stands for NULL. JSON text never holds either
 * unescaped, and numbers never do; a column with a string that holds U+001E, or is exactly
 * U+001F, cannot be packed — the caller then sends the array parameter as before.
 */

/** The element separator: the ASCII record separator. */
const SEPARATOR = '\u001e';
/** An element that is exactly this is NULL (the ASCII unit separator). */
const NULL_ELEMENT = '\u001f';

/** One batch column's values as the statement receives them. */
export type ColumnValue = string | number | null | undefined;

/**
 * The column as one text, or undefined when it cannot be packed: a string holding the separator
 * or equal to the NULL mark, or a single empty string (`string_to_array('')` is an empty array,
 * which would lose the row).
 */
export function packColumn(values: readonly ColumnValue[]): string | undefined {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) parts[i] = NULL_ELEMENT;
    else if (typeof value === 'number') parts[i] = String(value);
    else {
      if (value === NULL_ELEMENT || value.includes(SEPARATOR)) return undefined;
      parts[i] = value;
    }
  }
  if (parts.length === 1 && parts[0] === '') return undefined;
  return parts.join(SEPARATOR);
}

/**
 * Every array in `values` packed, or undefined if one cannot be (send them all as arrays then:
 * a statement's text names one form per parameter).
 */
export function packColumns(values: readonly unknown[]): unknown[] | undefined {
  const packed = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Array.isArray(value)) {
      packed[i] = value;
      continue;
    }
    const column = packColumn(value as ColumnValue[]);
    if (column === undefined) return undefined;
    packed[i] = column;
  }
  return packed;
}

/**
 * SQL for parameter `param` as an array of `type`: the packed text split back (the separator and
 * NULL mark as above), or the array parameter itself when not packed.
 */
export function columnSql(param: string, type: string, packed: boolean): string {
  return packed ? `string_to_array(${param}::text, chr(30), chr(31))::${type}[]` : `${param}::${type}[]`;
}
