/**
 * Sign out, behind the real handler: with token sign-in (sessions) every page offers "Sign out"
 * (a POST to /logout carrying the CSRF token); it ends the session and lands on the sign-in page.
 * Modes without sessions (basic auth, none) show no such control.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createHttpHandler, type HttpHandler, nodeListener } from '../src/http/index.js';
import { createJobwire, defineTask, type Jobwire } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { watchProblems } from './support/dashboard-fixture.js';
import { TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard sign-out', () => {
  let browser: Browser;
  let jobwire: Jobwire;
  let server: Server;
  let origin: string;
  let handler: HttpHandler;
  let cleanup: () => Promise<void>;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
    jobwire = await createJobwire({ driver: await database.open(), tasks: [echo] });
    await jobwire.enqueue('echo', {}, { queue: 'out' });
    handler = createHttpHandler(jobwire, { auth: { token: TOKEN }, secret: 's'.repeat(40) });
    server = createServer(nodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    handler?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await jobwire?.close();
    await cleanup?.();
  });

  test('"Sign out" on a page ends the session and shows the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    try {
      await page.goto(`${origin}/login?token=${TOKEN}`);
      for (const path of ['/', '/jobs', '/queues', '/schedules', '/workers']) {
        await page.goto(`${origin}${path}`);
        assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1, `Sign out on ${path}`);
      }
      const form = page.locator('form[data-sign-out]');
      assert.equal(await form.getAttribute('method'), 'post');
      assert.equal(await form.getAttribute('action'), '/logout');
      assert.notEqual((await form.locator('input[name="csrf"]').inputValue()) || '', '');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${origin}/login`, { timeout: 10_000 });
      assert.equal(
        (await context.cookies()).some((c) => c.name === 'jobwire_session'),
        false,
        'the session cookie is gone',
      );
      // Signed out for real: a page now asks to sign in.
      await page.goto(`${origin}/jobs`);
      assert.match(page.url(), /\/login\?next=%2Fjobs$/);
      assert.deepEqual(
        problems.filter((p) => !/status of 40[13]/.test(p)),
        [],
      );
    } finally {
      await context.close();
    }
  });

  test('without sessions (basic auth, none) there is no Sign out', async () => {
    const basic = createHttpHandler(jobwire, { auth: { basic: { username: 'u', password: 'password-1' } } });
    const none = createHttpHandler(jobwire, { auth: 'none' });
    try {
      const auth = `Basic ${Buffer.from('u:password-1').toString('base64')}`;
      for (const [h, headers] of [
        [basic, { authorization: auth }],
        [none, {}],
      ] as const) {
        const response = await h.fetch(
          new Request('http://x/', { headers: { accept: 'text/html', ...headers } }),
        );
        assert.equal(response.status, 200);
        assert.doesNotMatch(await response.text(), /Sign out|data-sign-out/);
      }
    } finally {
      basic.close();
      none.close();
    }
  });
});
