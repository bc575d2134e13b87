/**
 * A TCP proxy in front of PostgreSQL that can refuse connections the way a stopped server does:
 * `refuse()` stops listening and resets every open connection (ECONNREFUSED / ECONNRESET for
 * the driver), `accept()` listens again on the same port.
 */
import net from 'node:net';

export interface RefusingProxy {
  /** `url` with the proxy's host and port. */
  url: string;
  port: number;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (nothing listens on it when this resolves). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Start a proxy to the server of `url` (listening unless `refusing`). */
export async function startRefusingProxy(
  url: string,
  options: { refusing?: boolean } = {},
): Promise<RefusingProxy> {
  const target = new URL(url);
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = async () => {
    if (server) return;
    server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  };
  const refuse = async () => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.resetAndDestroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  if (!options.refusing) await listen();
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return { url: proxied.toString(), port, refuse, accept: listen, close: refuse };
}
