/**
 * A tasks module that fails to load says where: a syntax error by file, line and caret (the
 * import's own error has only "Unexpected token ';'", and --debug only node's loader frames), an
 * error thrown while the module loads by the module's own line.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCliInProcess as jobwire, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jobwire-tasks-module-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a syntax error in the tasks module is shown with its file, line and a caret', async () => {
  const file = join(dir, 'broken.mjs');
  await writeFile(file, "import { defineTask } from 'jobwire';\n\nexport const x = ;\n");
  const run = await jobwire(['worker', '--tasks', file, '--db', join(dir, 'a.db')]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /loading tasks module .*broken\.mjs failed: Unexpected token ';'/);
  assert.match(run.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3\\n`));
  assert.match(run.stderr, /export const x = ;\n\s+\^/);
});

test('an error thrown while the tasks module loads names the module line that threw', async () => {
  const file = join(dir, 'throws.mjs');
  await writeFile(file, "const ready = false;\nif (!ready) throw new Error('config missing');\n");
  const run = await jobwire(['worker', '--tasks', file, '--db', join(dir, 'b.db')]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /failed: config missing\nat file:\/\/.*throws\.mjs:2:\d+/);
});
