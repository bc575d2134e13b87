/**
 * A third driver can run the client/pool suites: everything here comes from the conformance
 * entry (`src/driver/conformance/index.ts`, which a driver in another repository vendors) and the
 * public SQLite driver (`jobwire/sqlite`), under a name and file layout of its own, as a driver
 * author's repository would wire it. Two suites keep it cheap;
 * test/pool-sqlite.test.ts runs them all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CLIENT_SUITES,
  type ClientSuiteName,
  type ConformanceDatabases,
  runClientConformance,
} from '../src/driver/conformance/index.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

let created = 0;

/** SQLite under another name: numbered `.sqlite3` files in one directory of its own. */
const thirdDriverDatabases: ConformanceDatabases = {
  name: 'third-driver',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'jobwire-third-driver-'));
    const path = join(dir, `queue-${++created}.sqlite3`);
    return {
      location: path,
      open: async () => sqliteDriver({ path }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

runClientConformance(thirdDriverDatabases, { only: ['lifecycle', 'task defaults'] });

describe('runClientConformance options', () => {
  it('names every suite it can run', () => {
    assert.deepEqual(CLIENT_SUITES, [
      'lifecycle',
      'enqueue and queues',
      'dedup',
      'event order',
      'abort',
      'interruptions',
      'bad input',
      'bad outcomes',
      'progress',
      'client services',
      'task defaults',
      'wakeups',
      'direct starts',
      'pool registry',
      'health',
      'event log',
      'bulk admin',
      'retention',
      'schedules',
      'dependencies',
      'dependency retry',
      'flow holds',
      'event log processes',
      'database away',
    ]);
  });

  it('refuses an unknown suite name instead of running nothing', () => {
    assert.throws(
      () => runClientConformance(thirdDriverDatabases, { only: ['lifecycles' as ClientSuiteName] }),
      /Unknown client conformance suites: lifecycles/,
    );
  });
});
