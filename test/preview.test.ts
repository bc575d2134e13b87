/**
 * How a refused value is quoted back in errors: as it was given. A NaN delay said "got null"
 * (JSON's spelling of NaN), sending the user to look for a null they never passed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJobwire, defineTask, InvalidOptionError } from '../src/index.js';
import { sqliteDatabases } from './support/sqlite.js';

test('a NaN or infinite option is quoted as NaN or Infinity, not null', async (t) => {
  const db = await sqliteDatabases.create();
  const task = defineTask({ name: 'noop', handler: async () => {} });
  const jobwire = await createJobwire({ driver: await db.open(), tasks: [task] });
  t.after(async () => {
    await jobwire.close();
    await db.cleanup();
  });
  for (const [delayMs, shown] of [
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ] as const) {
    await assert.rejects(
      jobwire.enqueue(task, {}, { delayMs }),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.field === 'delayMs' &&
        error.message.endsWith(`got ${shown}`),
    );
  }
});
