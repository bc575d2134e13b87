/**
 * The handler on Node's `http` module, through @hono/node-server: a request listener to mount in
 * Express, Fastify or a plain server, and `serveHttp` to listen on a port. The host app's global
 * `Request` and `Response` are left alone (`overrideGlobalObjects: false`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { assertKnownOptions, optionNames } from '../index.js';
import type { HttpHandler } from './handler.js';

/** A Node request listener for `handler`: `app.use('/admin/jobs', nodeListener(handler))`. */
export function nodeListener(
  handler: HttpHandler,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return getRequestListener((request) => handler.fetch(request), { overrideGlobalObjects: false });
}

/** Options of `serveHttp`. */
export interface ServeHttpOptions {
  /** The port; 0 picks any free one. Default 8080. */
  port?: number;
  /** The interface to listen on. Default 127.0.0.1 (this machine only); `0.0.0.0` for every one. */
  host?: string;
}

/** Every field of `ServeHttpOptions` (the compiler checks the list against it); any other key is refused. */
const SERVE_OPTION_NAMES = optionNames<ServeHttpOptions>({ port: true, host: true });

/** A listening server of `serveHttp`. */
export interface HttpServer {
  readonly server: Server;
  /** Where it listens, with the base path, e.g. `http://127.0.0.1:8080/admin/jobs`. */
  readonly url: string;
  readonly port: number;
  /** End event streams, then stop listening and close every connection. */
  close(): Promise<void>;
}

/**
 * Serve `handler` on `port` (0: any free port) and `host` (default 127.0.0.1, this machine only;
 * give `0.0.0.0` to listen on every interface). Resolves once listening. An option key
 * `ServeHttpOptions` does not name rejects with an `InvalidOptionError`: a misspelt `host` would
 * otherwise listen somewhere other than intended.
 */
export async function serveHttp(handler: HttpHandler, options: ServeHttpOptions = {}): Promise<HttpServer> {
  assertKnownOptions('', options, SERVE_OPTION_NAMES, 'serveHttp option');
  const host = options.host ?? '127.0.0.1';
  const server = createServer(nodeListener(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    url: `http://${shown}:${port}${handler.basePath}`,
    close: async () => {
      handler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
