/**
 * Ending connections when the network may have swallowed them. pg's `end()` sends Terminate and
 * then waits for the server to close the socket; over a connection a partition cut without a
 * reset (a vanished host, a firewall dropping the flow) that wait lasts until the kernel gives up
 * retransmitting — about 15 minutes on Linux — and the open socket keeps the process alive:
 * `jobwire.close()` hung on the LISTEN connection, and a process whose pools had stopped did not
 * exit. So an end gets `END_GRACE_MS` to complete, then its socket is destroyed: a server that is
 * there closes a connection in milliseconds, and one that is not is not waited for.
 */
import type pg from 'pg';

/** How long an ended connection may take to close before its socket is destroyed. */
export const END_GRACE_MS = 1_000;

/** The part of a socket this module touches. */
interface EndingSocket {
  destroy(): void;
  unref?(): void;
  readonly destroyed?: boolean;
}

/**
 * The socket under a pg client. Typed on `pg.Client` (`connection.stream`); pool clients are
 * Clients too, though their type does not say so.
 */
export function socketOf(client: pg.ClientBase): EndingSocket | undefined {
  return (client as unknown as { connection?: { stream?: EndingSocket } }).connection?.stream;
}

/** Destroy the socket of `client` at once (its `end()` would wait on a dead peer). */
export function destroyClient(client: pg.ClientBase): void {
  (client as pg.Client).end().catch(() => {});
  socketOf(client)?.destroy();
}

/**
 * End `client`, waiting at most `graceMs` for the server to close the connection; after that
 * its socket is destroyed. Resolves either way, never rejects.
 */
export async function endWithin(client: pg.Client, graceMs = END_GRACE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().catch(() => {});
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([ended, late]);
  clearTimeout(timer);
  if (socketOf(client)?.destroyed === false) socketOf(client)?.destroy();
}

/**
 * Follow the connections of a pool this driver owns, so that after `pool.end()` the ones whose
 * end is still waiting on the network let the process exit at once and are destroyed after
 * `graceMs` (pg-pool reports a connection `remove`d only once its socket has closed).
 */
export function followPoolConnections(pool: pg.Pool): { letGo(graceMs?: number): void } {
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => open.add(client));
  pool.on('remove', (client) => open.delete(client));
  return {
    letGo(graceMs = END_GRACE_MS) {
      if (open.size === 0) return;
      const lingering = [...open];
      for (const client of lingering) socketOf(client)?.unref?.();
      setTimeout(() => {
        for (const client of lingering) if (open.has(client)) socketOf(client)?.destroy();
      }, graceMs).unref();
    },
  };
}
