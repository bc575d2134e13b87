/**
 * `jobwire events tail` and `events read` into a pipe whose reader is slow (found by the
 * sqlite-fleet probe, s43). Node writes to a pipe asynchronously: the tail queued every line it
 * read in the process and moved its cursor on, so on SIGTERM it printed a resume hint thousands
 * of events past what its reader had received, and the queued lines died with the process (as
 * did the end of a long `events read --json`). The hint must name the last event the reader
 * got, so that resuming from it skips nothing, and what a command printed must arrive whole.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { sqliteDriver } from '../src/drivers/sqlite/index.js';
import { createJobwire, defineTask } from '../src/index.js';
import { spawnCli } from './support/cli.js';

/** A file holding `count` job:queued events with a payload-sized metadata each (~330 bytes of JSON per line). */
async function eventsFile(t: TestContext, count: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-events-pipe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'events.db');
  const task = defineTask({ name: 'note', handler: async () => {} });
  const jobwire = await createJobwire({ driver: sqliteDriver({ path }), tasks: [task] });
  const metadata = { note: 'x'.repeat(200) };
  for (let done = 0; done < count; done += 1000) {
    await jobwire.enqueueMany(
      Array.from({ length: Math.min(1000, count - done) }, (_, i) => ({
        task,
        payload: { i },
        options: { metadata, runAt: Date.now() + 3_600_000 },
      })),
    );
  }
  await jobwire.close();
  return path;
}

/** Read the child's stdout slowly (one chunk, then 40 ms); its output so far, and its exit code. */
function slowReader(child: ChildProcess): { stdout: () => string; closed: Promise<number | null> } {
  let text = '';
  const out = child.stdout!;
  out.setEncoding('utf8');
  out.on('data', (chunk: string) => {
    text += chunk;
    out.pause();
    setTimeout(() => out.resume(), 40);
  });
  return {
    stdout: () => text,
    closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
}

test('a tail stopped while its reader lags names the last event the reader got as the resume point', async (t) => {
  const path = await eventsFile(t, 12_000);
  const child = spawnCli(['events', 'tail', '--from', 'start', '--json', '--db', path], { stdin: 'ignore' });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const reader = slowReader(child);
  const deadline = Date.now() + 20_000;
  while (!/tailing events/.test(stderr) || reader.stdout().length < 100_000) {
    assert.ok(Date.now() < deadline, `the tail did not start printing: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGTERM');
  assert.equal(await reader.closed, 0, stderr);
  const received = reader
    .stdout()
    .split('\n')
    .filter((line) => line.length > 0);
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
  const path = await eventsFile(t, 5000);
  const child = spawnCli(['events', 'read', '--from', 'start', '--json', '--limit', '5000', '--db', path], {
    stdin: 'ignore',
  });
  const reader = slowReader(child);
  assert.equal(await reader.closed, 0);
  // Before: the process exited a second after the command returned, with lines still queued.
  const page = JSON.parse(reader.stdout()) as { events: unknown[] };
  assert.equal(page.events.length, 5000);
});
