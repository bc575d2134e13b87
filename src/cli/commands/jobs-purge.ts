/**
 * `jobwire jobs purge`: delete finished jobs by state, queue, task and age, in batches (the
 * by-hand counterpart of the leader's retention). Registered as a `jobs` subcommand.
 */
import type { FinishedState } from '../../index.js';
import { closest, DB, HELP, JSON_FLAG, listOption, parseCommandArgs, UsageError } from '../args.js';
import { type CommandContext, println } from '../command.js';
import { durationOption } from '../duration.js';
import { withClient } from '../open-client.js';

const FINISHED: readonly FinishedState[] = ['completed', 'abandoned', 'cancelled'];

/** The `--help` text. */
export const PURGE_HELP = `jobwire jobs purge — delete finished jobs (completed, abandoned, cancelled)

Usage
  jobwire jobs purge --state <s,…> [--older-than <duration>] [options]

Options
  --state <s,…>           which finished states (required): ${FINISHED.join(', ')}, or all
  --older-than <d>        only jobs that finished more than this long ago: 30s, 10m, 2h, 7d, 1w
  --queue <q,…>           only these queues
  --task <t,…>            only these tasks
  --db <path|url>         database (default $DATABASE_URL if postgres://, else ./jobwire.db)
  --schema <name>         PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json                  {"deleted": n}
  -h, --help              show this help

Active jobs (scheduled, pending, running) are never purged: cancel them first.
The leader also prunes on its own by the retention option (see docs/retention.md).

Example
  jobwire jobs purge --state completed --older-than 7d`;

/** Run `jobwire jobs purge`. */
export async function purge(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire jobs purge', {
    args,
    options: {
      ...HELP,
      ...DB,
      ...JSON_FLAG,
      state: { type: 'string' },
      'older-than': { type: 'string' },
      queue: { type: 'string' },
      task: { type: 'string' },
    },
  });
  if (values.help) {
    println(context, PURGE_HELP);
    return 0;
  }
  // Required, so that a bare `purge` cannot wipe every finished job by accident.
  if (values.state === undefined) {
    throw new UsageError(
      '--state is required',
      `e.g. --state completed, or --state all (${FINISHED.join(', ')})`,
    );
  }
  const given = listOption(values.state) ?? [];
  const states = given.includes('all') ? [...FINISHED] : given;
  for (const state of states) {
    if (!(FINISHED as readonly string[]).includes(state)) {
      const guess = closest(state, [...FINISHED, 'all']);
      throw new UsageError(
        `"${state}" is not a finished state`,
        `${guess ? `did you mean "${guess}"? ` : ''}purge deletes ${FINISHED.join(', ')} jobs (or all of them)`,
      );
    }
  }
  const olderThan =
    values['older-than'] === undefined ? undefined : durationOption('older-than', values['older-than']);
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const deleted = await client.deleteJobs({
        state: states as FinishedState[],
        queue: listOption(values.queue),
        task: listOption(values.task),
        olderThan,
      });
      println(
        context,
        values.json ? JSON.stringify({ deleted }) : `deleted ${deleted} job${deleted === 1 ? '' : 's'}`,
      );
      return 0;
    },
  );
}
