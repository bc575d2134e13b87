/**
 * SQLite test databases: a fresh file in the OS temp directory per test, removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteDriver } from '../../src/drivers/sqlite/index.js';
import type { TestDatabaseFactory } from './database.js';

/** A factory of fresh SQLite databases for the shared suites. */
export const sqliteDatabases: TestDatabaseFactory = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'jobwire-test-'));
    const path = join(dir, 'test.db');
    return {
      location: path,
      open: async () => sqliteDriver({ path }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};
