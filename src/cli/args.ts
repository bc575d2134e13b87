/**
 * Argument parsing shared by every command: `node:util` parseArgs in strict mode, with its
 * errors turned into usage errors (exit code 2) that name the option and point at `--help`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../index.js';

/** A mistake in how the command was called. Exit code 2, with a hint line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure to report as `error: <message>` with exit code 1 (the command was well formed). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The `--help` / `-h` flag every command accepts. */
export const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** `--db` and `--schema` (PostgreSQL), as accepted by every command that opens a database. */
export const DB = { db: { type: 'string' }, schema: { type: 'string' } } as const;

/** `--json` for machine-readable output. */
export const JSON_FLAG = { json: { type: 'boolean' } } as const;

type ParseResult<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * Parse `args` for `command` (its full name, e.g. "jobwire jobs ls"). Unknown options, missing
 * values and unexpected positionals become a UsageError naming the culprit.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ParseResult<T> {
  try {
    // strict by default: unknown options throw
    const args = joinNegativeValues(config.args ?? [], config.options ?? {});
    return parseArgs({ ...config, args }) as ParseResult<T>;
  } catch (error) {
    throw toUsageError(command, error);
  }
}

/**
 * `--priority -5` → `--priority=-5`: parseArgs takes a value starting with "-" for an option,
 * so a negative number after an option that takes a value is joined to it. Anything else that
 * starts with "-" stays an option.
 */
function joinNegativeValues(
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

function toUsageError(command: string, error: unknown): unknown {
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const hint = `run "${command} --help" to see what it accepts`;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${option ?? message} for "${command}"`, hint);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /argument '([^']*)'/.exec(message)?.[1];
      return new UsageError(
        `unexpected argument ${arg === undefined ? '' : `"${arg}" `}for "${command}"`,
        hint,
      );
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing/.test(message)) return new UsageError(`option ${option} needs a value`, hint);
      if (/does not take an argument/.test(message)) {
        return new UsageError(`option ${option} is a flag and takes no value`, hint);
      }
      if (/ambiguous/.test(message)) {
        return new UsageError(
          `option ${option} is followed by something that looks like an option`,
          `to pass a value starting with "-", write ${option}=-VALUE`,
        );
      }
      return new UsageError(message.split('\n')[0] ?? message, hint);
    default:
      return error;
  }
}

/** Parse an integer flag. `undefined` stays undefined. */
export function intOption(
  name: string,
  value: string | undefined,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const bounds =
      range.min !== undefined && range.max !== undefined
        ? ` from ${min} to ${max}`
        : range.min !== undefined
          ? ` >= ${min}`
          : range.max !== undefined
            ? ` <= ${max}`
            : '';
    throw new UsageError(`--${name} must be an integer${bounds}, got "${value}"`);
  }
  return n;
}

/** Parse a positive number flag (may be fractional). */
export function numberOption(name: string, value: string | undefined, range: { min: number; max: number }) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < range.min || n > range.max) {
    throw new UsageError(`--${name} must be a number from ${range.min} to ${range.max}, got "${value}"`);
  }
  return n;
}

/** Split a comma-separated list flag ("a,b, c") into its non-empty items. */
export function listOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return items.length ? items : undefined;
}

/** The candidate a typo most likely meant, for "did you mean" hints (the library's own rule). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  return closestName(word, candidates);
}
