/** Turning node-postgres errors into jobwire's, with a message that says what to do. */
import { JobwireError, StorageError, type StorageFailureKind } from '../../core/errors.js';

/** Socket-level failures and the SQLSTATEs (classes 08, 28, 3D, 57P) that mean "cannot reach or use the server". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '3D000',
  '28000',
  '28P01',
  '57P01',
  '57P02',
  '57P03',
]);

/** True when `err` says the server could not be reached, refused us, or went away. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  // node-postgres reports these without a code.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    err.message,
  );
}

/**
 * The server ended a connection that was in use (pg_terminate_backend, a restart or failover) or
 * the network cut it: a retry on a new connection may well succeed, and the URL is not at fault.
 */
function isConnectionLost(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    code === '57P01' ||
    code === '57P02' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /Connection terminated unexpectedly|Client has encountered a connection error/i.test(err.message)
  );
}

/** node-postgres gave up on a statement after its `query_timeout` (no answer in time). */
export function isReadTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Query read timeout';
}

/** The `StorageError` for a statement that went unanswered for `timeoutMs` (see `isReadTimeout`). */
export function queryTimeoutError(
  err: unknown,
  target: string,
  operation: string,
  timeoutMs: number,
): StorageError {
  return new StorageError(
    `PostgreSQL at ${target} did not answer ${operation} within queryTimeoutMs (${timeoutMs} ms): the network ` +
      'may have cut the connection without closing it, or the statement waited that long (for a lock another ' +
      'session holds, or scanning a very large table). The connection was dropped; retry (pools retry by ' +
      'themselves), and raise queryTimeoutMs (0: no limit) if such statements are expected.',
    { cause: err, kind: 'unavailable' },
  );
}

function advice(err: Error, schema: string): string {
  const code = (err as { code?: unknown }).code;
  if (code === '42P01' || code === '3F000') {
    return `The jobwire tables are missing from schema "${schema}": run migrate() (or \`jobwire migrate\`) first.`;
  }
  if (code === '25P01') {
    return 'The executor is not in a transaction: pass a client on which you ran BEGIN, or leave executor out.';
  }
  if (code === '42501')
    return 'The database user lacks a privilege jobwire needs: grant it, or use another user.';
  if (code === '53300') return 'PostgreSQL has no free connections: lower poolSize or raise max_connections.';
  if (code === '40P01') return 'A deadlock was detected; retry the operation.';
  return 'See the cause for details.';
}

/**
 * Wrap a PostgreSQL or connection error as a `StorageError` naming the server and the operation;
 * jobwire's own errors and programming errors (TypeError, RangeError) pass through untouched.
 */
export function toStorageError(err: unknown, target: string, schema: string, operation: string): unknown {
  if (err instanceof JobwireError || !(err instanceof Error)) return err;
  if (isConnectionLost(err)) {
    return new StorageError(
      `Lost the connection to PostgreSQL at ${target} during ${operation} (${err.message || String((err as { code?: unknown }).code)}): ` +
        'the server ended it (a restart, a failover, pg_terminate_backend) or the network dropped it. ' +
        'Retry: the next call opens a new connection (pools retry by themselves).',
      { cause: err, kind: 'unavailable' },
    );
  }
  if (isConnectionError(err)) {
    return new StorageError(
      `Cannot reach PostgreSQL at ${target} during ${operation} (${err.message || String((err as { code?: unknown }).code)}). ` +
        'Check the connection URL (host, port, user, password, database) and that PostgreSQL is running ' +
        'and accepts connections from this machine.',
      { cause: err, kind: 'unavailable' },
    );
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  return new StorageError(
    `PostgreSQL ${operation} on ${target} failed (${code}: ${err.message}). ${advice(err, schema)}`,
    { cause: err, kind: failureKind(code) },
  );
}

/**
 * Class 22 (data exception: invalid text representation, untranslatable character, …) and 54
 * (program limit exceeded) mean the values were refused; class 40 (deadlock, serialization),
 * 53 (insufficient resources) and 57014 (statement timeout) mean "not now".
 */
function failureKind(code: string): StorageFailureKind {
  if (code.startsWith('22') || code.startsWith('54')) return 'refused';
  if (code.startsWith('40') || code.startsWith('53') || code === '57014') return 'unavailable';
  return 'other';
}

/** Where a pool connects, for messages: `host:port/database`, never the password. */
export function describeTarget(config: {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  database?: string | undefined;
}): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString);
      const database = url.pathname.replace(/^\//, '') || '(default database)';
      return `${url.hostname || 'localhost'}:${url.port || '5432'}/${database}`;
    } catch {
      return '(unparsable connection string)';
    }
  }
  return `${config.host ?? process.env.PGHOST ?? 'localhost'}:${config.port ?? process.env.PGPORT ?? 5432}/${config.database ?? process.env.PGDATABASE ?? '(default database)'}`;
}
