/**
 * `jobwire/http`: the HTTP API, health probes and browser sign-in of a jobwire client, mountable
 * in any app (see docs/http.md). A separate entry point, so the core has no HTTP dependency.
 *
 * @example
 * import { createHttpHandler, serveHttp } from 'jobwire/http';
 * const handler = createHttpHandler(jobwire, { auth: { token: process.env.JOBWIRE_HTTP_TOKEN! } });
 * await serveHttp(handler, { port: 8080 });
 */
export { MAX_EVENTS_PAGE } from './api/events.js';
export { MAX_JOBS_PAGE } from './api/jobs.js';
export { csrfToken, type HttpEnv } from './auth.js';
export { queueCounts } from './counts.js';
export { type ErrorBody, HttpError } from './errors.js';
export { createHttpHandler, HTTP_API_VERSION, type HttpHandler } from './handler.js';
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './headers.js';
export { type ReadinessReport, readiness } from './health.js';
export { escapeHtml } from './login.js';
export { type HttpServer, nodeListener, serveHttp } from './node.js';
export type { OpenApiDocument } from './openapi.js';
export type { HttpAction, HttpAuth, HttpHandlerOptions, ReadinessThresholds } from './options.js';
export { CSRF_HEADER } from './session.js';
