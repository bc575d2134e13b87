/**
 * Open a driver from a test database `location` string, so child processes can reach the same
 * database as their parent: a file path (SQLite), or `postgres://…#schema` (PostgreSQL, the
 * schema in the URL fragment).
 */
import type { Driver } from '../../src/index.js';

export async function openDriverAt(location: string): Promise<Driver> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const url = new URL(location);
    const schema = decodeURIComponent(url.hash.slice(1)) || undefined;
    url.hash = '';
    const { postgresDriver } = await import('../../src/drivers/postgres/index.js');
    return postgresDriver({ connectionString: url.toString(), schema });
  }
  const { sqliteDriver } = await import('../../src/drivers/sqlite/index.js');
  return sqliteDriver({ path: location });
}
