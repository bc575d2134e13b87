/**
 * Spawning worker processes (test/fixtures/worker-process.ts) and reading their execution logs.
 *
 * The fixtures run as plain `node <bundle>.mjs`: each is compiled once per test process by the
 * esbuild that tsx itself uses (same TypeScript, same source files), so a worker starts in about
 * 0.3 s of CPU instead of the 0.8–1 s that loading tsx and compiling `src` costs in every child.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));
const CONFORMANCE_CHILD = fileURLToPath(new URL('../fixtures/conformance-child.ts', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** The slice of esbuild's API used here (esbuild comes with tsx; it is not a dependency of ours). */
interface Esbuild {
  buildSync(options: {
    entryPoints: string[];
    outfile: string;
    bundle: true;
    platform: 'node';
    format: 'esm' | 'cjs';
    target: string;
    logLevel: 'error';
    packages?: 'external';
  }): unknown;
}

const esbuild = createRequire(import.meta.resolve('tsx'))('esbuild') as Esbuild;
let bundleDir: string | undefined;
const bundles = new Map<string, string>();

/**
 * Bundle `entry` (TypeScript and its local imports) into `outfile` for Node 20; packages stay
 * imports, found in a `node_modules` next to the bundle.
 */
export function bundleModule(entry: string, outfile: string, format: 'esm' | 'cjs' = 'esm'): void {
  esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    logLevel: 'error',
    packages: 'external',
  });
}

/**
 * A module that plain `node` can run for the TypeScript file `source`: `source` and everything it
 * imports from the repository in one ES module, packages (pg, better-sqlite3) left as imports.
 * Built on first use and kept for this test process, in a temporary directory whose
 * `node_modules` is a link to the repository's.
 */
export function compiledFixture(source: string): string {
  let bundle = bundles.get(source);
  if (bundle) return bundle;
  if (!bundleDir) {
    const dir = mkdtempSync(join(tmpdir(), 'jobwire-fixtures-'));
    // Packages stay `import … from 'pg'`: node looks for them in the bundle's node_modules.
    const link = join(dir, 'node_modules');
    symlinkSync(NODE_MODULES, link, 'dir');
    bundleDir = dir;
    // The SQLite driver starts its checkpoint thread from `checkpoint-worker.js` next to the code
    // (the bundle here); CommonJS, as a `.js` file is without a package.json saying otherwise.
    bundleModule(
      fileURLToPath(new URL('../../src/drivers/sqlite/checkpoint-worker.ts', import.meta.url)),
      join(dir, 'checkpoint-worker.js'),
      'cjs',
    );
    process.once('exit', () => {
      unlinkSync(link); // the link first: nothing may ever delete through it
      rmSync(dir, { recursive: true, force: true });
    });
  }
  bundle = join(bundleDir, `${bundles.size}-${basename(source).replace(/\.ts$/, '')}.mjs`);
  bundleModule(source, bundle);
  bundles.set(source, bundle);
  return bundle;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the process printed `ready`. */
  ready: Promise<void>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  /** The `event <name> <jobId> <attempt>` lines it printed (see PRINT_EVENTS in the fixture). */
  events: (name: string) => { jobId: string; attempt: number }[];
}

/** Start a worker process on `location` with extra environment (`fixture`: another worker script). */
export function startWorker(
  location: string,
  execLog: string,
  env: Record<string, string> = {},
  fixture: string = FIXTURE,
): WorkerProcess {
  const child = spawn(process.execPath, [compiledFixture(fixture)], {
    env: { ...process.env, JOBWIRE_TEST_DB: location, EXEC_LOG: execLog, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (d) => {
    out += d;
    stdout += d;
  });
  child.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/^ready$/m.test(stdout)) resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A test that never awaits `ready` must not see an unhandled rejection when the worker dies.
  ready.catch(() => {});
  const events = (name: string) =>
    stdout
      .slice(0, stdout.lastIndexOf('\n') + 1) // whole lines only: a chunk may end mid-line
      .split('\n')
      .filter((line) => line.startsWith(`event ${name} `))
      .map((line) => {
        const [, , jobId, attempt] = line.split(' ');
        return { jobId: jobId!, attempt: Number(attempt) };
      });
  return { child, ready, exited, output: () => out, events };
}

/**
 * Start test/fixtures/conformance-child.ts on the database at `location`, with `env` added: what
 * the test databases give the conformance suites as `startProcess`.
 */
export function startConformanceChild(location: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [compiledFixture(CONFORMANCE_CHILD)], {
    env: { ...process.env, JOBWIRE_TEST_DB: location, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** SIGKILL every worker still alive (stopped ones too) and wait for them: for `t.after`. */
export async function killWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      w.child.kill('SIGKILL');
      await w.exited;
    }),
  );
}

/** One execution record: the job, the attempt and the process that ran it. */
export interface Execution {
  jobId: string;
  attempt: number;
  pid: number;
}

/** Parse the execution logs written by worker processes. */
export function readExecutions(...files: string[]): Execution[] {
  const executions: Execution[] = [];
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [jobId, attempt, pid] = line.split(' ');
      executions.push({ jobId: jobId!, attempt: Number(attempt), pid: Number(pid) });
    }
  }
  return executions;
}
