/** Turning SQLite's errors into jobwire's, with a message that says what to do. */
import Database from 'better-sqlite3';
import { JobwireError, StorageError, type StorageFailureKind } from '../../core/errors.js';

function advice(code: string, busyTimeoutMs: number): string {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return (
      `Another connection held the database lock for longer than busyTimeoutMs (${busyTimeoutMs} ms). ` +
      'Raise busyTimeoutMs, or find the process that keeps a long write transaction open.'
    );
  }
  if (code === 'SQLITE_FULL') return 'The disk (or a size limit) is full: free some space, then retry.';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return 'The file is not a SQLite database or is corrupt: point jobwire at another file, or restore it from a backup.';
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return (
      'The database is read-only: check the permissions of the file and of its directory ' +
      '(SQLite creates -wal and -shm files next to it).'
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return 'Check that the directory exists and that this process may create and write files in it.';
  }
  if (code.startsWith('SQLITE_IOERR')) return 'The operating system reported an I/O error: check the disk.';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'A value broke a rule of the jobwire schema.';
  return 'See the cause for details.';
}

/**
 * Wrap a SQLite error as a `StorageError` naming the file and the operation; jobwire's own errors
 * and programming errors (TypeError, RangeError from bad bindings) pass through untouched.
 */
export function toStorageError(
  err: unknown,
  path: string,
  operation: string,
  busyTimeoutMs: number,
): unknown {
  if (err instanceof JobwireError || !(err instanceof Database.SqliteError)) return err;
  return new StorageError(
    `SQLite ${operation} on ${path} failed (${err.code}: ${err.message}). ${advice(err.code, busyTimeoutMs)}`,
    { cause: err, kind: failureKind(err.code) },
  );
}

/** Busy, locked, full or failing disks may clear up; a value too big or of the wrong type never will. */
function failureKind(code: string): StorageFailureKind {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'unavailable';
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) return 'unavailable';
  if (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH') return 'refused';
  return 'other';
}
