/**
 * A `JOBWIRE_*` environment variable no command reads gets a warning naming the one it likely
 * meant (`JOBWIRE_CONCURENCY=20` used to leave concurrency at 10 without a word), and the list of
 * variables the CLI reads stays the one its sources use and docs/configuration.md documents.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_ENV_VARS, unknownEnvWarnings } from '../src/cli/env-vars.js';
import { runCliInProcess as jobwire, ROOT, useCliTestEnvironment } from './support/cli.js';

useCliTestEnvironment();

test('a misspelt JOBWIRE_ variable is warned about, with the name it meant; known ones are not', async () => {
  process.env.JOBWIRE_CONCURENCY = '20';
  process.env.JOBWIRE_LOG_LEVEL = 'info';
  try {
    const run = await jobwire(['--version']);
    assert.equal(run.code, 0);
    assert.match(
      run.stderr,
      /^warning: JOBWIRE_CONCURENCY is not a jobwire setting and is ignored — did you mean JOBWIRE_CONCURRENCY\?/m,
    );
    assert.doesNotMatch(run.stderr, /JOBWIRE_LOG_LEVEL/);
  } finally {
    delete process.env.JOBWIRE_CONCURENCY;
    delete process.env.JOBWIRE_LOG_LEVEL;
  }
  assert.deepEqual(
    unknownEnvWarnings({ JOBWIRE_TEST_DATABASE_URL: 'x', JOBWIRE_SCHEMA: 'y', PATH: '/' }),
    [],
  );
});

/** Every `.ts` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

test('CLI_ENV_VARS is every variable the CLI reads, and each is documented', () => {
  const read = new Set<string>();
  for (const file of sources(join(ROOT, 'src/cli'))) {
    const text = readFileSync(file, 'utf8');
    // setting('flag', value, 'JOBWIRE_X'), envFlag('JOBWIRE_X'), env.JOBWIRE_X
    for (const m of text.matchAll(
      /(?:setting\([^)]*|envFlag\()'(JOBWIRE_[A-Z_]+)'|env\.(JOBWIRE_[A-Z_]+)/g,
    )) {
      read.add((m[1] ?? m[2])!);
    }
  }
  assert.ok(read.size >= 8, `found only ${[...read].join(', ')}: the pattern no longer matches the sources`);
  assert.deepEqual(
    [...read].filter((name) => !CLI_ENV_VARS.includes(name)),
    [],
  );
  const docs = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  assert.deepEqual(
    CLI_ENV_VARS.filter((name) => !docs.includes(name)),
    [],
  );
});
