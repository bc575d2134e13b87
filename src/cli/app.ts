/**
 * The dispatcher: top-level flags, command lookup, help, and the mapping from errors to exit
 * codes (0 ok, 1 failed, 2 usage error). Kept apart from `main.ts` so it can run in-process.
 */
import { readFileSync } from 'node:fs';
import { JobwireError } from '../index.js';
import { CliError, closest, UsageError } from './args.js';
import type { Command, CommandContext } from './command.js';
import { dashboardCommand } from './commands/dashboard.js';
import { devCommand } from './commands/dev.js';
import { enqueueCommand } from './commands/enqueue.js';
import { eventsCommand } from './commands/events.js';
import { flowCommand } from './commands/flow.js';
import { jobsCommand } from './commands/jobs.js';
import { metricsCommand } from './commands/metrics.js';
import { migrateCommand } from './commands/migrate.js';
import { queuesCommand } from './commands/queues.js';
import { schedulesCommand } from './commands/schedules.js';
import { statsCommand } from './commands/stats.js';
import { tasksCommand } from './commands/tasks.js';
import { workerCommand } from './commands/worker.js';
import { workersCommand } from './commands/workers.js';
import { loadEnvFile } from './config.js';
import { unknownEnvWarnings } from './env-vars.js';
import { colorEnabled, painter } from './format.js';
import { type Io, processIo } from './output.js';

/** Every command, in help order. */
export const COMMANDS: readonly Command[] = [
  devCommand,
  workerCommand,
  enqueueCommand,
  jobsCommand,
  queuesCommand,
  flowCommand,
  schedulesCommand,
  tasksCommand,
  statsCommand,
  workersCommand,
  eventsCommand,
  metricsCommand,
  dashboardCommand,
  migrateCommand,
];

/** The package version (package.json sits two levels above both src/cli and dist/cli). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const TOP_HELP = `jobwire — event-driven background jobs (SQLite by default, PostgreSQL to scale)

Usage
  jobwire <command> [options]
  jobwire <command> --help     options of one command

Commands
${COMMANDS.map((command) => `  ${command.name.padEnd(11)}${command.summary}`).join('\n')}

Database (every command)
  --db <path|url>   a SQLite file path or a postgres:// URL. dev, worker, enqueue and
                    migrate create a missing database; the other commands only read an
                    initialised one (run "jobwire migrate" first on a new database).
                    Default: $JOBWIRE_DATABASE_URL, else $DATABASE_URL when it is a
                    postgres:// URL, else ./jobwire.db (\`dev\` ignores the environment so the
                    demo never writes into your app's database).
  --schema <name>   the PostgreSQL schema of jobwire's tables (default $JOBWIRE_SCHEMA,
                    else jobwire), for a deployment using postgresDriver({ schema })

Global options
  --env-file <path> load environment variables from a .env file first (Node's own loader,
                    Node 20.12+); variables already set win. See docs/configuration.md
  -h, --help        show help
  -v, --version     print the version
  --debug           print stack traces of unexpected errors

Exit codes
  0 success · 1 the operation failed (message on stderr) · 2 the command line was wrong

Start with:  jobwire dev   (a live demo with example tasks; npx jobwire dev in an app,
             npm start in a clone of jobwire)`;

/** Run the CLI with `argv` (without node and the script). Resolves with the exit code. */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  const args = [...argv];
  const end = args.indexOf('--');
  const flagsEnd = end === -1 ? args.length : end;
  const debugAt = args.slice(0, flagsEnd).indexOf('--debug');
  const debug = debugAt !== -1;
  if (debug) args.splice(debugAt, 1);
  const context: CommandContext = { io, debug };
  const paint = painter(colorEnabled(io.err));

  try {
    for (const path of takeEnvFiles(args)) loadEnvFile(path);
  } catch (error) {
    return reportError(error, context, paint);
  }
  for (const line of unknownEnvWarnings(process.env)) io.err.write(`${paint('yellow', line)}\n`);
  const first = args[0];
  try {
    if (first === undefined) {
      io.err.write(`${TOP_HELP}\n`);
      throw new UsageError('no command given', 'run "jobwire --help" to see the commands');
    }
    if (first === '--help' || first === '-h') {
      io.out.write(`${TOP_HELP}\n`);
      return 0;
    }
    if (first === '--version' || first === '-v') {
      io.out.write(`${version()}\n`);
      return 0;
    }
    if (first === 'help') {
      const topic = args[1];
      if (topic === undefined) {
        io.out.write(`${TOP_HELP}\n`);
        return 0;
      }
      io.out.write(`${findCommand(topic).help}\n`);
      return 0;
    }
    if (first.startsWith('-')) {
      throw new UsageError(
        `unknown option ${first}`,
        'options come after the command: jobwire <command> [options]',
      );
    }
    const command = findCommand(first);
    return await command.run(args.slice(1), context);
  } catch (error) {
    return reportError(error, context, paint);
  }
}

/**
 * Remove every `--env-file <path>` / `--env-file=<path>` before `--` from `args` (they apply
 * before any command runs, wherever they are written) and return the paths in order.
 */
function takeEnvFiles(args: string[]): string[] {
  const paths: string[] = [];
  for (let i = 0; i < args.length; ) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg === '--env-file') {
      const path = args[i + 1];
      if (path === undefined || path.startsWith('-')) {
        throw new UsageError('option --env-file needs a value', 'e.g. jobwire --env-file .env worker …');
      }
      paths.push(path);
      args.splice(i, 2);
    } else if (arg.startsWith('--env-file=')) {
      paths.push(arg.slice('--env-file='.length));
      args.splice(i, 1);
    } else i++;
  }
  return paths;
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const guess = closest(
    name,
    COMMANDS.map((c) => c.name),
  );
  throw new UsageError(
    `unknown command "${name}"`,
    `${guess ? `did you mean "jobwire ${guess}"? ` : ''}run "jobwire --help" to see the commands.`,
  );
}

/** Print `error: <message>` (and a hint); a stack only with --debug. Returns the exit code. */
export function reportError(error: unknown, context: CommandContext, paint = painter(false)): number {
  const { err } = context.io;
  const label = paint(['bold', 'red'], 'error:');
  if (error instanceof UsageError) {
    err.write(`${label} ${error.message}\n`);
    if (error.hint) err.write(`${paint('gray', `hint: ${error.hint}`)}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  err.write(`${label} ${message}\n`);
  if (error instanceof CliError && error.hint) err.write(`${paint('gray', `hint: ${error.hint}`)}\n`);
  const expected = error instanceof CliError || error instanceof JobwireError;
  if (context.debug && error instanceof Error && error.stack) {
    err.write(`${paint('gray', error.stack)}\n`);
    let cause = error.cause;
    while (cause instanceof Error) {
      err.write(`${paint('gray', `caused by: ${cause.stack ?? cause.message}`)}\n`);
      cause = cause.cause;
    }
  } else if (!expected) {
    err.write(`${paint('gray', 'hint: run again with --debug to see the stack trace')}\n`);
  }
  return 1;
}
