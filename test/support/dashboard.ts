/**
 * The dashboard served the way the HTTP handler will mount it, minus auth: a bare Hono app,
 * optionally under a base path, with a strict Content-Security-Policy (so a page that needed an
 * inline script or style would break in the browser tests) and a CSRF check that refuses every
 * non-GET request without the token's header. Served by @hono/node-server on a free port.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { dashboardRoutes, type LiveOptions } from '../../src/http/dashboard/index.js';
import type { Jobwire } from '../../src/index.js';

/** The token the test app hands the pages and expects back. */
export const TEST_CSRF_TOKEN = 'test-csrf-token';

/** The policy of the tests: self only, no inline script or style. */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A served dashboard: its root URL (with the base path) and how to stop it. */
export interface ServedDashboard {
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** The test app (exported so tests can call `app.request` without a server). */
export function dashboardApp(
  jobwire: Jobwire,
  options: { basePath?: string; readOnly?: boolean; live?: LiveOptions } = {},
): Hono {
  const basePath = options.basePath ?? '';
  const root = new Hono();
  const app = basePath ? root.basePath(basePath) : root;
  app.use('*', async (c, next) => {
    if (
      c.req.method !== 'GET' &&
      c.req.method !== 'HEAD' &&
      c.req.header('x-jobwire-csrf') !== TEST_CSRF_TOKEN
    ) {
      return c.json({ error: { code: 'csrf', message: 'missing or wrong x-jobwire-csrf header' } }, 403);
    }
    await next();
    c.header('Content-Security-Policy', STRICT_CSP);
  });
  app.route(
    '/',
    dashboardRoutes({
      jobwire,
      readOnly: options.readOnly ?? false,
      basePath,
      csrfToken: () => TEST_CSRF_TOKEN,
      live: { coalesceMs: 200, pollMs: 100, ...options.live },
    }),
  );
  return root;
}

/** Serve the test app on 127.0.0.1 and a free port. */
export async function serveDashboard(
  jobwire: Jobwire,
  options: { basePath?: string; readOnly?: boolean; live?: LiveOptions } = {},
): Promise<ServedDashboard> {
  const app = dashboardApp(jobwire, options);
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      );
    },
  );
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}${options.basePath ?? ''}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Open event streams would hold the server open.
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
