/**
 * The SQLite driver's registration: file paths (no scheme), `sqlite:` and `file:` locations.
 * The driver itself (and better-sqlite3) is imported only when such a location is opened.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../../core/errors.js';
import { DatabaseNotFoundError, registerDriver, schemeOf } from '../../driver/registry.js';

/** The database file a SQLite location names; `:memory:` for a private in-memory database. */
export function sqlitePathOf(location: string): string {
  const scheme = schemeOf(location);
  let path = location;
  if (scheme === 'file' && /^file:\/\/(localhost)?\//i.test(location)) {
    // An absolute file URL, percent-encoding and all.
    try {
      path = fileURLToPath(location);
    } catch (error) {
      throw new InvalidOptionError(
        'location',
        `${location} is not a usable file URL: ${(error as Error).message}`,
      );
    }
  } else if (scheme !== null) {
    // `sqlite:./jobs.db`, `sqlite://jobs.db`, `sqlite:///var/jobs.db`, `file:jobs.db`: the
    // rest is the path as written, relative to the current directory unless it starts with /.
    path = location.slice(scheme.length + 1).replace(/^\/\//, '');
  }
  if (path === '') throw new InvalidOptionError('location', `${location} names no SQLite file`);
  return path;
}

registerDriver({
  name: 'sqlite',
  schemes: ['sqlite', 'file'],
  requires: 'better-sqlite3',
  opensPaths: true,
  async open(location, options) {
    const path = sqlitePathOf(location);
    if (options.mustExist && path !== ':memory:' && !existsSync(resolve(path))) {
      throw new DatabaseNotFoundError(path);
    }
    const { sqliteDriver } = await import('./index.js');
    return sqliteDriver({ path });
  },
});
