/**
 * A connection the network cuts without closing it (a partition, a vanished host, a firewall
 * dropping the flow): nothing answers and nothing resets. A TCP proxy in front of the server
 * plays the network: "black hole" keeps every connection open and forwards nothing. Before
 * `queryTimeoutMs` a claim, an outcome write or an election sent on such a connection waited for
 * as long as the kernel kept retrying (~15 minutes); now it fails with a typed StorageError and
 * the connection is dropped, so the next call (the network back) works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../src/core/errors.js';
import { jobParams } from '../src/driver/conformance/harness.js';
import { postgresDriver } from '../src/drivers/postgres/index.js';
import { createIsolatedSchema } from './support/postgres.js';
import { compiledFixture } from './support/processes.js';

const CLOSE_EXIT = fileURLToPath(new URL('./fixtures/postgres-close-exit.ts', import.meta.url));

/**
 * A TCP proxy to `target` that can stop forwarding without closing anything: once cut, neither
 * data nor a FIN crosses it (half-open sockets, as a partition leaves them).
 */
async function startProxy(target: URL) {
  let blackHole = false;
  const sockets = new Set<net.Socket>();
  /** The proxy's ends of connections from the driver. */
  const fromDriver = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({
      port: Number(target.port || 5432),
      host: target.hostname,
      allowHalfOpen: true,
    });
    fromDriver.add(client);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    // The driver closed its end (a FIN: the proxy keeps its own half open, as a partition would).
    for (const done of ['end', 'close']) client.on(done, () => fromDriver.delete(client));
    client.on('data', (data) => blackHole || upstream.write(data));
    upstream.on('data', (data) => blackHole || client.write(data));
    client.on('end', () => blackHole || upstream.end());
    upstream.on('end', () => blackHole || client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    /** How many connections from the driver are still open. */
    openFromDriver: () => fromDriver.size,
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

  it('close() ends connections the network swallowed, the LISTEN one included, instead of waiting ~15 minutes', {
    timeout: 30_000,
  }, async () => {
    const { url, schema, drop } = await createIsolatedSchema();
    const proxy = await startProxy(new URL(url));
    const driver = postgresDriver({ connectionString: proxy.url, schema, poolSize: 4, queryTimeoutMs: 500 });
    after(async () => {
      await proxy.close();
      await drop();
    });
    await driver.migrate();
    const stop = driver.notifier.listen('jobs', () => {});
    await (driver.notifier as { ready?: () => Promise<void> }).ready?.();
    await Promise.all(Array.from({ length: 3 }, () => driver.queueCounts({ exactUpTo: 1000 })));
    assert.ok(proxy.openFromDriver() >= 2, 'the pool and the LISTEN connection are open');
    proxy.cut();
    stop();
    // Before: close() waited for the server to answer Terminate on the LISTEN connection, which
    // never came (the test timed out); the pool's sockets stayed open and kept the process alive.
    await driver.close();
    const deadline = Date.now() + 10_000;
    while (proxy.openFromDriver() > 0 && Date.now() < deadline) await delay(50);
    assert.equal(proxy.openFromDriver(), 0, 'every socket the driver opened is closed');
  });

  it('a process whose connections the network swallowed exits on its own once it closed the driver', {
    timeout: 60_000,
  }, async () => {
    const { url, schema, drop } = await createIsolatedSchema();
    const proxy = await startProxy(new URL(url));
    const migrating = postgresDriver({ connectionString: url, schema });
    await migrating.migrate();
    await migrating.close();
    const child = spawn(process.execPath, [compiledFixture(CLOSE_EXIT), proxy.url, schema], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    after(async () => {
      child.kill('SIGKILL');
      await proxy.close();
      await drop();
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    while (!/^ready$/m.test(out)) {
      assert.equal(child.exitCode, null, out);
      await delay(20);
    }
    proxy.cut();
    child.kill('SIGTERM');
    // Before: the pool's ended sockets waited for the server's FIN, and kept the process alive
    // for as long as the kernel retransmitted (~15 minutes).
    const code = await Promise.race([exited, delay(20_000, 'still running', { ref: false })]);
    assert.equal(code, 0, `the process exits by itself after closing (${out})`);
    assert.match(out, /^closed$/m);
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
