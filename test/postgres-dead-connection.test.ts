/**
 * A connection the network cuts without closing it (a partition, a vanished host, a firewall
 * dropping the flow): nothing answers and nothing resets. A TCP proxy in front of the server
 * plays the network: "black hole" keeps every connection open and forwards nothing. Before
 * `queryTimeoutMs` a claim, an outcome write or an election sent on such a connection waited for
 * as long as the kernel kept retrying (~15 minutes); now it fails with a typed StorageError and
 * the connection is dropped, so the next call (the network back) works.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { StorageError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { createIsolatedSchema } from './support/postgres.js';

/** A TCP proxy to `target` that can stop forwarding without closing anything. */
async function startProxy(target: URL) {
  let blackHole = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (data) => blackHole || upstream.write(data));
    upstream.on('data', (data) => blackHole || client.write(data));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    /** Forward nothing from now on; keep every connection open. */
    cut: () => {
      blackHole = true;
    },
    /** The network is back: the connections it swallowed are gone, new ones work. */
    restore: () => {
      blackHole = false;
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('postgres: a connection the network cuts without closing it', () => {
  it('a claim, an outcome write, an election and a transaction fail after queryTimeoutMs; the driver works again once the network is back', {
    timeout: 60_000,
  }, async () => {
    const { url, schema, drop } = await createIsolatedSchema();
    const proxy = await startProxy(new URL(url));
    const driver = postgresDriver({
      connectionString: proxy.url,
      schema,
      poolSize: 4,
      connectTimeoutMs: 2000,
      queryTimeoutMs: 500,
    });
    after(async () => {
      await driver.close();
      await proxy.close();
      await drop();
    });
    await driver.migrate();
    await driver.jobInsertMany({ jobs: [jobParams(), jobParams()] });
    const claim = () => driver.jobClaim({ queues: ['default'], limit: 1, leaseMs: 30_000, poolId: 'w' });
    const [job] = await claim();
    assert.ok(job);

    // Four connections open and idle in the pool, one for each call below (each drops its own).
    await Promise.all(Array.from({ length: 4 }, () => driver.queueCounts({ exactUpTo: 1000 })));
    proxy.cut();
    const timedOut = (err: unknown) => {
      assert.ok(err instanceof StorageError, String(err));
      assert.equal(err.kind, 'unavailable');
      assert.match(err.message, /did not answer \w+ within queryTimeoutMs \(500 ms\)/);
      return true;
    };
    await assert.rejects(claim(), timedOut);
    await assert.rejects(
      driver.jobFinalizeMany({
        items: [{ id: job.id, leaseToken: job.leaseToken, outcome: 'completed', resultJson: null }],
      }),
      timedOut,
    );
    await assert.rejects(
      driver.leaderAttemptElect({ name: 'maintenance', ownerId: 'a', ttlMs: 10_000 }),
      timedOut,
    );
    await assert.rejects(driver.queueCounts({ exactUpTo: 1000 }), timedOut);

    proxy.restore();
    const results = await driver.jobFinalizeMany({
      items: [{ id: job.id, leaseToken: job.leaseToken, outcome: 'completed', resultJson: null }],
    });
    assert.equal(results[0]?.applied, true);
    assert.equal((await claim()).length, 1);
  });

  it('refuses a queryTimeoutMs that is not 0 … 2^31 - 1 ms', () => {
    for (const queryTimeoutMs of [-1, 1.5, Number.NaN, 2 ** 31, '30s' as unknown as number]) {
      assert.throws(
        () => postgresDriver({ connectionString: 'postgres://localhost/x', queryTimeoutMs }),
        (err: unknown) => err instanceof Error && /queryTimeoutMs/.test(err.message),
        String(queryTimeoutMs),
      );
    }
  });
});
