/**
 * Serving `jobwire/http` from the CLI (`jobwire dashboard`, and `jobwire dev` / `npm start`):
 * the token (given, from JOBWIRE_HTTP_TOKEN, or generated for this run), the server, and the
 * sign-in link to print.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createHttpHandler, type HttpServer, serveHttp } from '../http/index.js';
import type { Jobwire } from '../index.js';
import { CliError, UsageError } from './args.js';

/** A served handler and how to reach it. */
export interface ServedDashboard {
  server: HttpServer;
  token: string;
  /** True when the token was generated for this run (print it). */
  generated: boolean;
  /** Opens a browser session: `<url>/login?token=…`. */
  loginUrl: string;
}

/** The session secret of a kept token: an HMAC of it, so it is as secret as the token. */
function sessionSecretOf(token: string): string {
  return createHmac('sha256', token).update('jobwire dashboard session secret').digest('hex');
}

/** The token: `--token`, else `$JOBWIRE_HTTP_TOKEN`, else a random one. */
export function resolveToken(given: string | undefined, env: NodeJS.ProcessEnv = process.env) {
  const token = given ?? (env.JOBWIRE_HTTP_TOKEN?.trim() || undefined);
  if (token === undefined) return { token: randomBytes(24).toString('base64url'), generated: true };
  if (token.length < 16 || /\s/.test(token)) {
    throw new UsageError(
      `${given !== undefined ? '--token' : 'JOBWIRE_HTTP_TOKEN'} must be at least 16 characters without spaces`,
      'e.g. openssl rand -hex 24, or leave it out to get a generated token',
    );
  }
  return { token, generated: false };
}

/**
 * Serve `client` over HTTP. `fallback`: when the port is taken, take any free port instead
 * (the demo must start even when 8080 is busy); otherwise a taken port is an error.
 */
export async function serveDashboard(
  client: Jobwire,
  options: { port: number; host: string; token?: string; readOnly?: boolean; fallback?: boolean },
): Promise<ServedDashboard> {
  const { token, generated } = resolveToken(options.token);
  const handler = createHttpHandler(client, {
    auth: { token },
    readOnly: options.readOnly,
    // A token the user keeps (--token, JOBWIRE_HTTP_TOKEN) keeps its browser sessions across
    // restarts: the secret that signs them is derived from it, not drawn anew per run (a restart
    // signed everyone out). A generated token changes per run, and so do its sessions.
    ...(generated ? {} : { secret: sessionSecretOf(token) }),
  });
  let server: HttpServer;
  try {
    server = await serveHttp(handler, { port: options.port, host: options.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && options.fallback)
      server = await serveHttp(handler, { port: 0, host: options.host });
    else if (code === 'EADDRINUSE') {
      throw new CliError(`port ${options.port} is in use`, 'pick another with --port (0: any free port)', {
        cause: error,
      });
    } else if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CliError(`cannot listen on host ${options.host}`, 'use --host 127.0.0.1 or 0.0.0.0', {
        cause: error,
      });
    } else throw error;
  }
  return { server, token, generated, loginUrl: `${server.url}/login?token=${encodeURIComponent(token)}` };
}
