/**
 * The dashboard in Chromium, behind the real handler (token sign-in, CSRF):
 * what a person sees once the browser is signed out while a page stays open — the session
 * expired, or the server restarted with a new secret. The handler answers those requests itself,
 * in JSON; the page must say "signed out" in words, never show raw JSON in the flash area or in
 * place of the jobs list, and not stand still in silence.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createHttpHandler, type HttpHandler, nodeListener } from '../src/http/index.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { textAt, waitUntil } from './support/dashboard-fixture.js';
import { TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard when the browser is signed out under an open page', () => {
  let browser: Browser;
  let jobwire: Jobwire;
  let server: Server;
  let origin: string;
  let cleanup: () => Promise<void>;
  const handlers: HttpHandler[] = [];
  /** The handler requests go to (swapped to simulate a restarted server with a new secret). */
  let listener: (req: IncomingMessage, res: ServerResponse) => void;

  const serve = (options: { secret: string; sessionTtlMs?: number }) => {
    const handler = createHttpHandler(jobwire, { auth: { token: TOKEN }, ...options });
    handlers.push(handler);
    listener = nodeListener(handler);
    return handler;
  };

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
    await jobwire.enqueue('echo', {}, { queue: 'signed' });
    server = createServer((req, res) => listener(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const handler of handlers) handler.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await jobwire?.close();
    await cleanup?.();
  });

  test('an action after the session expired says "signed out" with a way back, not raw JSON', async () => {
    serve({ secret: 'x'.repeat(40), sessionTtlMs: 2500 });
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/login?token=${TOKEN}`);
      await page.goto(`${origin}/queues`);
      await page.locator('tr[data-queue-row="signed"] button[data-action="pause-queue"]').waitFor();
      await page.waitForTimeout(3000); // the session expires
      await page.click('tr[data-queue-row="signed"] button[data-action="pause-queue"]');
      const flash = await waitUntil(
        'the flash area to answer',
        () => textAt(page, '#flash'),
        (text) => text.trim() !== '',
        10_000,
      );
      assert.doesNotMatch(flash, /"error"|JOBWIRE_|\\u003c/, 'no raw JSON');
      assert.match(flash, /signed out/i);
      assert.equal(await page.locator('#flash a').getAttribute('href'), `${origin}/queues`);
      assert.equal((await jobwire.listQueues()).find((q) => q.name === 'signed')?.paused, false);

      // A live re-fetch of the jobs list answered 401 must not replace the list with JSON.
      await page.goto(`${origin}/login?token=${TOKEN}`);
      await page.goto(`${origin}/jobs`);
      await page.locator('#job-list table').waitFor();
      await page.waitForTimeout(3000); // expired again; the open stream still pushes updates
      await jobwire.enqueue('echo', {}, { queue: 'signed' });
      await waitUntil(
        'the page to say it is signed out',
        () => textAt(page, '#flash'),
        (text) => /signed out/i.test(text),
        10_000,
      );
      const list = await textAt(page, '#job-list');
      assert.doesNotMatch(list, /"error"|JOBWIRE_/, 'the jobs list is not replaced by JSON');
    } finally {
      await page.close();
    }
  });

  test('a server restarted with a new secret: the open page says it is signed out', async () => {
    const first = serve({ secret: 'a'.repeat(40) });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/login?token=${TOKEN}`);
      await page.goto(`${origin}/`);
      await waitUntil(
        'the live stream to open',
        () => page.locator('#live-status').getAttribute('class'),
        (c) => c?.includes('on') === true,
      );
      // "Restart": the old handler's streams end; the new one signs with another secret.
      serve({ secret: 'b'.repeat(40) });
      first.close();
      const flash = await waitUntil(
        'the page to say it is signed out',
        () => textAt(page, '#flash'),
        (text) => /signed out/i.test(text),
        15_000,
      );
      assert.match(flash, /Reload to sign in again/);
      // Signing in again (another tab, the same browser) brings the page back to life.
      const other = await context.newPage();
      await other.goto(`${origin}/login?token=${TOKEN}`);
      await other.close();
      await waitUntil(
        'the live stream to reconnect and the notice to go',
        async () => [await page.locator('#live-status').getAttribute('class'), await textAt(page, '#flash')],
        ([light, text]) => light?.includes('on') === true && !/signed out/i.test(text ?? ''),
        80_000,
      );
    } finally {
      await context.close();
    }
  });
});
