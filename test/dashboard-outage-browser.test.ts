/**
 * The database goes away under an open dashboard (behind the real handler). The page must say
 * so — the live light and a short notice — instead of looking current with frozen counts; a page
 * loaded meanwhile is a readable HTML page that says what happened and that it retries, not the
 * API's JSON; and everything comes back by itself when the database does.
 *
 * The outage is a driver whose every call fails the way a lost connection does
 * (StorageError, kind 'unavailable') while `down` is set.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Driver } from '../src/driver/driver.js';
import { createHttpHandler, type HttpHandler, nodeListener } from '../src/http/index.js';
import { createJobwire, defineTask, type Jobwire, StorageError } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { textAt, waitUntil } from './support/dashboard-fixture.js';
import { sqliteDatabases } from './support/sqlite.js';

/** Driver members that are not asynchronous calls to the database. */
const LOCAL = new Set(['notify', 'listen', 'close', 'then']);

describe('dashboard while the database is down', () => {
  let browser: Browser;
  let jobwire: Jobwire;
  let server: Server;
  let origin: string;
  let handler: HttpHandler;
  let cleanup: () => Promise<void>;
  let down = false;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const real = await database.open();
    const driver = new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || LOCAL.has(String(prop))) return value;
        return (...args: unknown[]) => {
          if (down)
            return Promise.reject(
              new StorageError('connect ECONNREFUSED 127.0.0.1:5432 (test outage)', { kind: 'unavailable' }),
            );
          return value.apply(target, args);
        };
      },
    }) as Driver;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver, tasks: [echo] });
    await jobwire.enqueue('echo', {}, { queue: 'outage' });
    handler = createHttpHandler(jobwire, { auth: 'none' });
    server = createServer(nodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    down = false;
    await browser?.close();
    handler?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await jobwire?.close();
    await cleanup?.();
  });

  test('the open page shows the outage, a page loaded meanwhile is readable HTML, both recover', async () => {
    const page = await browser.newPage();
    const fresh = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('#live-notice').isVisible(), false);

      down = true;
      const notice = await waitUntil(
        'the page to say the job store is unavailable',
        () => textAt(page, '#live-notice'),
        (text) => /unavailable/i.test(text),
        15_000,
      );
      assert.match(notice, /retr/i, 'it says it keeps trying');
      assert.match((await page.locator('#live-status').getAttribute('class')) ?? '', /\bdown\b/);
      assert.doesNotMatch((await page.locator('#live-status').getAttribute('class')) ?? '', /\bon\b/);

      const response = await fresh.goto(`${origin}/jobs?queue=outage`);
      assert.equal(response?.status(), 503);
      assert.match(response?.headers()['content-type'] ?? '', /text\/html/);
      const body = await textAt(fresh, 'main');
      assert.doesNotMatch(body, /"error"|JOBWIRE_/, 'not the API’s JSON');
      assert.match(body, /job store is unavailable/i);
      assert.match(body, /tries again|try again/i);
      assert.match(await fresh.title(), /unavailable/i);

      down = false;
      await waitUntil(
        'the notice to go and the light to turn on again',
        async () => [
          await page.locator('#live-status').getAttribute('class'),
          await textAt(page, '#live-notice'),
        ],
        ([light, text]) => /\bon\b/.test(light ?? '') && text === '',
        15_000,
      );
      // The error page loads the page asked for by itself once the store is back.
      await waitUntil(
        'the jobs page to load by itself',
        // The page reloads itself: a read may meet the navigation.
        () => textAt(fresh, 'main h1').catch(() => ''),
        (t) => t === 'Jobs',
        15_000,
      );
    } finally {
      down = false;
      await page.close();
      await fresh.close();
    }
  });
});
