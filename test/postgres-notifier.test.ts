/**
 * PostgreSQL notifier: the LISTEN connection heals itself. A backend killed with
 * pg_terminate_backend and a TCP connection that silently stops answering both lead to a
 * reconnect, a fresh LISTEN on every channel, and a synthetic jobAvailable '*' so pools re-poll.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { jobParams } from '../src/driver/conformance/harness.js';
import { CHANNELS } from '../src/driver/driver.js';
import { PostgresNotifier } from '../src/drivers/postgres/notifier.js';
import {
  getAdminPool,
  getTestDatabaseUrl,
  openTestDriver,
  uniqueSchemaName,
  waitFor,
} from './support/postgres.js';

const job = (queue: string) => jobParams({ queue, maxAttempts: 1 });

/**
 * A TCP proxy to PostgreSQL whose open connections can be frozen: bytes stop flowing both ways
 * but no FIN or RST is sent, like a peer behind a dead NAT entry. New connections still work.
 */
async function startFreezableProxy(
  target: URL,
): Promise<{ port: number; freeze: () => void; close: () => Promise<void> }> {
  const pairs: [Socket, Socket][] = [];
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 5432), target.hostname);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    pairs.push([inbound, outbound]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    freeze: () => {
      for (const [inbound, outbound] of pairs) {
        inbound.unpipe(outbound);
        outbound.unpipe(inbound);
        inbound.pause();
        outbound.pause();
      }
    },
    close: async () => {
      for (const [inbound, outbound] of pairs) {
        inbound.destroy();
        outbound.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('postgres notifier', () => {
  it('reconnects after its backend is terminated, re-LISTENs, and wakes pools with "*"', async (t) => {
    const { driver, cleanup } = await openTestDriver();
    t.after(cleanup);
    const notifier = driver.notifier as PostgresNotifier;
    const heard: string[] = [];
    driver.notifier.listen(CHANNELS.jobAvailable, (payload) => heard.push(payload));
    const cancelled: string[] = [];
    driver.notifier.listen(CHANNELS.jobCancelled, (payload) => cancelled.push(payload));
    await waitFor('the LISTEN connection', () => notifier.backendPid);
    const firstPid = notifier.backendPid!;

    const admin = await getAdminPool();
    const { rows } = await admin.query('SELECT pg_terminate_backend($1) AS done', [firstPid]);
    assert.equal(rows[0].done, true);

    await waitFor('the synthetic wake-up', () => heard.includes('*'));
    assert.equal(notifier.reconnects, 1);
    assert.ok(notifier.backendPid !== null && notifier.backendPid !== firstPid, 'a new backend');
    assert.equal(cancelled.length, 0, 'only jobAvailable listeners get the synthetic wake-up');

    // Both channels are listened to again on the new connection.
    await driver.jobInsertMany({ jobs: [job('after-reconnect')] });
    await waitFor('a real wake-up after reconnecting', () => heard.includes('after-reconnect'));
    const [claimed] = await driver.jobClaim({
      queues: ['after-reconnect'],
      limit: 1,
      leaseMs: 60_000,
      poolId: 'w',
    });
    await driver.jobCancel({ ids: [claimed!.id] });
    await waitFor('a cancel notification after reconnecting', () => cancelled.includes(claimed!.id));
  });

  it('keeps retrying with backoff while the server refuses, without crashing', async (t) => {
    const url = new URL(await getTestDatabaseUrl());
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    let refuse = true;
    const notifier = new PostgresNotifier({
      pool,
      schema: uniqueSchemaName(),
      reconnectMinMs: 20,
      reconnectMaxMs: 50,
      createClient: () => {
        const target = new URL(url);
        if (refuse) target.port = '1';
        return new pg.Client({ connectionString: target.toString(), connectionTimeoutMillis: 1000 });
      },
    });
    t.after(async () => {
      await notifier.close();
      await pool.end();
    });
    const heard: string[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    notifier.listen(CHANNELS.jobAvailable, (payload) => heard.push(payload));
    await waitFor('a few refused attempts', () => warnings.length >= 1);
    assert.equal(notifier.connected, false);
    refuse = false;
    await waitFor('the connection once the server accepts', () => notifier.connected);
    await waitFor('the synthetic wake-up', () => heard.includes('*'));
    notifier.notify(CHANNELS.jobAvailable, 'q');
    await waitFor('a real notification', () => heard.includes('q'));
  });

  it('detects a silently dead connection with its liveness probe and reconnects', async (t) => {
    const url = new URL(await getTestDatabaseUrl());
    const proxy = await startFreezableProxy(url);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const notifier = new PostgresNotifier({
      pool,
      schema: uniqueSchemaName(),
      healthCheckIntervalMs: 100,
      healthCheckTimeoutMs: 200,
      reconnectMinMs: 10,
      createClient: () => new pg.Client({ connectionString: viaProxy.toString() }),
    });
    t.after(async () => {
      await notifier.close();
      await pool.end();
      await proxy.close();
    });
    const heard: string[] = [];
    notifier.listen(CHANNELS.jobAvailable, (payload) => heard.push(payload));
    await waitFor('the LISTEN connection', () => notifier.backendPid);
    notifier.notify(CHANNELS.jobAvailable, 'before');
    await waitFor('a notification through the proxy', () => heard.includes('before'));

    proxy.freeze();
    await waitFor('the synthetic wake-up after the probe failed', () => heard.includes('*'));
    assert.equal(notifier.reconnects, 1);
    notifier.notify(CHANNELS.jobAvailable, 'after');
    await waitFor('a notification on the new connection', () => heard.includes('after'));
  });
});
