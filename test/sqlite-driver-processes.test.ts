/**
 * The SQLite driver with several OS processes on one file: concurrent migrators, concurrent
 * claimers. Apart from `driver-sqlite.test.ts` so `npm run test:fast` can leave the processes out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jobParams } from '../src/driver/conformance/harness.js';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { MIGRATIONS } from '../src/drivers/sqlite/migrations/index.js';
import { compiledFixture } from './support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-sqlite-processes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A path in this file's temp directory that no other test uses. */
const freshPath = (label: string) => join(dir, `${label}-${++files}.db`);

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** The driver, compiled once for plain `node` children (no tsx to load in each). */
const driverModule = pathToFileURL(
  compiledFixture(fileURLToPath(new URL('../src/drivers/sqlite/index.ts', import.meta.url))),
).href;

/**
 * A child process that opens the file, migrates, says "ready", waits for "go" on stdin, then
 * claims and completes jobs until none are left and prints the ids it claimed.
 */
const WORKER_SCRIPT = `
const { sqliteDriver } = await import(process.env.JW_MODULE);
const driver = sqliteDriver({ path: process.env.JW_DB });
const migration = await driver.migrate();
process.stdout.write(JSON.stringify({ ready: true, applied: migration.applied }) + '\\n');
if (process.env.JW_CLAIM === '1') {
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const ids = [];
  for (;;) {
    const jobs = await driver.jobClaim({ queues: ['default'], limit: 5, leaseMs: 60000, poolId: process.env.JW_WORKER });
    if (jobs.length === 0) break;
    ids.push(...jobs.map((j) => j.id));
    await driver.jobFinalizeMany({
      items: jobs.map((j) => ({ id: j.id, leaseToken: j.leaseToken, outcome: 'completed', resultJson: null })),
    });
  }
  process.stdout.write(JSON.stringify({ ids }) + '\\n');
}
await driver.close();
process.stdin.destroy();
`;

interface Child {
  ready: Promise<{ applied: number[] }>;
  done: Promise<{ ids?: string[] }>;
  go(): void;
}

function startWorker(path: string, workerId: string, claim: boolean): Child {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER_SCRIPT], {
    cwd: repoRoot,
    env: {
      ...process.env,
      JW_DB: path,
      JW_MODULE: driverModule,
      JW_WORKER: workerId,
      JW_CLAIM: claim ? '1' : '0',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: ((line: string) => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    let newline = stdout.indexOf('\n');
    while (newline >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      lines.shift()?.(line);
      newline = stdout.indexOf('\n');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${workerId}: ${stderr}`)))),
  );
  const nextLine = () =>
    Promise.race([
      new Promise<string>((resolve) => lines.push(resolve)),
      exited.then(() => Promise.reject(new Error(`worker ${workerId} exited early: ${stderr}`))),
    ]);
  const ready = nextLine().then((line) => JSON.parse(line));
  const done = claim ? ready.then(nextLine).then((line) => JSON.parse(line)) : ready;
  return {
    ready,
    done: done.then(async (result) => {
      await exited;
      return result;
    }),
    go: () => child.stdin.write('go\n'),
  };
}

describe('sqlite driver: several processes on one file', () => {
  it('processes migrating at once apply each migration exactly once', async () => {
    const path = freshPath('migrate-race');
    const children = Array.from({ length: 4 }, (_, i) => startWorker(path, `m${i}`, false));
    const results = await Promise.all(children.map((child) => child.done));
    const applied = (results as { applied: number[] }[]).map((r) => r.applied);
    assert.equal(applied.filter((a) => a.length > 0).length, 1, JSON.stringify(applied));
    assert.deepEqual(
      applied.flat(),
      MIGRATIONS.map((m) => m.version),
    );
  });

  it('processes claiming at once never share a job', async () => {
    const path = freshPath('claim-race');
    const driver = sqliteDriver({ path });
    await driver.migrate();
    const total = 2000;
    const inserted = await driver.jobInsertMany({ jobs: Array.from({ length: total }, () => jobParams()) });
    assert.ok('inserted' in inserted);

    const children = Array.from({ length: 4 }, (_, i) => startWorker(path, `w${i}`, true));
    await Promise.all(children.map((child) => child.ready));
    for (const child of children) child.go();
    const results = await Promise.all(children.map((child) => child.done));

    const perChild = results.map((r) => r.ids ?? []);
    const all = perChild.flat();
    assert.equal(new Set(all).size, all.length, 'a job was claimed by two processes');
    assert.equal(all.length, total);
    assert.ok(
      perChild.filter((ids) => ids.length > 0).length >= 2,
      `the claims did not overlap in time: ${perChild.map((ids) => ids.length).join(', ')} jobs per process`,
    );
    assert.equal((await driver.jobCountByState({})).completed, total);
    await driver.close();
  });
});
