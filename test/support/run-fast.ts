/**
 * `npm run test:fast`, the edit loop: every test file that needs neither PostgreSQL nor several
 * worker processes, without the type-check. A file is left out when its name says `process` or
 * `postgres`, or it imports the PostgreSQL support or the multi-process helpers and suites — so a
 * new SQLite or unit test file joins the loop without anyone editing a list. `npm test` still
 * runs everything.
 *
 * Extra arguments go to `node --test` (e.g. `npm run test:fast -- --test-name-pattern=retry`).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Names of files that need PostgreSQL or start worker processes. */
const SLOW_NAMES = /process|postgres/;
/** Imports that mark a file as slow: a PostgreSQL server or real worker processes. */
const SLOW_IMPORTS =
  /from '\.\/(support\/postgres|support\/processes|suites\/multi-process|suites\/crashing-neighbour)\.js'/;

/**
 * Files run side by side. Tests wait on I/O and timers as much as they compute: on 2 cores 3 beat
 * 2 and 4 (see the report of the test-speed work); override with TEST_CONCURRENCY.
 */
const CONCURRENCY = process.env.TEST_CONCURRENCY ?? '3';

const testDir = join(ROOT, 'test');
const files = readdirSync(testDir)
  .filter((name) => name.endsWith('.test.ts'))
  .filter((name) => !SLOW_NAMES.test(name))
  .filter((name) => !SLOW_IMPORTS.test(readFileSync(join(testDir, name), 'utf8')))
  .sort()
  .map((name) => join('test', name));

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`, ...process.argv.slice(2), ...files],
  { cwd: ROOT, stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
