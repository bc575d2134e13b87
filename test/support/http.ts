/**
 * Test support for the HTTP surface: a client on a fresh database of one driver, its handler, and
 * a request helper that talks to `handler.fetch` directly (no port) with the bearer token.
 */
import type { TestContext } from 'node:test';
import { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from '../../src/http/index.js';
import { type AnyTask, createJobwire, type Driver, type Jobwire } from '../../src/index.js';
import type { TestDatabase, TestDatabaseFactory } from './database.js';

/** The token of every test handler. */
export const TOKEN = 'test-token-0123456789abcdef';

/** A parsed answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers of many shapes.
  body: any;
}

/** Send one request to `handler` (JSON body when `body` is given; bearer token unless `headers` says otherwise). */
export async function call(
  handler: HttpHandler,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  for (const [key, value] of Object.entries(headers)) if (value === '') delete headers[key];
  const response = await handler.fetch(new Request(`http://jobwire.test${path}`, { method, headers, body }));
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** A client, its handler and its database; everything is closed after the test. */
export interface HttpFixture {
  jobwire: Jobwire;
  handler: HttpHandler;
  db: TestDatabase;
  driver: Driver;
  /** A second client + handler on the same database (a restarted server). */
  reopen(options?: Partial<HttpHandlerOptions>): Promise<{ jobwire: Jobwire; handler: HttpHandler }>;
}

export async function httpFixture(
  t: TestContext,
  factory: TestDatabaseFactory,
  options: { tasks?: AnyTask[]; http?: Partial<HttpHandlerOptions> } = {},
): Promise<HttpFixture> {
  const db = await factory.create();
  const closers: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await db.cleanup();
  });
  const open = async (extra: Partial<HttpHandlerOptions> = {}) => {
    const driver = await db.open();
    const jobwire = await createJobwire({ driver, tasks: options.tasks });
    const handler = createHttpHandler(jobwire, { auth: { token: TOKEN }, ...options.http, ...extra });
    closers.push(async () => {
      handler.close();
      await jobwire.close();
    });
    return { jobwire, handler, driver };
  };
  const first = await open();
  return { ...first, db, reopen: (extra) => open(extra) };
}
