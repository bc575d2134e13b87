/**
 * `jobwire tasks`: the task contracts workers published — the defaults `jobwire enqueue <task>`
 * and producer services apply when they enqueue a task by name.
 */
import type { BackoffSpec } from '../../index.js';
import { DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { colorEnabled, dateTime, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire tasks — the tasks workers published, with their job defaults

Usage
  jobwire tasks [--json]

A worker publishes the defaults (queue, priority, attempts, timeout, backoff) of the tasks it
registers when its client starts; "jobwire enqueue <task>" and producers without the task's code
apply them when they enqueue the task by name.

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json            the contracts as JSON
  -h, --help        show this help`;

export const tasksCommand: Command = {
  name: 'tasks',
  summary: 'list the tasks workers published, with their job defaults',
  help: HELP_TEXT,
  run,
};

/** A backoff spec in a few words, e.g. "fixed 500 ms" or "exponential 1000–3600000 ms". */
function describeBackoff(backoff: BackoffSpec | null): string {
  if (backoff === null) return 'default';
  if (backoff.type === 'fixed') return `fixed ${backoff.delayMs} ms`;
  const range = `${backoff.baseMs ?? 1000}–${backoff.maxMs ?? 3_600_000} ms`;
  return `exponential ${range}${backoff.jitter === false ? '' : ' jittered'}`;
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire tasks', {
    args,
    allowPositionals: true,
    options: { ...HELP, ...DB, ...JSON_FLAG },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, 'usage: jobwire tasks [--json]');
  }
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const tasks = await client.listPublishedTasks();
      if (values.json) {
        println(context, safeJson(tasks, 2));
        return 0;
      }
      if (tasks.length === 0) {
        println(context, 'no tasks published yet (a worker publishes its tasks when it starts)');
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const rows = tasks.map((task) => [
        task.name,
        task.queue,
        String(task.priority),
        String(task.maxAttempts),
        task.timeoutMs === null ? '-' : `${task.timeoutMs} ms`,
        describeBackoff(task.backoff),
        dateTime(task.updatedAt),
      ]);
      const columns = [
        { header: 'task' },
        { header: 'queue' },
        { header: 'priority', right: true },
        { header: 'attempts', right: true },
        { header: 'timeout', right: true },
        { header: 'backoff' },
        { header: 'published' },
      ];
      println(context, table(columns, rows, paint));
      return 0;
    },
  );
}
