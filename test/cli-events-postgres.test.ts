/**
 * `jobwire events` on PostgreSQL: the shared suite (see test/suites/cli-events.ts). The CLI
 * names a database by URL and uses the default schema, so each test gets a database of its own
 * (created here, dropped afterwards) rather than the per-test schema of the other suites.
 */
import { postgresDriver } from '../src/drivers/postgres/index.js';
import type { Driver } from '../src/index.js';
import { runCliEventsSuite } from './suites/cli-events.js';
import { useCliTestEnvironment } from './support/cli.js';
import type { TestDatabaseFactory } from './support/database.js';
import { getAdminPool, getTestDatabaseUrl } from './support/postgres.js';

useCliTestEnvironment();

let counter = 0;

/** Fresh databases on the test server, reachable by URL alone (the CLI's --db). */
const postgresDatabasesByUrl: TestDatabaseFactory = {
  name: 'postgres',
  async create() {
    const name = `jw_cli_events_${process.pid}_${++counter}`;
    const admin = await getAdminPool();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(await getTestDatabaseUrl());
    url.pathname = `/${name}`;
    const location = url.toString();
    const opened: Driver[] = [];
    return {
      location,
      open: async () => {
        const driver = postgresDriver({ connectionString: location, poolSize: 4 });
        opened.push(driver);
        return driver;
      },
      cleanup: async () => {
        await Promise.all(opened.map((driver) => driver.close()));
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      refuseCompletions() {
        throw new Error('not used by this suite');
      },
    };
  },
};

runCliEventsSuite(postgresDatabasesByUrl);
