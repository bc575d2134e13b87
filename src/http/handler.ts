/**
 * `createHttpHandler`: the HTTP API, health probes and browser sign-in of one client, as a
 * standard fetch handler (and its Hono app). It uses only the public client API; the client
 * itself has no HTTP dependency (this is the `jobwire/http` entry point).
 */
import { Hono } from 'hono';
import { InvalidOptionError, type Jobwire } from '../index.js';
import { addEventRoutes, StreamRegistry } from './api/events.js';
import { addJobRoutes } from './api/jobs.js';
import { addOperationRoutes } from './api/operations.js';
import { documentedMethods, queryRules, refuseUnknownQuery } from './api/query.js';
import { csrfToken, Guard, type HttpEnv, routePath } from './auth.js';
import { dashboardRoutes } from './dashboard/index.js';
import { errorAnswer } from './errors.js';
import { securityHeaders } from './headers.js';
import { addHealthRoutes } from './health.js';
import { addLoginRoutes } from './login.js';
import { openApiDocument } from './openapi.js';
import { type HttpHandlerOptions, resolveHttpOptions } from './options.js';
import { json } from './respond.js';

/** What `createHttpHandler` returns. */
export interface HttpHandler {
  /** Answer one request (a standard fetch handler: Deno, Bun, Workers-style hosts, tests). */
  fetch(request: Request): Promise<Response>;
  /**
   * The Hono app, to add routes that run behind the same authentication, CSRF check and
   * security headers (`app.route('/', sub)`). Call `fetch` above rather than `app.fetch`.
   */
  readonly app: Hono<HttpEnv>;
  /** The base path it was given ('' for the root). */
  readonly basePath: string;
  /** Whether write requests are refused. */
  readonly readOnly: boolean;
  /** End every open event stream (before closing the client, or on shutdown). */
  close(): void;
}

/** Version of the HTTP API (the OpenAPI document's `info.version`). */
export const HTTP_API_VERSION = '1.0.0';

/**
 * The HTTP handler of `jobwire`. `options.auth` is required (see `HttpAuth`): without it this
 * throws an `InvalidOptionError` that says what to configure.
 *
 * @example
 * const handler = createHttpHandler(jobwire, { auth: { token: process.env.JOBWIRE_HTTP_TOKEN! } });
 * serveHttp(handler, { port: 8080 });
 */
export function createHttpHandler(jobwire: Jobwire, options: HttpHandlerOptions): HttpHandler {
  if (typeof (jobwire as Partial<Jobwire> | undefined)?.listJobs !== 'function') {
    throw new InvalidOptionError('jobwire', 'pass the client createJobwire() returned');
  }
  const resolved = resolveHttpOptions(options);
  const { basePath } = resolved;
  const guard = new Guard(resolved);
  const streams = new StreamRegistry();
  // Routes are written without the base path; a host that leaves the prefix on is served too.
  const app = new Hono<HttpEnv>({ getPath: (request) => routePath(new URL(request.url).pathname, basePath) });

  app.use('*', securityHeaders());
  app.use('*', guard.middleware());
  addHealthRoutes(app, jobwire, resolved.health);
  addLoginRoutes(app, guard, basePath, resolved.sessionTtlMs);
  const document = openApiDocument(basePath, HTTP_API_VERSION);
  // Before every API route: a query parameter the route's document does not list is refused.
  app.use('/api/*', refuseUnknownQuery(document, basePath));
  app.get('/api/openapi.json', () => json(document));
  addJobRoutes(app, jobwire, resolved.maxBodyBytes);
  addOperationRoutes(app, jobwire, resolved.maxBodyBytes);
  addEventRoutes(app, jobwire, resolved.heartbeatMs, streams);
  // The dashboard's pages run behind the same sign-in, CSRF check and headers as the API.
  const closing = new AbortController();
  app.route(
    '/',
    dashboardRoutes({
      jobwire,
      readOnly: resolved.readOnly,
      basePath,
      csrfToken,
      signOut: guard.sessions,
      signal: closing.signal,
    }),
  );

  const rules = queryRules(document);
  app.notFound((c) => {
    const path = routePath(c.req.path, basePath);
    const allowed = documentedMethods(rules, path);
    if (allowed.length > 0) {
      const message = `${c.req.method} is not a method of ${path}: use ${allowed.join(', ')}.`;
      return json({ error: { code: 'JOBWIRE_HTTP_METHOD_NOT_ALLOWED', message } }, 405, {
        allow: allowed.join(', '),
      });
    }
    const message = `No route for ${c.req.method} ${path}.`;
    return json({ error: { code: 'JOBWIRE_HTTP_NOT_FOUND', message } }, 404);
  });
  app.onError((error) => {
    const { status, body } = errorAnswer(error);
    return json(body, status);
  });

  return {
    fetch: async (request) => app.fetch(request),
    app,
    basePath,
    readOnly: resolved.readOnly,
    close: () => {
      streams.closeAll();
      closing.abort();
    },
  };
}
