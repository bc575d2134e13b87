/**
 * `jobwire events tail` into a pipe whose reader is slow (found by the sqlite-fleet probe, s43).
 * Node writes to a pipe asynchronously: the tail queued every line it read in the process and
 * moved its cursor on, so on SIGTERM it printed a resume hint thousands of events past what its
 * reader had received, and the queued lines died with the process. The hint must name the last
 * event the reader got, so that resuming from it skips nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { spawnCli } from './support/cli.js';

test('a tail stopped while its reader lags names the last event the reader got as the resume point', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-tail-pipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.db');
  const task = defineTask({ name: 'note', handler: async () => {} });
  const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [task] });
  // 12,000 job:queued events with a payload-sized metadata each: ~4 MB of JSON lines.
  const metadata = { note: 'x'.repeat(200) };
  for (let batch = 0; batch < 12; batch++) {
    await jobwire.enqueueMany(
      Array.from({ length: 1000 }, (_, i) => ({
        task,
        payload: { i },
        options: { metadata, runAt: Date.now() + 3_600_000 },
      })),
    );
  }
  await jobwire.close();

  const child = spawnCli(['events', 'tail', '--from', 'start', '--json', '--db', path], { stdin: 'ignore' });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A slow reader: one chunk, then a pause.
  const out = child.stdout!;
  out.setEncoding('utf8');
  out.on('data', (chunk: string) => {
    stdout += chunk;
    out.pause();
    setTimeout(() => out.resume(), 40);
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!/tailing events/.test(stderr) || stdout.length < 100_000) {
    assert.ok(Date.now() < deadline, `the tail did not start printing: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGTERM');
  const code = await closed;
  assert.equal(code, 0, stderr);
  const received = stdout.split('\n').filter((line) => line.length > 0);
  const last = JSON.parse(received.at(-1)!) as { cursor: string };
  const hint = /resume with: jobwire events tail --from (\S+)/.exec(stderr)?.[1];
  assert.ok(
    received.length < 12_000,
    `the reader lagged (${received.length} of 12,000 lines): the case under test`,
  );
  // Before: the hint was the cursor of the last event read from the log, thousands further on.
  assert.equal(hint, last.cursor, `resume point vs the last of ${received.length} lines received`);
});

test('everything a command printed reaches a slow reader before the process exits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-read-pipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.db');
  const task = defineTask({ name: 'note', handler: async () => {} });
  const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [task] });
  const metadata = { note: 'x'.repeat(200) };
  for (let batch = 0; batch < 5; batch++) {
    await jobwire.enqueueMany(
      Array.from({ length: 1000 }, (_, i) => ({
        task,
        payload: { i },
        options: { metadata, runAt: Date.now() + 3_600_000 },
      })),
    );
  }
  await jobwire.close();
  const child = spawnCli(['events', 'read', '--from', 'start', '--json', '--limit', '5000', '--db', path], {
    stdin: 'ignore',
  });
  let stdout = '';
  const out = child.stdout!;
  out.setEncoding('utf8');
  out.on('data', (chunk: string) => {
    stdout += chunk;
    out.pause();
    setTimeout(() => out.resume(), 40);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0);
  // Before: the process exited a second after the command returned, with lines still queued.
  const page = JSON.parse(stdout) as { events: unknown[] };
  assert.equal(page.events.length, 5000);
});
