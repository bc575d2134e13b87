/**
 * The test helpers clean up after themselves: a schema a test names for `openTestDriver` (so that
 * the driver migrates it, as an application's would be) is dropped by its `cleanup()`. It was not:
 * the helper reserved and dropped a second, unused name, and every full run left one schema behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getAdminPool, openTestDriver, uniqueSchemaName } from './support/postgres.js';

test('openTestDriver drops a schema the caller named', async () => {
  const named = uniqueSchemaName();
  const { driver, schema, cleanup } = await openTestDriver({ schema: named });
  assert.equal(schema, named);
  const admin = await getAdminPool();
  const exists = async () =>
    (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [named])).rowCount === 1;
  assert.equal(await exists(), true, 'the driver migrated the named schema');
  assert.equal(driver.name, 'postgres');
  await cleanup();
  assert.equal(await exists(), false, 'cleanup() dropped it');
});
