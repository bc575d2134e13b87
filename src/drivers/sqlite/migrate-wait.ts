/**
 * Migrating a file another process is upgrading. An upgrade that rebuilds `jobwire_jobs` holds
 * the write lock for seconds per million jobs (9.8 s for 1.5 M, schema 14 to 18), longer than
 * `busyTimeoutMs` (5 s): a second process starting meanwhile — the next worker of a deploy —
 * failed with "a long write transaction" and exited. While the file is behind this code, so that
 * another process is most likely upgrading it, `migrate` keeps waiting for the lock, up to
 * `UPGRADE_WAIT_MS`, and then says what it waited for. A file already current gets the ordinary
 * `busyTimeoutMs`: a lock held that long there is someone else's long transaction.
 */
import { StorageError } from '../../core/errors.js';
import type { MigrationResult, SchemaVersion } from '../../driver/driver.js';
import { isBusy } from './busy-wait.js';

/** How long `migrate` waits for a lock held while the file is behind this code. */
export const UPGRADE_WAIT_MS = 5 * 60_000;

/**
 * `attempt` (one migrate call, which itself waits `busyTimeoutMs` for the lock) until it gets the
 * lock, for as long as `version()` says the file is behind and `waitMs` has not passed.
 */
export async function migrateWaitingForUpgrade(
  attempt: () => Promise<MigrationResult>,
  version: () => SchemaVersion,
  path: string,
  waitMs = UPGRADE_WAIT_MS,
): Promise<MigrationResult> {
  const started = performance.now();
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StorageError) || !isBusy(error.cause)) throw error;
      let seen: SchemaVersion;
      try {
        seen = version();
      } catch {
        throw error;
      }
      if (seen.current >= seen.latest) throw error;
      const waited = performance.now() - started;
      if (waited >= waitMs) {
        throw new StorageError(
          `SQLite migrate on ${path} waited ${Math.round(waited / 1000)} s for the write lock while the file ` +
            `stayed at schema ${seen.current} (this jobwire: ${seen.latest}). Another process is probably ` +
            'upgrading it — a rebuild of the jobs table takes seconds per million jobs — or holds a long ' +
            'write transaction: let it finish (or stop it), then start this process again.',
          { cause: error.cause, kind: 'unavailable' },
        );
      }
    }
  }
}
