/**
 * Two ways to run the `jobwire` CLI in tests:
 *
 * - `runCliInProcess` calls the entry function the executable calls (`runCli`) with captured
 *   stdout/stderr: the same code without starting node and tsx per call (about a second each on
 *   a busy machine), for every test where the process boundary is not the point;
 * - `runCliProcess` spawns `node --import tsx src/cli/main.ts` the way a user runs it, for the
 *   tests where it is: stdin, the working directory, signals, the real exit code.
 *
 * Both give the same `CliRun`, so an assertion reads the same either way.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/app.js';

/** The repository root (child processes run from here unless told otherwise). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
/** The executable's source; children run it under tsx. */
export const MAIN = join(ROOT, 'src/cli/main.ts');
/** tsx's loader, for `node --import` in child processes. */
export const TSX = import.meta.resolve('tsx');

/** How a CLI run ended and what it printed. `signal` is set only for a child killed by one. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The environment of every run: no colour, no DATABASE_URL from the developer's shell. In-process
 * runs read `process.env`, so `useCliTestEnvironment()` applies the same rules to this process.
 */
export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.DATABASE_URL;
  delete env.FORCE_COLOR;
  return env;
}

/**
 * Make this test process look like `cliEnv()` to in-process runs. Every test file runs in its
 * own process, so this touches no other file's tests.
 */
export function useCliTestEnvironment(): void {
  process.env.NO_COLOR = '1';
  delete process.env.DATABASE_URL;
  delete process.env.FORCE_COLOR;
}

/** A non-terminal stream that keeps what is written to it. */
class CapturedStream extends Writable {
  text = '';
  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

/**
 * Run the CLI in this process with captured output; resolves with its exit code and output.
 * Rejects after `timeoutMs` (the run itself cannot be killed, but the test fails with the output
 * so far). Relative paths resolve from this process's directory, and stdin is not available:
 * use `runCliProcess` for those.
 */
export async function runCliInProcess(
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<CliRun> {
  const out = new CapturedStream();
  const err = new CapturedStream();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `jobwire ${args.join(' ')} did not finish within ${timeoutMs} ms\n${out.text}\n${err.text}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const code = await Promise.race([runCli(args, { out, err }), timedOut]);
    return { code, signal: null, stdout: out.text, stderr: err.text };
  } finally {
    clearTimeout(timer);
  }
}

/** Start the real executable as a child process (stdout and stderr piped, colour off). */
export function spawnCli(
  args: readonly string[],
  options: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {},
): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(),
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
}

/** A child `watchCli` started: what it printed so far, and its exit. */
export interface WatchedCli {
  child: ReturnType<typeof spawn>;
  stdout(): string;
  stderr(): string;
  /** The exit code once it exited (null: by a signal), undefined while it runs. */
  exitCode(): number | null | undefined;
  /** Resolves with the exit code once its pipes are drained. */
  exited: Promise<number | null>;
}

/** `spawnCli`, collecting stdout and stderr as they come and noting the exit. */
export function watchCli(
  args: readonly string[],
  options: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {},
): WatchedCli {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  let exitCode: number | null | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exitCode: () => exitCode, exited };
}

/** Run the real executable to completion, `input` on its stdin; SIGKILLed after `timeoutMs`. */
export function runCliProcess(
  args: readonly string[],
  options: { input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, { cwd: options.cwd });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`jobwire ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can fire before the pipes are drained; 'close' comes after.
      child.on('close', () => resolve({ code, signal, stdout, stderr }));
    });
    child.stdin!.end(options.input ?? '');
  });
}

/** The non-empty lines of `text`. */
export const lines = (text: string): string[] => text.split('\n').filter((line) => line.length > 0);
