/**
 * SQLite test databases: a fresh file in the OS temp directory per test, removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteDriver } from '../../src/drivers/sqlite/index.js';
import type { TestDatabaseFactory } from './database.js';
import { startConformanceChild } from './processes.js';

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
      startProcess: (env) => startConformanceChild(path, env),
      // A trigger refuses completions; heartbeats and other writes still pass.
      async refuseCompletions() {
        const db = new Database(path);
        db.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON jobwire_jobs WHEN NEW.state = 'completed'
          BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
        return async () => {
          db.exec('DROP TRIGGER refuse');
          db.close();
        };
      },
      async lockWrites() {
        const db = new Database(path);
        db.exec('BEGIN IMMEDIATE');
        return async () => {
          db.exec('COMMIT');
          db.close();
        };
      },
    };
  },
};
