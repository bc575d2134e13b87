/**
 * `jobwire workers`: the pools running now, in every process on this database, from the pool
 * registry (`listPools`).
 */
import { DEFAULT_POOL_LOST_AFTER_HEARTBEATS, type PoolRecord } from '../../index.js';
import { DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { age, colorEnabled, duration, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

/**
 * Heartbeat periods without a refresh after which a row reads "silent?": the leader's default
 * `maintenance.poolLostAfterHeartbeats`, so the mark appears when the leader, if there is one,
 * would report the pool lost. The CLI cannot know a leader's own setting; the mark is a hint
 * either way (see `isSilent`).
 */
export const SILENT_AFTER_HEARTBEATS = DEFAULT_POOL_LOST_AFTER_HEARTBEATS;

/**
 * True when `pool` was last heard from more than `SILENT_AFTER_HEARTBEATS` of its own heartbeat
 * periods before `now`. A hint, not a verdict: `lastSeenAt` is the writing process's clock on
 * SQLite and the database server's on PostgreSQL, compared here with this process's clock.
 */
export function isSilent(pool: Pick<PoolRecord, 'heartbeatMs' | 'lastSeenAt'>, now: number): boolean {
  return now - pool.lastSeenAt > pool.heartbeatMs * SILENT_AFTER_HEARTBEATS;
}

const HELP_TEXT = `jobwire workers — the pools working now, in every process

Usage
  jobwire workers [--json]

Each running pool keeps a row in the database, refreshed every heartbeat period: its host and
process id, the queues it serves, how many of its workers are busy, since when it runs and when
it was last heard from. A stopped pool removes its row; the row of a pool whose process died is
removed by the leader after a few missed heartbeats (the "pool:lost" event). Until then its
state reads "silent?" once it has sent no heartbeat for more than ${SILENT_AFTER_HEARTBEATS} of its own periods:
its process may have died (a hint: two clocks are compared; see docs/workers.md).

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json            the pools as JSON (times in epoch ms)
  -h, --help        show this help`;

export const workersCommand: Command = {
  name: 'workers',
  summary: 'list the pools working now, in every process',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('jobwire workers', {
    args,
    allowPositionals: true,
    options: { ...HELP, ...DB, ...JSON_FLAG },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, 'usage: jobwire workers [--json]');
  }
  return withClient(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    async (client) => {
      const pools = await client.listPools();
      if (values.json) {
        println(context, safeJson(pools, 2));
        return 0;
      }
      if (pools.length === 0) {
        println(
          context,
          'no pools running (a pool appears when it starts: jobwire worker, or createPool().start())',
        );
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const now = Date.now();
      const silent = pools.filter((pool) => isSilent(pool, now));
      const rows = pools.map((pool) => [
        pool.poolId,
        pool.host,
        String(pool.pid),
        pool.queues.join(','),
        `${pool.busy}/${pool.concurrency}`,
        // Its own state and busy count are as of a heartbeat that stopped coming: say so first.
        silent.includes(pool)
          ? paint(['bold', 'red'], 'silent?')
          : pool.state === 'running'
            ? paint('green', 'running')
            : paint('yellow', pool.state),
        age(now - pool.startedAt),
        `${age(now - pool.lastSeenAt)} ago`,
      ]);
      const columns = [
        { header: 'pool' },
        { header: 'host' },
        { header: 'pid', right: true },
        { header: 'queues' },
        { header: 'busy', right: true },
        { header: 'state' },
        { header: 'up for', right: true },
        { header: 'last seen', right: true },
      ];
      println(context, table(columns, rows, paint));
      if (silent.length > 0) {
        const periods = [...new Set(silent.map((pool) => duration(pool.heartbeatMs)))].join(', ');
        println(
          context,
          paint(
            'gray',
            [
              '',
              `silent? = no heartbeat for more than ${SILENT_AFTER_HEARTBEATS} of its own periods (${periods}): its process may`,
              'have died (busy is as of its last heartbeat); a leader removes the row and emits pool:lost.',
              "A hint: the pool's clock is compared with this one's (docs/workers.md).",
            ].join('\n'),
          ),
        );
      }
      return 0;
    },
  );
}
