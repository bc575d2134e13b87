#!/usr/bin/env node
// A/B of the insert path for jobs WITHOUT keys: `node bench/insert-ab.mjs --base <other dist/> [--db postgres://…]
// [--batch 1000] [--rounds 40]`. Loads the drivers of two builds in one process (this checkout's
// dist/ and `--base`, e.g. a build of the previous commit) and times `jobInsertMany` of `--batch`
// unkeyed jobs (event log on) on each, alternating round by round, on SQLite and (with --db) on
// PostgreSQL; prints the median of each. One process and tight alternation keep a shared
// machine's drift out of the comparison, which whole `npm run bench` runs cannot.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    db: { type: 'string' },
    batch: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '40' },
  },
});
if (!args.base) throw new Error('--base <dist directory of the build to compare with> is required');
const builds = { base: resolve(args.base), current: resolve(import.meta.dirname, '../dist') };
const SIZE = Number(args.batch);
const ROUNDS = Number(args.rounds);
const job = (i) => ({
  task: 'noop',
  queue: 'default',
  payloadJson: `{"i":${i}}`,
  priority: 0,
  maxAttempts: 3,
  delayMs: 0,
  runAt: null,
  uniqueKey: null,
  correlationId: 'c',
  metadataJson: '{}',
  timeoutMs: null,
  backoff: null,
});
const batch = Array.from({ length: SIZE }, (_, i) => job(i));
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

for (const kind of args.db ? ['sqlite', 'postgres'] : ['sqlite']) {
  const drivers = {};
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-insert-ab-'));
  const schema = (name) => `jobwire_insert_ab_${name}_${process.pid}`;
  for (const [name, dist] of Object.entries(builds)) {
    if (kind === 'postgres') {
      const { postgresDriver } = await import(join(dist, 'drivers/postgres/index.js'));
      drivers[name] = postgresDriver({ connectionString: args.db, schema: schema(name) });
    } else {
      const { sqliteDriver } = await import(join(dist, 'drivers/sqlite/index.js'));
      drivers[name] = sqliteDriver({ path: join(dir, `${name}.db`) });
    }
    await drivers[name].migrate();
  }
  const times = { base: [], current: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? ['base', 'current'] : ['current', 'base']) {
      const t0 = performance.now();
      await drivers[name].jobInsertMany({ jobs: batch, log: true });
      times[name].push(performance.now() - t0);
    }
  }
  console.log(
    `${kind}: median ms per ${SIZE}-job insert, ${ROUNDS} alternating rounds: ` +
      `base ${median(times.base).toFixed(2)}, current ${median(times.current).toFixed(2)}`,
  );
  for (const driver of Object.values(drivers)) await driver.close();
  if (kind === 'postgres') {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: args.db });
    await client.connect();
    for (const name of Object.keys(builds)) await client.query(`DROP SCHEMA ${schema(name)} CASCADE`);
    await client.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
