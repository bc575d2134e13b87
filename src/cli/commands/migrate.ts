/**
 * `jobwire migrate`: bring the database schema up to date and say from which version to which.
 */
import { createJobwire } from '../../index.js';
import { DB, HELP, JSON_FLAG, parseCommandArgs } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { safeJson } from '../format.js';
import { describeDatabase, openDriver, resolveDatabase } from '../open-client.js';

const HELP_TEXT = `jobwire migrate — create or upgrade the database schema

Usage
  jobwire migrate [--db <path|url>] [--json]

worker, dev and enqueue migrate on start; the read and admin commands (jobs, queues, stats,
tasks, workers, metrics) never create or change the schema and ask for this instead. Use it
to prepare a database ahead of time (deploy step) or to check its version. Safe to run
concurrently; refuses a schema newer than this jobwire.

Options
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire);
                    a missing SQLite file is created
  --json            {"from": n, "to": n, "applied": [...]}
  -h, --help        show this help`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create or upgrade the database schema (prints from/to version)',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire migrate', { args, options: { ...HELP, ...DB, ...JSON_FLAG } });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  const target = resolveDatabase(values.db, { schema: values.schema });
  // The client is opened without migrating, so the report shows what this command applied.
  const client = await createJobwire({ driver: await openDriver(target), migrate: false });
  try {
    const result = await client.migrate();
    if (values.json) println(context, safeJson(result));
    else if (result.applied.length === 0) {
      println(context, `${describeDatabase(target)}: schema is up to date (version ${result.to})`);
    } else {
      println(
        context,
        `${describeDatabase(target)}: migrated schema from version ${result.from} to ${result.to} ` +
          `(applied ${result.applied.join(', ')})`,
      );
    }
    return 0;
  } finally {
    await client.close();
  }
}
