/**
 * What the dashboard browser tests share: a client with three tasks whose behaviour the test
 * steers (`hold` waits for a gate, `flaky` fails until told not to, `echo` returns its payload),
 * a running pool, and page helpers that wait for what a person would see.
 */
import type { Page } from 'playwright-core';
import type { Driver } from '../../src/driver/driver.js';
import { createJobwire, defineTask, type Jobwire, type Pool } from '../../src/index.js';

/** The markup the XSS checks put in payloads and errors; it sets `window.__pwned` if it ever runs. */
export const HOSTILE = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">';

/** A client, its pool and the levers the tests pull. */
export interface DashboardFixture {
  jobwire: Jobwire;
  pool: Pool;
  /** Let every `hold` job (running or to come) finish. */
  release(): void;
  /** Make `flaky` fail (true) or succeed (false). */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

/** Open a client on `driver` with the test tasks and start a pool of 8 workers. */
export async function startFixture(driver: Driver): Promise<DashboardFixture> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let failing = true;
  const hold = defineTask({
    name: 'hold',
    handler: async () => {
      await gate;
      return { held: true };
    },
  });
  const flaky = defineTask({
    name: 'flaky',
    maxAttempts: 1,
    handler: async function flakyHandler(payload: { note?: string }) {
      if (failing) throw new Error(`flaky failed ${HOSTILE}`);
      return { fixed: true, note: payload.note ?? null };
    },
  });
  const echo = defineTask({ name: 'echo', handler: async (payload: unknown) => payload });
  const jobwire = await createJobwire({ driver, tasks: [hold, flaky, echo] });
  const pool = jobwire.createPool({ concurrency: 8, queues: ['default', 'live', 'xss', 'ro', 'sub', 'pg'] });
  await pool.start();
  return {
    jobwire,
    pool,
    release: () => release(),
    setFailing: (value) => {
      failing = value;
    },
    close: async () => {
      release();
      await jobwire.close();
    },
  };
}

/**
 * Resolve once `read()` (which asks the page something) returns a value `accept` likes; fail
 * naming `what`, with the last value seen, after `timeoutMs`. Polled from the test, so the page
 * runs no test code.
 */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(last)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The trimmed text of the first element at `selector` ('' when there is none). */
export async function textAt(page: Page, selector: string): Promise<string> {
  // One read that never waits: counting first and then reading raced a live swap that removed
  // the element in between, and the read then waited 30 s for it to come back.
  const [first] = await page.locator(selector).allTextContents();
  return (first ?? '').trim();
}

/** Wait until the element at `selector` shows exactly `text` (trimmed). */
export function waitForText(page: Page, selector: string, text: string, timeoutMs?: number): Promise<string> {
  return waitUntil(
    `${selector} to read "${text}"`,
    () => textAt(page, selector),
    (t) => t === text,
    timeoutMs,
  );
}

/** What the hostile markup set on `window`, if it ever ran (undefined when it did not). */
export function pwned(page: Page): Promise<unknown> {
  return page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
}

/**
 * Collect what would show a broken page: Content-Security-Policy violations (an inline script or
 * style the policy blocked), uncaught page errors and failed loads. Check it at the end of a test.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A navigation cuts the live stream and whatever was still loading (the favicon): not a failure.
    const reason = request.failure()?.errorText ?? '';
    if (!request.url().includes('/ui/live') && reason !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()} (${reason})`);
    }
  });
  return problems;
}

/** Element selectors the tests read (the pages' own data attributes). */
export const countCell = (queue: string, state: string) =>
  `#counts td[data-queue="${queue}"][data-state="${state}"]`;

/** The `data-event` of every timeline entry on a job page, in order. */
export function timelineEvents(page: Page): Promise<string[]> {
  return page
    .locator('ol.timeline li')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-event') ?? ''));
}

/**
 * Open the overview, enqueue `count` held jobs on `queue`, and see them counted as running, then
 * — once released — as completed, in the same document (no reload) and in the chart.
 */
export async function seeCountsChangeLive(
  page: Page,
  fixture: DashboardFixture,
  url: string,
  queue: string,
  count = 5,
) {
  await page.goto(url);
  // A mark on the document: a reload or navigation would lose it.
  await page.evaluate(() => {
    (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument = true;
  });
  await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
  await fixture.jobwire.enqueueMany(
    Array.from({ length: count }, () => ({ task: 'hold', payload: {}, options: { queue } })),
  );
  await waitForText(page, countCell(queue, 'running'), String(count));
  fixture.release();
  await waitForText(page, countCell(queue, 'completed'), String(count));
  await waitForText(page, countCell(queue, 'running'), '0');
  await waitUntil(
    `the chart of ${queue} to count ${count} completions`,
    () =>
      page.locator(`figure.chart[data-queue="${queue}"]`).getAttribute('data-completed', { timeout: 20_000 }),
    (value) => value === String(count),
  );
  return page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument === true);
}

/**
 * Enqueue a `flaky` job that fails for good, open its page and read its stack and timeline; then
 * let `flaky` succeed, press Retry and see the job complete on the same page.
 */
export async function seeFailedJobThenRetry(
  page: Page,
  fixture: DashboardFixture,
  url: string,
  queue: string,
) {
  fixture.setFailing(true);
  const job = await fixture.jobwire.enqueue('flaky', { note: 'retry me' }, { queue });
  await waitUntil(
    'the job to be abandoned',
    () => fixture.jobwire.getJob(job.id),
    (j) => j?.state === 'abandoned',
  );
  await page.goto(`${url}/jobs/${job.id}`);
  const before = {
    state: await textAt(page, '#job h1 .badge'),
    message: await textAt(page, 'pre.message'),
    stack: await textAt(page, 'pre.stack'),
    timeline: await timelineEvents(page),
  };
  fixture.setFailing(false);
  await page.locator('#live-status.on').waitFor({ timeout: 20_000 });
  await page.click('button[data-action="retry"]');
  const flash = await waitForText(page, '#flash', `Job #${job.id} will run again.`);
  await waitForText(page, '#job h1 .badge', 'completed');
  const timeline = await waitUntil(
    'the timeline to show the retry and the completion',
    () => timelineEvents(page),
    (events) => events.includes('job:retried') && events.includes('job:completed'),
  );
  return { job, before, flash, after: { timeline, result: await textAt(page, '#job-result pre') } };
}
