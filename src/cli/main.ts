#!/usr/bin/env node
/**
 * The `jobwire` executable. See `app.ts` for the commands and exit codes.
 */
import { runCli } from './app.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Output to pipes and files is written synchronously; if a stray handle (a user's task module,
// say) keeps the event loop alive, end anyway once the command is done.
setTimeout(() => process.exit(code), 1000).unref();
