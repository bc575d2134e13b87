/**
 * `jobwire metrics --port 9464`: serve the cluster gauges at /metrics for Prometheus. Also the
 * HTTP server behind `jobwire worker --metrics-port`. prom-client loads only when one of them
 * runs, so other commands never pay for it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jobwire } from '../../index.js';
import { CliError, DB, HELP, intOption, parseCommandArgs, UsageError } from '../args.js';
import { type Command, type CommandContext, println } from '../command.js';
import { describeDatabase, openClient } from '../open-client.js';
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
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    metrics.close();
    const code = (error as { code?: string }).code;
    throw new UsageError(
      `cannot listen on ${options.host}:${options.port}: ${code ?? String(error)}`,
      code === 'EADDRINUSE' ? 'pick another port' : undefined,
    );
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: async () => {
      metrics.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
  const { client, target } = await openClient({
    db: values.db,
    schema: values.schema,
    strictTasks: false,
    mustExist: true,
  });
  let stopListening = () => {};
  try {
    const stopped = new Promise<void>((resolve) => {
      stopListening = onShutdownSignals(() => resolve());
    });
    const server = await serveMetrics(client, { port, host, cacheMs });
    println(
      context,
      `jobwire metrics · ${describeDatabase(target)} · serving ${server.url} · Ctrl-C to stop`,
    );
    await stopped;
    await server.close();
    return 0;
  } finally {
    stopListening();
    await client.close();
  }
}
