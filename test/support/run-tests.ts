/**
 * The test runner behind `npm test` and `npm run test:fast`: `node --test` over test/*.test.ts,
 * a few files at a time.
 *
 * - Full run (`npm test`, after the type-check and lint): every file, the slow ones first — the
 *   files that need PostgreSQL or start worker processes take up to ten times longer than the
 *   rest, and one of them starting last would leave the other slots idle at the end.
 * - `--fast` (`npm run test:fast`, the edit loop): only the other files. A file is slow when its
 *   name says `process` or `postgres`, or it imports the PostgreSQL support or the multi-process
 *   helpers and suites — so a new SQLite or unit test file joins the loop without anyone editing
 *   a list.
 *
 * - `--typecheck` (`npm test`): `tsc --noEmit` runs beside the tests instead of before them (the
 *   tests spend much of their time waiting on processes and timers, so the type-check fills the
 *   idle CPU); its output is printed after the tests, and the run fails if either fails.
 *
 * Other arguments go to `node --test` (e.g. `npm run test:fast -- --test-name-pattern=retry`).
 * TEST_CONCURRENCY overrides how many files run at once.
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
 * Files run side by side. Tests wait on I/O, timers and child processes as much as they
 * compute: on 2 cores 3 beat 2 and 4.
 */
const CONCURRENCY = process.env.TEST_CONCURRENCY ?? '3';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const typecheck = args.includes('--typecheck');
const nodeTestArgs = args.filter((arg) => arg !== '--fast' && arg !== '--typecheck');

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

/** Run a command to its end; resolves with its exit code (1 when killed by a signal). */
function run(command: string, commandArgs: string[], stdio: 'inherit' | 'pipe') {
  const child = spawn(command, commandArgs, { cwd: ROOT, stdio });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return new Promise<{ code: number; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output })),
  );
}

const typecheckRun = typecheck
  ? run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit'], 'pipe')
  : undefined;
const tests = await run(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${CONCURRENCY}`,
    ...nodeTestArgs,
    ...files.map((file) => file.path),
  ],
  'inherit',
);
let code = tests.code;
if (typecheckRun) {
  const result = await typecheckRun;
  process.stdout.write(result.output);
  console.log(result.code === 0 ? 'tsc --noEmit: no errors' : `tsc --noEmit failed (exit ${result.code})`);
  code ||= result.code;
}
process.exitCode = code;
