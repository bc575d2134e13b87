/**
 * `jobwire stats`: job counts by state, per queue, and their totals. Bounded by default (the
 * client's `queueCounts`, docs/counts.md), so it costs the same on a table of millions of jobs;
 * `--exact` counts every row.
 */
import {
  COUNT_PRECISION_MARK,
  type CountPrecision,
  combinePrecision,
  JOB_STATES,
  type JobState,
  type QueueCounts,
  type QueueInfo,
} from '../../index.js';
import { DB, HELP, JSON_FLAG, parseCommandArgs } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire stats — job counts by state, per queue

Usage
  jobwire stats [--exact] [--json] [--db <path|url>]

Counts above 10,000 are bounded: ≥n is a lower bound (counting stopped at the cap), ~n an
estimate (docs/counts.md); a total is as loose as its loosest part.

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --exact           count every job exactly (reads the whole jobs table)
  --json            {"queues": {name: {state: count}}, "total": {state: count}, "precision":
                    {"queues": {name: {state: precision}}, "total": {state: precision}}}
                    (no "precision" with --exact: every count is exact)
  -h, --help        show this help`;

const EXACT = { exact: { type: 'boolean' } } as const;

export const statsCommand: Command = {
  name: 'stats',
  summary: 'job counts by state, per queue',
  help: HELP_TEXT,
  run,
};

type Precisions = Record<JobState, CountPrecision>;

const allExact = (): Precisions =>
  Object.fromEntries(JOB_STATES.map((state) => [state, 'exact'])) as Precisions;

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire stats', {
    args,
    options: { ...HELP, ...DB, ...JSON_FLAG, ...EXACT },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const exact = (values as { exact?: boolean }).exact === true;
      const queues: (QueueInfo | QueueCounts)[] = exact
        ? await client.listQueues()
        : await client.queueCounts();
      const precisionOf = (queue: QueueInfo | QueueCounts): Precisions =>
        'precision' in queue ? queue.precision : allExact();
      const total = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
      const totalPrecision = allExact();
      for (const queue of queues) {
        for (const state of JOB_STATES) {
          total[state] += queue.counts[state] ?? 0;
          totalPrecision[state] = combinePrecision(totalPrecision[state], precisionOf(queue)[state]);
        }
      }
      if (values.json) {
        const byQueue = Object.fromEntries(
          queues.map((queue) => [queue.name, { paused: queue.paused, ...queue.counts }]),
        );
        const precision = exact
          ? undefined
          : {
              queues: Object.fromEntries(queues.map((queue) => [queue.name, precisionOf(queue)])),
              total: totalPrecision,
            };
        println(context, safeJson({ queues: byQueue, total, ...(precision ? { precision } : {}) }, 2));
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const cells = (name: string, counts: Record<JobState, number>, precision: Precisions) => {
        let all = 0;
        let allPrecision: CountPrecision = 'exact';
        const row = [name];
        for (const state of JOB_STATES) {
          all += counts[state] ?? 0;
          allPrecision = combinePrecision(allPrecision, precision[state]);
          row.push(`${COUNT_PRECISION_MARK[precision[state]]}${counts[state] ?? 0}`);
        }
        row.push(`${COUNT_PRECISION_MARK[allPrecision]}${all}`);
        return row;
      };
      const rows = queues.map((queue) =>
        cells(queue.paused ? `${queue.name} (paused)` : queue.name, queue.counts, precisionOf(queue)),
      );
      rows.push(cells('total', total, totalPrecision).map((cell) => paint('bold', cell)));
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
