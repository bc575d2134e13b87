/**
 * An election that hung on a connection past the leadership's TTL and then succeeded (the
 * partition healed) must not be announced as won and taken back at the next tick (s44 probe D5:
 * after a 40 s hang a worker went `leader:elected` → `leader:resigned` (lost) → `leader:elected`
 * within 0.5 s). The elector elects once more at once instead, and announces that.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('an election that returns after hanging past the TTL is not announced only to be lost at the next tick', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-outage-elector-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const raw = sqliteDriver({ path: join(dir, 'jobs.db') });
  let hanging = false;
  const hung: (() => void)[] = [];
  const client = await createJobwire({
    driver: {
      ...raw,
      leaderAttemptElect: async (params) => {
        // A connection that no longer answers: the call waits until the partition heals.
        if (hanging) await new Promise<void>((resolve) => hung.push(resolve));
        return raw.leaderAttemptElect(params);
      },
    },
    maintenance: { rescueIntervalMs: 20, leaderTtlMs: 500 },
  });
  t.after(async () => {
    for (const resolve of hung) resolve();
    await client.close();
  });
  const seen: string[] = [];
  client.events.on('leader:elected', () => seen.push('elected'));
  client.events.on('leader:resigned', (e) => seen.push(`resigned (${e.reason})`));
  const pool = client.createPool({});
  await pool.start();
  t.after(() => pool.stop({ graceMs: 0 }));
  while (!seen.includes('elected')) await sleep(10);

  hanging = true;
  await sleep(1200); // past the 500 ms TTL: leadership is given up while the election hangs
  assert.deepEqual(seen, ['elected', 'resigned (lost)']);
  hanging = false;
  for (const resolve of hung.splice(0)) resolve();
  await sleep(500);
  assert.deepEqual(seen, ['elected', 'resigned (lost)', 'elected'], 'one election after the heal, no flap');
});
