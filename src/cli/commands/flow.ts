/**
 * `jobwire flow ls|set|rm`: the flow-control rules (concurrency and rate limits per queue or per
 * concurrency key) every process enforces; see docs/flow-control.md.
 */
import { type FlowRuleDefinition, type FlowRuleInfo, formatDuration } from '../../index.js';
import { closest, DB, HELP, JSON_FLAG, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, eprintln, println } from '../command.js';
import { colorEnabled, painter, safeJson, table } from '../format.js';
import { withClient } from '../open-client.js';

const HELP_TEXT = `jobwire flow — concurrency limits, rate limits and fairness rules

Usage
  jobwire flow ls [--json]                     every rule, by queue then key
  jobwire flow set <queue> [--key <k>] [--concurrency <n>] [--rate <n>/<interval>] [--burst <n>]
                                               create or replace a rule
  jobwire flow rm <queue> [--key <k>]          remove a rule

A rule without --key limits the whole queue (every job of it). With --key it limits each
concurrency key it matches: an exact key ("acme"), a prefix pattern ("tenant:*") or "*" (every
key); the most specific rule of a queue applies to a key. Keys are served fairly: the key that
started least recently goes first. Rules are stored in the database and apply to the next job
any process starts.

Options
  --key <k>            the key or key pattern (absent: the queue-wide rule)
  --concurrency <n>    most jobs running at once (per key for a key rule)
  --rate <n>/<d>       most starts per interval, e.g. 100/1m, 5/1s (per key for a key rule)
  --burst <n>          starts allowed at once after a quiet spell (default 1: evenly spaced)
  --db <path|url>      database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                       else ./jobwire.db; see jobwire --help)
  --schema <name>      PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --json               (ls) the rules as JSON
  -h, --help           show this help

Examples
  jobwire flow set emails --concurrency 20
  jobwire flow set emails --key 'tenant:*' --concurrency 2 --rate 100/1m --burst 10
  jobwire flow rm emails --key 'tenant:*'`;

export const flowCommand: Command = {
  name: 'flow',
  summary: 'list, set and remove concurrency and rate limits',
  help: HELP_TEXT,
  run,
};

const SUBS = ['ls', 'set', 'rm'];

/** `--rate 100/1m` → a rate definition; the interval is checked by the client. */
function parseRate(text: string, burst: string | undefined): FlowRuleDefinition['rate'] {
  const match = /^(\d+)\/(.+)$/.exec(text.trim());
  if (!match) throw new UsageError(`--rate must look like 100/1m or 5/1s, got "${text}"`);
  return {
    limit: Number(match[1]),
    interval: match[2]!,
    ...(burst === undefined ? {} : { burst: Number(burst) }),
  };
}

function describeRule(rule: FlowRuleInfo): string[] {
  return [
    rule.queue,
    rule.key ?? '(whole queue)',
    rule.concurrency === null ? '–' : String(rule.concurrency),
    rule.rate === null ? '–' : `${rule.rate.limit}/${formatDuration(rule.rate.intervalMs)}`,
    rule.rate === null ? '–' : String(rule.rate.burst),
  ];
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    println(context, HELP_TEXT);
    return 0;
  }
  if (sub === undefined || !SUBS.includes(sub)) {
    if (sub === undefined) eprintln(context, HELP_TEXT);
    const guess = sub === undefined ? undefined : closest(sub, SUBS);
    throw new UsageError(
      sub === undefined ? 'missing the flow subcommand' : `unknown subcommand "flow ${sub}"`,
      `${guess ? `did you mean "jobwire flow ${guess}"? ` : ''}run "jobwire flow --help".`,
    );
  }
  const { values, positionals } = parseCommandArgs(`jobwire flow ${sub}`, {
    args: rest,
    allowPositionals: sub !== 'ls',
    options: {
      ...HELP,
      ...DB,
      ...(sub === 'ls' ? JSON_FLAG : { key: { type: 'string' } }),
      ...(sub === 'set'
        ? { concurrency: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' } }
        : {}),
    },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  const v = values as Record<string, string | boolean | undefined>;
  const open = { db: values.db, schema: values.schema, strictTasks: false, mustExist: sub === 'ls' };
  if (sub === 'ls') {
    return withClient(open, async (client) => {
      const rules = await client.flow.list();
      if (v.json) {
        println(context, safeJson(rules, 2));
        return 0;
      }
      if (rules.length === 0) {
        println(context, 'no flow rules (jobs run without limits; see jobwire flow --help)');
        return 0;
      }
      const paint = painter(colorEnabled(context.io.out));
      const headers = ['queue', 'key', 'concurrency', 'rate', 'burst'].map((header, i) => ({
        header,
        right: i >= 2,
      }));
      println(context, table(headers, rules.map(describeRule), paint));
      return 0;
    });
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length ? 'give one queue name' : 'missing the queue name',
      `usage: jobwire flow ${sub} <queue> [--key <k>]`,
    );
  }
  const queue = positionals[0]!;
  const key = typeof v.key === 'string' ? v.key : null;
  if (sub === 'rm') {
    return withClient(open, async (client) => {
      const removed = await client.flow.remove({ queue, key });
      println(
        context,
        removed ? `removed the rule of ${label(queue, key)}` : `no rule for ${label(queue, key)}`,
      );
      return removed ? 0 : 1;
    });
  }
  if (v.concurrency === undefined && v.rate === undefined) {
    throw new UsageError(
      'give --concurrency, --rate or both',
      'e.g. jobwire flow set emails --concurrency 5',
    );
  }
  if (v.burst !== undefined && v.rate === undefined) throw new UsageError('--burst only applies with --rate');
  const rule: FlowRuleDefinition = { queue, key };
  if (typeof v.concurrency === 'string') rule.concurrency = Number(v.concurrency);
  if (typeof v.rate === 'string') rule.rate = parseRate(v.rate, v.burst as string | undefined);
  return withClient(open, async (client) => {
    await client.flow.set(rule);
    const [stored] = (await client.flow.list()).filter((r) => r.queue === queue && r.key === key);
    println(
      context,
      `set the rule of ${label(queue, key)}: ${stored ? describeRule(stored).slice(2).join(' ') : ''}`,
    );
    return 0;
  });
}

const label = (queue: string, key: string | null): string =>
  key === null ? `queue "${queue}"` : `key "${key}" in queue "${queue}"`;
