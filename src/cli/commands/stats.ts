/**
 * `jobwire stats`: job counts by state, per queue.
 */
import { JOB_STATES, type JobState } from '../../index.js';
import { DB, HELP, JSON_FLAG, parseCommandArgs } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire stats — job counts by state, per queue

Usage
  jobwire stats [--json] [--db <path|url>]

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json            {"queues": {name: {state: count}}, "total": {state: count}}
  -h, --help        show this help`;

export const statsCommand: Command = {
  name: 'stats',
  summary: 'job counts by state, per queue',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire stats', { args, options: { ...HELP, ...DB, ...JSON_FLAG } });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const queues = await client.listQueues();
      const total = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
      for (const queue of queues) for (const state of JOB_STATES) total[state] += queue.counts[state] ?? 0;
      if (values.json) {
        const byQueue = Object.fromEntries(
          queues.map((queue) => [queue.name, { paused: queue.paused, ...queue.counts }]),
        );
        println(context, safeJson({ queues: byQueue, total }, 2));
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const sum = (counts: Record<JobState, number>) =>
        JOB_STATES.reduce((n, state) => n + (counts[state] ?? 0), 0);
      const cells = (name: string, counts: Record<JobState, number>) => [
        name,
        ...JOB_STATES.map((state) => String(counts[state] ?? 0)),
        String(sum(counts)),
      ];
      const rows = queues.map((queue) =>
        cells(queue.paused ? `${queue.name} (paused)` : queue.name, queue.counts),
      );
      rows.push(cells('total', total).map((cell) => paint('bold', cell)));
      println(
        context,
        table(
          [
            { header: 'queue' },
            ...JOB_STATES.map((state) => ({ header: state, right: true })),
            { header: 'all', right: true },
          ],
          rows,
          paint,
        ),
      );
      return 0;
    },
  );
}
