/**
 * The event pruner on a driver whose statements run on the event loop's thread (SQLite): a large
 * prune is cut into small batches with a turn of the event loop between them, as the job
 * pruner's deletes are (100,000 rows in back-to-back 5,000-row batches held the loop for 0.4 s).
 * Checked by what the pruner asks the driver and whether timers ran between its calls — never
 * by time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createJobwire } from '../src/core/client.js';
import { EVENT_PRUNE_MAX_RUN_MS, EventPruner } from '../src/core/event-log/event-pruner.js';
import { FIRST_BATCH } from '../src/core/paced-batches.js';
import type { Runtime } from '../src/core/runtime.js';
import { defineTask } from '../src/core/task.js';
import type { Driver, EventPruneParams } from '../src/driver/driver.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';

const ROWS = 30_000;

test('a large event prune on SQLite runs in small batches with the event loop served between them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-event-prune-pacing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'log.db');
  const real = sqliteDriver({ path });
  await real.migrate();
  // A long log, written straight into the file (one row per committed write, as the driver stores them).
  const db = new Database(path);
  const insert = db.prepare('INSERT INTO jobwire_events (at, entries) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(Date.now(), '[{"type":"test:row","data":{}}]');
  })();
  db.close();

  const calls: { limit: number; turnSincePrevious: boolean }[] = [];
  let turned = true;
  let finished: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const driver = new Proxy(real, {
    get(target, prop) {
      if (prop === 'eventPrune') {
        return async (params: EventPruneParams) => {
          calls.push({ limit: params.limit, turnSincePrevious: turned });
          turned = false;
          const removed = await target.eventPrune(params);
          // Set by the next macrotask: true at the next call only if the loop got a turn.
          setImmediate(() => {
            turned = true;
          });
          if (removed < params.limit && calls.length > 1) finished();
          return removed;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Driver;
  const client = await createJobwire({
    driver,
    tasks: [defineTask({ name: 'idle', handler: async () => {} })],
    events: { retention: { maxRows: 1, intervalMs: 10 } },
  });
  t.after(() => client.close());
  // Leader services (the event pruner among them) run while a pool runs.
  const pool = client.createPool({ handleSignals: false });
  await pool.start();
  t.after(() => pool.stop());
  await done;

  assert.equal(calls[0]!.limit, FIRST_BATCH, 'the first batch is small: its cost is unknown');
  assert.ok(calls.length > 2, `${calls.length} batches`);
  assert.ok(
    calls.every((call) => call.limit <= 5000),
    `limits ${calls.map((c) => c.limit)}`,
  );
  assert.ok(
    calls.slice(1).every((call) => call.turnSincePrevious),
    'the event loop ran other work between every two prune statements',
  );
});

test('an event prune over a backlog stops at its time budget and comes back at the leader tick', async () => {
  // A driver whose every prune statement takes 60 ms and finds a full batch, 40 times.
  let calls = 0;
  const driver = {
    capabilities: { blocksEventLoop: false },
    async eventPrune(params: EventPruneParams) {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 60));
      return calls <= 40 ? params.limit : 0;
    },
  };
  const runtime = { driver, dbNow: () => Date.now(), clock: { now: () => Date.now() } } as unknown as Runtime;
  const pruner = new EventPruner(runtime, { maxAgeMs: 1000, maxRows: undefined, intervalMs: 60_000 }, 1000);
  await pruner.runOnce();
  // Before, one run went on until nothing was left: 41 statements, 2.5 s, the leader held up.
  const first = calls;
  assert.ok(
    first < 40,
    `the first run stopped early (${first} statements; budget ${EVENT_PRUNE_MAX_RUN_MS} ms)`,
  );
  assert.equal(pruner.intervalMs, 1000, 'a backlog is worked off at the leader tick');
  while (pruner.intervalMs === 1000) await pruner.runOnce();
  assert.equal(calls, 41, 'every row is removed in the end');
  assert.equal(pruner.intervalMs, 60_000, 'then back to the configured interval');
});
