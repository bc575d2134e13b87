/**
 * `jobwire metrics --port 9464`: serve the cluster gauges at /metrics for Prometheus. Also the
 * HTTP server behind `jobwire worker --metrics-port`. prom-client loads only when one of them
 * runs, so other commands never pay for it.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Jobwire, StorageError } from '../../index.js';
import { refuseNonMetricsRequest } from '../../sinks/metrics-requests.js';
import { CliError, DB, HELP, intOption, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { clockTime } from '../format.js';
import { describeDatabase, openClient, resolveDatabase } from '../open-client.js';
import { onShutdownSignals } from '../signals.js';

/** The default port: the one OpenTelemetry's Prometheus exporter uses too. */
export const DEFAULT_METRICS_PORT = 9464;
const DEFAULT_HOST = '127.0.0.1';

const HELP_TEXT = `jobwire metrics — serve Prometheus metrics of the database at /metrics

Usage
  jobwire metrics [--port ${DEFAULT_METRICS_PORT}] [--host ${DEFAULT_HOST}] [--db <path|url>]

Serves the cluster-wide gauges — jobs per queue and state, paused queues — read from the
database (at most once per --cache-ms, however often it is scraped). The per-process counters
and histograms (jobs started, completed, failed, durations, waits) count what one process saw:
here they stay at zero. For them run the workers with --metrics-port (jobwire worker
--metrics-port 9464), or serve createMetrics() from "jobwire/metrics" inside your own workers.

Options
  --port <n>        TCP port (default ${DEFAULT_METRICS_PORT}; 0 picks a free one, printed at start)
  --host <address>  address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for every interface)
  --cache-ms <ms>   how long one database reading is reused (default 5000)
  --db <path|url>   database (default: $JOBWIRE_DATABASE_URL, a postgres $DATABASE_URL,
                    else ./jobwire.db; see jobwire --help)
  --schema <name>   PostgreSQL schema (default $JOBWIRE_SCHEMA, else jobwire)
  -h, --help        show this help

When the database cannot be reached (at start, or later), /metrics still answers, with
jobwire_cluster_up 0: at start the command serves that alone and keeps trying to connect
(every 1 s, backing off to every 5 s), saying on stderr what it waits for. A database that
answers but lacks jobwire's tables (or has an older or newer schema) is an error: exit 1.

Stops on SIGINT/SIGTERM.`;

export const metricsCommand: Command = {
  name: 'metrics',
  summary: 'serve Prometheus gauges of queues at /metrics (cluster view)',
  help: HELP_TEXT,
  run,
};

/** A running /metrics server. */
export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound. */
  url: string;
  /** Stop serving and stop the metrics' listeners (the client stays open). */
  close(): Promise<void>;
}

/**
 * The metrics sink, whose prom-client is an optional peer dependency: an app that never asked for
 * metrics does not install it, and the CLI says what to install instead of node's "Cannot find
 * package 'prom-client'".
 */
async function loadMetricsSink(): Promise<typeof import('../../sinks/metrics.js')> {
  try {
    return await import('../../sinks/metrics.js');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /prom-client/.test(String(error))
    ) {
      throw new CliError(
        'Prometheus metrics need the prom-client package, which is not installed',
        'npm install prom-client (an optional peer dependency of jobwire), then run this again',
        { cause: error },
      );
    }
    throw error;
  }
}

/** Serve `createMetrics(client)` on `host:port`. Resolves once listening. */
export async function serveMetrics(
  client: Jobwire,
  options: { port: number; host: string; cacheMs?: number },
): Promise<MetricsServer> {
  const { createMetrics } = await loadMetricsSink();
  const metrics = createMetrics(client, { cacheMs: options.cacheMs });
  const server: Server = createServer(metrics.handler);
  let url: string;
  try {
    url = await listen(server, options.port, options.host);
  } catch (error) {
    metrics.close();
    throw error;
  }
  return {
    url,
    close: async () => {
      metrics.close();
      await closeServer(server);
    },
  };
}

/** Listen on `host:port`; resolves with the /metrics URL (the port actually bound). */
async function listen(server: Server, port: number, hostName: string): Promise<string> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, hostName, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(
      `cannot listen on ${hostName}:${port}: ${code ?? String(error)}`,
      code === 'EADDRINUSE' ? 'pick another port' : undefined,
    );
  }
  const bound = (server.address() as AddressInfo).port;
  const host = hostName.includes(':') ? `[${hostName}]` : hostName;
  return `http://${host}:${bound}/metrics`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** What /metrics answers before the database could be reached: the sink's `cluster_up`, at 0. */
const UNREACHABLE_BODY =
  '# HELP jobwire_cluster_up Whether the last read of the cluster gauges from the database succeeded (1) or failed (0).\n' +
  '# TYPE jobwire_cluster_up gauge\n' +
  'jobwire_cluster_up 0\n';

/** The handler while no client could be opened (same paths and methods as the sink's). */
const unreachableHandler: RequestListener = (request, response) => {
  if (refuseNonMetricsRequest(request, response)) return;
  response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  response.end(request.method === 'HEAD' ? undefined : UNREACHABLE_BODY);
};

/** The first retry after the database could not be reached, and the longest wait between tries. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5000;
/** An unchanged reason for waiting is printed again this often. */
const REPEAT_WAITING_MS = 60_000;

/** True when `error` (or an error it wraps) says the database cannot be reached right now. */
function isUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof StorageError) return e.kind === 'unavailable';
  }
  return false;
}

/**
 * Opens the client of `jobwire metrics`, telling on stderr while the database cannot be reached:
 * `tryOnce` resolves with the client, or undefined when the database cannot be reached now; any
 * other failure rejects (a missing or older schema is for a human to fix).
 */
class Connector {
  readonly #options: Parameters<typeof openClient>[0];
  readonly #context: CommandContext;
  #delay = FIRST_RETRY_MS;
  #waitingSince: number | undefined;
  #tries = 0;
  #printed = { message: '', at: 0 };

  constructor(options: Parameters<typeof openClient>[0], context: CommandContext) {
    this.#options = options;
    this.#context = context;
  }

  /** One try; `stopped` ends the wait for it (a connection opened later is closed). */
  async tryOnce(stopped?: Promise<void>): Promise<Jobwire | 'stopped' | undefined> {
    const opening = openClient(this.#options);
    let opened: Awaited<typeof opening> | 'stopped';
    try {
      opened = stopped
        ? await Promise.race([opening, stopped.then(() => 'stopped' as const)])
        : await opening;
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      this.#waiting(error);
      return undefined;
    }
    if (opened === 'stopped') {
      opening.then(({ client }) => client.close()).catch(() => {});
      return 'stopped';
    }
    if (this.#waitingSince !== undefined) {
      const seconds = Math.round((Date.now() - this.#waitingSince) / 1000);
      this.#context.io.err.write(
        `jobwire metrics: the database answers after ${seconds} s; serving its gauges\n`,
      );
    }
    return opened.client;
  }

  /** Try until the client opens (or `stopped`: undefined), backing off from 1 s to MAX_RETRY_MS. */
  async untilOpen(stopped: Promise<void>): Promise<Jobwire | undefined> {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const slept = await Promise.race([
        new Promise<'again'>((resolve) => {
          timer = setTimeout(() => resolve('again'), this.#delay);
        }),
        stopped.then(() => 'stopped' as const),
      ]);
      clearTimeout(timer);
      if (slept === 'stopped') return undefined;
      this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
      const client = await this.tryOnce(stopped);
      if (client === 'stopped') return undefined;
      if (client !== undefined) return client;
    }
  }

  /** Say why it waits: at the first failure, when the reason changes, and once a minute. */
  #waiting(error: unknown): void {
    this.#tries += 1;
    const now = Date.now();
    this.#waitingSince ??= now;
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.#printed.message && now - this.#printed.at < REPEAT_WAITING_MS) return;
    const since = this.#tries > 1 ? ` (${this.#tries} tries since ${clockTime(this.#waitingSince)})` : '';
    this.#context.io.err.write(
      `jobwire metrics: waiting for the database${since}: ${message}\n` +
        `  /metrics answers jobwire_cluster_up 0 meanwhile; trying again in 1 s, backing off to every ${MAX_RETRY_MS / 1000} s\n`,
    );
    this.#printed = { message, at: now };
  }
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('jobwire metrics', {
    args,
    options: {
      ...HELP,
      ...DB,
      port: { type: 'string' },
      host: { type: 'string' },
      'cache-ms': { type: 'string' },
    },
  });
  if (values.help) {
    println(context, HELP_TEXT);
    return 0;
  }
  const port = intOption('port', values.port, { min: 0, max: 65_535 }) ?? DEFAULT_METRICS_PORT;
  const cacheMs = intOption('cache-ms', values['cache-ms'], { min: 0, max: 86_400_000 });
  const host = values.host ?? DEFAULT_HOST;
  // A wrong --db or --schema is refused before anything listens.
  const target = resolveDatabase(values.db, { schema: values.schema });
  const { createMetrics } = await loadMetricsSink();
  const connector = new Connector(
    { db: values.db, schema: values.schema, strictTasks: false, mustExist: true },
    context,
  );
  // The database is normally there: serve its gauges from the first scrape. When it cannot be
  // reached, serve anyway — /metrics says so (cluster_up 0) — and keep trying.
  const first = await connector.tryOnce();
  let client = first === 'stopped' ? undefined : first;
  let metrics: ReturnType<typeof createMetrics> | undefined;
  let handler: RequestListener = unreachableHandler;
  let stopListening = () => {};
  let server: Server | undefined;
  try {
    if (client !== undefined) {
      metrics = createMetrics(client, { cacheMs });
      handler = metrics.handler;
    }
    const serving = createServer((request, response) => handler(request, response));
    const url = await listen(serving, port, host);
    server = serving;
    const stopped = new Promise<void>((resolve) => {
      stopListening = onShutdownSignals(() => resolve());
    });
    println(context, `jobwire metrics · ${describeDatabase(target)} · serving ${url} · Ctrl-C to stop`);
    if (client === undefined) {
      client = await connector.untilOpen(stopped);
      if (client !== undefined) {
        metrics = createMetrics(client, { cacheMs });
        handler = metrics.handler;
      }
    }
    await stopped;
    return 0;
  } finally {
    stopListening();
    metrics?.close();
    if (server) await closeServer(server);
    await client?.close();
  }
}
