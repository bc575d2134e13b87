/**
 * The shape of a CLI command. Each lives in its own file under `commands/`.
 */
import type { Io } from './output.js';

/** What every command receives besides its arguments. */
export interface CommandContext {
  io: Io;
  /** `--debug`: print stacks of unexpected errors. */
  debug: boolean;
}

/** One `jobwire <name>` command. */
export interface Command {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Run with the arguments after the command name; resolves with the exit code. */
  run(args: string[], context: CommandContext): Promise<number>;
}

/** Write a line to stdout. */
export function println(context: CommandContext, text = ''): void {
  context.io.out.write(`${text}\n`);
}

/** Write a line to stderr. */
export function eprintln(context: CommandContext, text = ''): void {
  context.io.err.write(`${text}\n`);
}
