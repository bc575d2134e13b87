/**
 * What a metrics endpoint answers to anything but `GET`/`HEAD /metrics`, shared by the metrics
 * sink's server and `jobwire metrics` while it has no database (which must not load prom-client,
 * an optional peer, to say so).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answer a request for another path (404) or with another method (405) and return true; return
 * false for `GET`/`HEAD /metrics`, which the caller answers.
 */
export function refuseNonMetricsRequest(request: IncomingMessage, response: ServerResponse): boolean {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== '/metrics') {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
    return true;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end();
    return true;
  }
  return false;
}
