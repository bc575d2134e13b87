/**
 * Spawning worker processes (test/fixtures/worker-process.ts) and reading their execution logs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker-process.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves when the process printed `ready`. */
  ready: Promise<void>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Start a worker process on `location` with extra environment. */
export function startWorker(
  location: string,
  execLog: string,
  env: Record<string, string> = {},
): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, JOBWIRE_TEST_DB: location, EXEC_LOG: execLog, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes('ready')) resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited, output: () => out };
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
