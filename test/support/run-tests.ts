/**
 * The test runner behind `npm test` and `npm run test:fast`: `node --test` over test/*.test.ts,
 * a few files at a time.
 *
 * - Full run (`npm test`, after the type-check and lint): every file, the slow ones first — the
 *   files that need PostgreSQL or start worker processes take up to ten times longer than the
 *   rest, and one of them starting last would leave the other slots idle at the end.
 * - `--fast` (`npm run test:fast`, the edit loop): only the other files. A file is slow when its
 *   name says `process`, `postgres`, `package-` (packing and installing the tarball) or `browser`
 *   (a real Chromium), or it
 *   imports the PostgreSQL support or the multi-process helpers and suites — so a new SQLite or
 *   unit test file joins the loop without anyone editing a list.
 *
 * Other arguments go to `node --test` (e.g. `npm run test:fast -- --test-name-pattern=retry`).
 * TEST_CONCURRENCY overrides how many files run at once; TEST_FILE_TIMEOUT_MS how long a file may
 * take (see FILE_TIMEOUT_MS).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Names of files that need PostgreSQL, start worker processes, pack and install the package, or run Chromium. */
const SLOW_NAMES = /process|postgres|package-|browser/;
/** Imports that mark a file as slow: a PostgreSQL server or real worker processes. */
const SLOW_IMPORTS =
  /from '\.\/(support\/postgres|support\/processes|suites\/multi-process|suites\/crashing-neighbour)\.js'/;

/**
 * Files run side by side. Tests wait on I/O, timers and child processes as much as they
 * compute: on 2 cores 3 beat 2 and 4.
 */
const CONCURRENCY = process.env.TEST_CONCURRENCY ?? '3';

/**
 * How long one test file may run, milliseconds. Node 20's `--test-timeout` bounds each file's
 * whole run as well as every test in it, a file whose process stays alive after its last test
 * (a handle left open) included: a file that hangs fails by name, and the rest of the run goes
 * on, instead of the run waiting until CI's own limit ends it with no word of which file it was.
 * The slowest files take about 2 minutes here; 10 leave room for a machine several times slower.
 */
const FILE_TIMEOUT_MS = process.env.TEST_FILE_TIMEOUT_MS ?? '600000';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const nodeTestArgs = args.filter((arg) => arg !== '--fast');

const testDir = join(ROOT, 'test');
const all = readdirSync(testDir)
  .filter((name) => name.endsWith('.test.ts'))
  .sort()
  .map((name) => ({
    path: join('test', name),
    slow: SLOW_NAMES.test(name) || SLOW_IMPORTS.test(readFileSync(join(testDir, name), 'utf8')),
  }));
const files = fast
  ? all.filter((file) => !file.slow)
  : [...all.filter((file) => file.slow), ...all.filter((file) => !file.slow)];

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${CONCURRENCY}`,
    ...(nodeTestArgs.some((arg) => arg.startsWith('--test-timeout'))
      ? []
      : [`--test-timeout=${FILE_TIMEOUT_MS}`]),
    ...nodeTestArgs,
    ...files.map((file) => file.path),
  ],
  { cwd: ROOT, stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
