/** PostgreSQL driver: option validation, connection errors, migrations and pool ownership. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { InvalidOptionError, SchemaVersionError, StorageError } from '../src/core/errors.js';
import { POSTGRES_SCHEMA_VERSION, postgresDriver } from '../src/drivers/postgres/index.js';
import { MIGRATIONS } from '../src/drivers/postgres/migrations/index.js';
import {
  createIsolatedSchema,
  getAdminPool,
  getTestDatabaseUrl,
  openTestDriver,
} from './support/postgres.js';

describe('postgres driver options', () => {
  it('rejects a schema name that is not a plain lower-case identifier', async () => {
    const url = await getTestDatabaseUrl();
    for (const schema of ['foo; drop table x', 'Jobwire', '1jobs', 'a-b', '"x"', '', 'a'.repeat(64)]) {
      assert.throws(
        () => postgresDriver({ connectionString: url, schema }),
        (err: unknown) => err instanceof InvalidOptionError && err.field === 'schema',
        `schema ${JSON.stringify(schema)} should be refused`,
      );
    }
    for (const schema of ['jobwire', '_x', 'a'.repeat(63), 'tenant_42']) {
      await postgresDriver({ connectionString: url, schema }).close();
    }
  });

  it('refuses schema names PostgreSQL reserves for its catalogs, saying so', async () => {
    const url = await getTestDatabaseUrl();
    for (const schema of ['information_schema', 'pg_catalog', 'pg_toast', 'pg_temp_1', 'pg_jobs']) {
      assert.throws(
        () => postgresDriver({ connectionString: url, schema }),
        (err: unknown) =>
          err instanceof InvalidOptionError &&
          err.field === 'schema' &&
          /reserved by PostgreSQL/.test(err.message),
        `schema ${JSON.stringify(schema)} should be refused`,
      );
    }
    for (const schema of ['pgjobs', 'jobs_pg_', 'information_schema_copy']) {
      await postgresDriver({ connectionString: url, schema }).close();
    }
  });

  it('needs exactly one of connectionString and pool, and a sane poolSize', async () => {
    const url = await getTestDatabaseUrl();
    const pool = new pg.Pool({ connectionString: url });
    try {
      assert.throws(() => postgresDriver({}), InvalidOptionError);
      assert.throws(() => postgresDriver({ connectionString: url, pool }), InvalidOptionError);
      assert.throws(
        () => postgresDriver({ connectionString: url, poolSize: 0 }),
        (err: unknown) => err instanceof InvalidOptionError && err.field === 'poolSize',
      );
    } finally {
      await pool.end();
    }
  });

  it('an unreachable server surfaces as a StorageError that says what to check', async () => {
    const driver = postgresDriver({
      connectionString: 'postgres://postgres@127.0.0.1:1/nowhere',
      connectTimeoutMs: 2000,
    });
    try {
      await assert.rejects(driver.migrate(), (err: unknown) => {
        assert.ok(err instanceof StorageError, `got ${String(err)}`);
        assert.match(err.message, /127\.0\.0\.1:1\/nowhere/);
        assert.match(err.message, /Check the connection URL/);
        assert.match(err.message, /PostgreSQL is running/);
        assert.ok(err.cause instanceof Error);
        return true;
      });
      await assert.rejects(driver.jobGet({ id: '1' }), StorageError);
    } finally {
      await driver.close();
    }
  });

  it('a connection string password never appears in error messages', async () => {
    const driver = postgresDriver({
      connectionString: 'postgres://u:s3cret@127.0.0.1:1/db',
      connectTimeoutMs: 2000,
    });
    try {
      await assert.rejects(
        driver.migrate(),
        (err: unknown) => err instanceof Error && !err.message.includes('s3cret'),
      );
    } finally {
      await driver.close();
    }
  });

  it('using the driver before migrate() says to run migrate()', async () => {
    const { url, schema, drop } = await createIsolatedSchema();
    const driver = postgresDriver({ connectionString: url, schema });
    try {
      await assert.rejects(driver.jobGet({ id: '1' }), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.match(err.message, /run migrate\(\)/);
        return true;
      });
    } finally {
      await driver.close();
      await drop();
    }
  });

  it('a pool the caller owns is left open by close()', async (t) => {
    const { url, schema, drop } = await createIsolatedSchema();
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    t.after(async () => {
      await pool.end();
      await drop();
    });
    const driver = postgresDriver({ pool, schema });
    await driver.migrate();
    assert.deepEqual((await driver.jobCountByState({})).pending, 0);
    await driver.close();
    await driver.close();
    const { rows } = await pool.query('SELECT 1 AS one');
    assert.equal(rows[0].one, 1);
  });
});

describe('postgres migrations', () => {
  it('four drivers migrating one schema at once apply each migration exactly once', async (t) => {
    const { url, schema, drop } = await createIsolatedSchema();
    const drivers = Array.from({ length: 4 }, () =>
      postgresDriver({ connectionString: url, schema, poolSize: 2 }),
    );
    t.after(async () => {
      await Promise.all(drivers.map((d) => d.close()));
      await drop();
    });
    const results = await Promise.all(drivers.map((d) => d.migrate()));
    const appliers = results.filter((r) => r.applied.length > 0);
    assert.equal(appliers.length, 1, `applied by ${appliers.length} drivers: ${JSON.stringify(results)}`);
    assert.deepEqual(appliers[0], {
      from: 0,
      to: POSTGRES_SCHEMA_VERSION,
      applied: MIGRATIONS.map((m) => m.version),
    });
    for (const r of results.filter((r) => r.applied.length === 0)) {
      assert.deepEqual(r, { from: POSTGRES_SCHEMA_VERSION, to: POSTGRES_SCHEMA_VERSION, applied: [] });
    }
    const admin = await getAdminPool();
    const { rows } = await admin.query(`SELECT version FROM "${schema}".migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((r) => r.version),
      appliers[0]!.applied,
    );
  });

  it('a schema migrated by a newer jobwire is refused, naming both versions', async (t) => {
    const { driver, schema, cleanup } = await openTestDriver();
    t.after(cleanup);
    const admin = await getAdminPool();
    await admin.query(`INSERT INTO "${schema}".migrations (version, name) VALUES (99, 'from the future')`);
    await assert.rejects(driver.migrate(), (err: unknown) => {
      assert.ok(err instanceof SchemaVersionError);
      assert.match(err.message, /version 99/);
      assert.match(err.message, new RegExp(`version ${POSTGRES_SCHEMA_VERSION}\\b`));
      return true;
    });
  });

  it('a jobs table jobwire did not create is refused', async (t) => {
    const { url, schema, drop } = await createIsolatedSchema();
    const admin = await getAdminPool();
    await admin.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".jobs (id int)`);
    const driver = postgresDriver({ connectionString: url, schema });
    t.after(async () => {
      await driver.close();
      await drop();
    });
    await assert.rejects(driver.migrate(), SchemaVersionError);
  });

  it('drivers on different schemas of one database do not see each other', async (t) => {
    const a = await openTestDriver();
    const b = await openTestDriver();
    t.after(async () => {
      await a.cleanup();
      await b.cleanup();
    });
    await a.driver.jobInsertMany({
      jobs: [
        {
          task: 't',
          queue: 'q',
          payloadJson: '{}',
          priority: 0,
          maxAttempts: 1,
          delayMs: 0,
          runAt: null,
          uniqueKey: null,
          correlationId: 'c',
          metadataJson: '{}',
          timeoutMs: null,
          backoff: null,
        },
      ],
    });
    assert.equal((await a.driver.jobCountByState({})).pending, 1);
    assert.equal((await b.driver.jobCountByState({})).pending, 0);
  });
});
