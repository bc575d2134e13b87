/**
 * A long-running CLI command (`jobwire events tail`) in this process, with its output readable
 * while it runs: start it, wait for what it prints, then stop it the way a user does — a
 * SIGTERM (delivered to the command's listeners with `process.emit`, so the test process itself
 * lives on). For the process boundary itself, use `spawnCli` from `cli.ts`.
 */
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/app.js';

/** A stream that keeps what is written to it, readable at any time. */
class LiveStream extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void) {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

/** A CLI run in progress. */
export interface LiveCliRun {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code, once the command returns. */
  readonly exited: Promise<number>;
  /** Resolve once `check(stdout, stderr)` holds (polling); reject after `timeoutMs` with the output. */
  until(what: string, check: (stdout: string, stderr: string) => boolean, timeoutMs?: number): Promise<void>;
  /** Deliver SIGTERM to the command's listeners and wait for its exit code. */
  stop(): Promise<number>;
}

/** Start `jobwire <args>` in this process (see the module comment). */
export function startCliInProcess(args: readonly string[]): LiveCliRun {
  const out = new LiveStream();
  const err = new LiveStream();
  // The command's own SIGTERM listener comes on top of these; stop() waits for it.
  const listenersBefore = process.listenerCount('SIGTERM');
  let code: number | undefined;
  const exited = runCli(args, { out, err }).then((c) => {
    code = c;
    return c;
  });
  return {
    stdout: () => out.text,
    stderr: () => err.text,
    exited,
    async until(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(out.text, err.text)) {
        if (code !== undefined) {
          throw new Error(
            `jobwire ${args.join(' ')} exited (${code}) before ${what}\n${out.text}\n${err.text}`,
          );
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}\n--- stdout\n${out.text}\n--- stderr\n${err.text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      // A SIGTERM emitted before the command listens is lost, and the command never exits (a CI
      // run timed out so, under load): wait until it listens, and bound the wait for its exit.
      const deadline = Date.now() + 20_000;
      while (code === undefined && process.listenerCount('SIGTERM') <= listenersBefore) {
        if (Date.now() > deadline)
          throw new Error(`jobwire ${args.join(' ')} never listened for SIGTERM\n${err.text}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (code === undefined) process.emit('SIGTERM', 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `jobwire ${args.join(' ')} did not exit within 60 s of SIGTERM\n--- stderr\n${err.text}`,
              ),
            ),
          60_000,
        );
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
