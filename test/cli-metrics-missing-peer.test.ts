/**
 * `jobwire metrics` in an app that never installed prom-client (an optional peer dependency):
 * the CLI says what to install, instead of node's "Cannot find package 'prom-client'". A child
 * process whose module resolution has no prom-client plays that app.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runCliInProcess as jobwire, ROOT, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-metrics-peer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('jobwire metrics without prom-client installed says to install it, exit code 1', async () => {
  const db = join(dir, 'jobs.db');
  assert.equal((await jobwire(['migrate', '--db', db])).code, 0);
  const hook = join(dir, 'no-prom-client.mjs');
  const resolver =
    'export async function resolve(specifier, context, next) {' +
    ' if (specifier === "prom-client") { const e = new Error("Cannot find package \'prom-client\'");' +
    ' e.code = "ERR_MODULE_NOT_FOUND"; throw e; }' +
    ' return next(specifier, context); }';
  await writeFile(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolver)}`)});\n`,
  );
  const run = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      pathToFileURL(hook).href,
      join(ROOT, 'src/cli/main.ts'),
      'metrics',
      '--db',
      db,
      '--port',
      '0',
    ],
    { cwd: ROOT, timeout: 60_000 },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
  );
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /Prometheus metrics need the prom-client package/);
  assert.match(run.stderr, /npm install prom-client/);
});
