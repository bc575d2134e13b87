/**
 * The one naming rule for queues and tasks. Both appear in URLs, logs, shell arguments and
 * database indexes, so they share a small, quoting-free alphabet and a length bound.
 */

/** Queue and task names: 1–128 letters, digits, `.`, `_`, `-` or `:`. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The rule in words, for error messages. */
export const NAME_RULE = '1–128 letters, digits, ".", "_", "-" or ":"';

/** True for a string that follows `NAME_PATTERN`. */
export const isName = (value: unknown): value is string =>
  typeof value === 'string' && NAME_PATTERN.test(value);
