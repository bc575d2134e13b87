/**
 * `jobwire dashboard`: serve the HTTP API (and the dashboard) of a database on its own.
 */
import { type AnyTask, type AnyTaskRef, declareTask } from '../../index.js';
import { DB, HELP, intOption, parseCommandArgs } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { println } from '../command.js';
import { serveDashboard } from '../http-serve.js';
import { describeDatabase, openClient } from '../open-client.js';
import { onShutdownSignals } from '../signals.js';
import { loadTasks } from './worker.js';

const HELP_TEXT = `jobwire dashboard — serve the HTTP API, health probes and dashboard of a database

Usage
  jobwire dashboard [--port 8080] [--host 127.0.0.1] [--db <path|url>] [--token <t>] [--read-only]
                    [--tasks <module>]

Options
  --port <n>        port to listen on (default 8080; 0: any free port)
  --host <addr>     interface (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help). It must be initialised.
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  --token <t>       the token browsers sign in with and API clients send as
                    Authorization: Bearer <t> (default $JOBWIRE_HTTP_TOKEN; without one, a
                    random token is generated and printed). Browser sessions signed in
                    with a kept token survive a restart; a generated one lives one run
  --read-only       refuse every change (retry, cancel, delete, enqueue, pause…)
  --tasks <module>  the workers' tasks module: POST /api/jobs then checks payloads against
                    each task's schema (422, nothing stored) and applies its defaults. Its
                    handlers never run here, and its defaults are not published
  -h, --help        show this help

It prints the URL and a sign-in link (…/login?token=…) that opens a browser session. Jobs are
enqueued by task name with the defaults workers published (see "jobwire tasks"); without
--tasks a payload is checked only by the worker, which abandons a job its schema refuses. /healthz and
/readyz answer without a token. Ctrl-C stops it. See docs/http.md.`;

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'serve the HTTP API and dashboard of a database',
  help: HELP_TEXT,
  run,
};

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire dashboard', {
    args,
    options: {
      ...HELP,
      ...DB,
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'read-only': { type: 'boolean' },
      tasks: { type: 'string' },
    },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  const port = intOption('port', values.port, { min: 0, max: 65_535 }) ?? 8080;
  const host = values.host ?? '127.0.0.1';
  // Contracts, not tasks: a handler here would make this process publish defaults it does not run.
  const contracts = values.tasks === undefined ? undefined : (await loadTasks(values.tasks)).map(contractOf);
  const { client, target } = await openClient({
    db: values.db,
    schema: values.schema,
    tasks: contracts,
    strictTasks: false,
    mustExist: true,
  });
  let stopListening = () => {};
  try {
    const served = await serveDashboard(client, {
      port,
      host,
      token: values.token,
      readOnly: values['read-only'] === true,
    });
    const stopped = new Promise<void>((resolve) => {
      stopListening = onShutdownSignals(() => resolve());
    });
    println(
      context,
      `jobwire dashboard on ${served.server.url}/ (${describeDatabase(target)})${values['read-only'] ? ' — read-only' : ''}`,
    );
    println(context, `sign in: ${served.loginUrl}`);
    println(
      context,
      served.generated
        ? 'API: Authorization: Bearer <the token above> (generated for this run; pass --token or set JOBWIRE_HTTP_TOKEN to keep one)'
        : 'API: Authorization: Bearer <your token>',
    );
    println(context, 'Ctrl-C to stop');
    await stopped;
    await served.server.close();
    return 0;
  } finally {
    stopListening();
    await client.close();
  }
}

/** A task without its handler (what `declareTask` makes): its name, schema and job defaults. */
function contractOf(task: AnyTask): AnyTaskRef {
  const { handler: _handler, backoffFn: _backoffFn, ...declaration } = task;
  return declareTask(declaration);
}
