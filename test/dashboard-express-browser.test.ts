/**
 * The whole HTTP surface as a person meets it: `createHttpHandler` (token sign-in, CSRF check,
 * CSP) mounted under `/admin/jobs` of an Express app, opened in a real Chromium. Without
 * credentials the API answers 401 and a page sends the browser to the sign-in form; after the
 * sign-in link the live dashboard works under the sub-path, its actions pass the real CSRF check,
 * and markup in a payload is shown as text.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { createHttpHandler, type HttpHandler, nodeListener } from '../src/http/index.js';
import { launchBrowser } from './support/browser.js';
import {
  type DashboardFixture,
  HOSTILE,
  pwned,
  seeCountsChangeLive,
  seeFailedJobThenRetry,
  startFixture,
  textAt,
  watchProblems,
} from './support/dashboard-fixture.js';
import { TOKEN } from './support/http.js';
import { sqliteDatabases } from './support/sqlite.js';

describe('dashboard behind the real handler, under a sub-path of Express, in Chromium', () => {
  let browser: Browser;
  let fixture: DashboardFixture;
  let handler: HttpHandler;
  let server: Server;
  let origin: string;
  let cleanup: () => Promise<void>;
  const base = () => `${origin}/admin/jobs`;

  before(async () => {
    const database = await sqliteDatabases.create();
    cleanup = database.cleanup;
    fixture = await startFixture(await database.open());
    handler = createHttpHandler(fixture.jobwire, { auth: { token: TOKEN }, basePath: '/admin/jobs' });
    const app = express();
    app.get('/', (_req, res) => {
      res.send('host home');
    });
    app.use('/admin/jobs', nodeListener(handler));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    handler?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await fixture?.close();
    await cleanup?.();
  });

  async function signedIn(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(`${base()}/login?token=${encodeURIComponent(TOKEN)}`);
    return { page, problems };
  }

  test('without credentials: the API is 401 and a page leads to the sign-in form', async () => {
    const page = await (await browser.newContext()).newPage();
    const api = await page.goto(`${base()}/api/jobs`);
    assert.equal(api?.status(), 401);
    assert.match(
      (await page.locator('body').textContent()) ?? '',
      /JOBWIRE_HTTP_UNAUTHORIZED|credentials|sign in/i,
    );
    await page.goto(`${base()}/jobs`);
    assert.match(new URL(page.url()).pathname, /^\/admin\/jobs\/login/);
    assert.equal(await page.locator('form input[name="token"]').count(), 1, 'the sign-in form');
    await page.context().close();
  });

  test('signed in: counts change live under the sub-path, without reloading', async () => {
    const { page, problems } = await signedIn();
    assert.equal(new URL(page.url()).pathname.startsWith('/admin/jobs'), true, page.url());
    const sameDocument = await seeCountsChangeLive(page, fixture, base(), 'sub');
    assert.equal(sameDocument, true, 'the page was reloaded');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test("a failed job's stack and timeline, then Retry through the real CSRF check, to completion", async () => {
    const { page, problems } = await signedIn();
    const { before: seen, after: done } = await seeFailedJobThenRetry(page, fixture, base(), 'sub');
    assert.equal(seen.state, 'abandoned');
    assert.match(seen.stack, /^Error: flaky failed <script>/);
    assert.deepEqual(done.timeline.slice(-3), ['job:retried', 'job:started', 'job:completed']);
    assert.equal(await pwned(page), undefined);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a payload holding <script> is shown as text and never runs', async () => {
    const { page, problems } = await signedIn();
    const job = await fixture.jobwire.enqueue('echo', { html: HOSTILE }, { queue: 'sub' });
    await fixture.jobwire.waitForJob(job.id, { timeoutMs: 20_000 });
    await page.goto(`${base()}/jobs/${job.id}`);
    assert.match(await textAt(page, '#job-payload pre'), /<script>window.__pwned = 1<\/script>/);
    assert.equal(await pwned(page), undefined);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
