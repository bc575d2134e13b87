/** Dedup events in the sinks: the metrics counter by rule, and the log sink's level and message. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineTask } from '../src/index.js';
import { defaultLogLevel, logMessage } from '../src/sinks/log.js';
import { createMetrics } from '../src/sinks/metrics.js';
import { withClient } from './support/harness.js';
import { parseExposition } from './support/prometheus.js';
import { sqliteDatabases } from './support/sqlite.js';

const task = defineTask({ name: 'sync', handler: async () => {} });

test('jobs_deduplicated_total counts the enqueues each rule answered with an existing job', async (t) => {
  const { client } = await withClient(t, sqliteDatabases, { tasks: [task] });
  const metrics = createMetrics(client);
  t.after(() => metrics.close());
  for (let i = 0; i < 3; i++) await client.enqueue(task, {}, { throttle: { key: 't', window: '1h' } });
  for (let i = 0; i < 2; i++) await client.enqueue(task, {}, { uniqueKey: 'u' });
  for (let i = 0; i < 4; i++) await client.enqueue(task, {}, { debounce: { key: 'd', window: '1h' } });
  const scrape = parseExposition(await metrics.text());
  const labels = (rule: string) => ({ queue: 'default', task: 'sync', rule });
  assert.equal(scrape.value('jobwire_jobs_deduplicated_total', labels('throttle')), 2);
  assert.equal(scrape.value('jobwire_jobs_deduplicated_total', labels('unique')), 1);
  assert.equal(scrape.value('jobwire_jobs_deduplicated_total', labels('debounce')), 3);
  assert.equal(scrape.value('jobwire_jobs_enqueued_total', { queue: 'default', task: 'sync' }), 3);
});

test('the log sink logs dedup events at debug with a sentence naming the rule and key', () => {
  const base = { jobId: '7', task: 'sync', queue: 'default', correlationId: 'c', attempt: 0, maxAttempts: 3 };
  const dedup = { ...base, rule: 'throttle' as const, key: 'acct:1', state: 'pending' as const, at: 0 };
  const debounced = { ...base, key: 'doc:3', state: 'scheduled' as const, runAt: 0, previousRunAt: 0, at: 0 };
  assert.equal(defaultLogLevel('job:deduplicated', dedup), 'debug');
  assert.equal(defaultLogLevel('job:debounced', debounced), 'debug');
  // What an operator must see stands out; the periodic health report does not drown it.
  for (const name of ['alert:fired', 'queue:backlog', 'pool:lost'] as const)
    assert.equal(defaultLogLevel(name, {} as never), 'warn', name);
  assert.equal(defaultLogLevel('queue:health', {} as never), 'debug');
  assert.equal(
    logMessage('job:deduplicated', dedup),
    'job 7 (sync) answered an enqueue (throttle key acct:1)',
  );
  assert.equal(
    logMessage('job:debounced', debounced),
    'job 7 (sync) debounced (key doc:3): payload replaced, due at 1970-01-01T00:00:00.000Z',
  );
});
