/**
 * PostgreSQL flow control between processes (two drivers on one schema stand for two
 * processes): a driver that found a queue without flow work skips the flow transaction on its
 * next short claims (so unkeyed claims of a shallow queue stay one statement), and drops that
 * mark as soon as another process inserts keyed jobs or sets a queue-wide rule — announced on
 * commit over NOTIFY.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobParams } from '../src/driver/conformance/harness.js';
import type { Driver } from '../src/driver/driver.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { openTestDriver } from './support/postgres.js';

const FLOW_CHANNEL = 'jobwire_flow_changed';
const claim = (driver: Driver) =>
  driver.jobClaim({ queues: ['default'], limit: 10, leaseMs: 30_000, poolId: 'p' });

/** The next flow announcement `driver` hears. Subscribe before the change. */
function nextAnnouncement(driver: Driver): Promise<void> {
  return new Promise((resolve) => {
    const stop = driver.notifier.listen(FLOW_CHANNEL, () => {
      stop();
      resolve();
    });
  });
}

test('another process inserting keyed jobs or setting a queue rule is heard at once', async (t) => {
  const a = await openTestDriver();
  const b = postgresDriver({ connectionString: a.url, schema: a.schema, poolSize: 2 });
  t.after(async () => {
    await b.close();
    await a.cleanup();
  });
  // An unkeyed job: A claims it, and its flow path finds the queue idle and marks it.
  await b.jobInsertMany({ jobs: [jobParams()] });
  assert.equal((await claim(a.driver)).length, 1);
  assert.deepEqual(await claim(a.driver), []);

  // B inserts keyed jobs; A hears of it and claims them on its next claim.
  let heard = nextAnnouncement(a.driver);
  await b.jobInsertMany({ jobs: [jobParams({ concurrencyKey: 'k' }), jobParams({ concurrencyKey: 'k' })] });
  await heard;
  assert.equal((await claim(a.driver)).length, 2);

  // Idle again; B sets a queue-wide rule: unkeyed jobs now go through the flow path, and A
  // must not skip it on a stale mark. Three jobs run, so a limit of 5 leaves two slots.
  assert.deepEqual(await claim(a.driver), []);
  await b.jobInsertMany({ jobs: [jobParams(), jobParams(), jobParams()] });
  heard = nextAnnouncement(a.driver);
  await b.flowRuleSet({ rules: [{ queue: 'default', key: null, concurrency: 5, rate: null }] });
  await heard;
  assert.equal((await claim(a.driver)).length, 2);
});
