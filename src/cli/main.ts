#!/usr/bin/env node
/**
 * The `jobwire` executable. See `app.ts` for the commands and exit codes.
 */
import { runCli } from './app.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Node writes to a pipe asynchronously: what a command printed may still be queued here for a
// slow reader (`jobwire events read --json | …`), and process.exit would drop it. Wait until it
// is delivered (a reader that never reads: 30 s at most) — then, if a stray handle (a user's
// task module, say) keeps the event loop alive, end anyway.
await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, 30_000);
  timer.unref();
  process.stdout.write('', () => {
    clearTimeout(timer);
    resolve();
  });
});
setTimeout(() => process.exit(code), 1000).unref();
