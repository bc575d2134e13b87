/**
 * The guard every request passes before any route (the dashboard's included): authentication
 * (action `read` for GET/HEAD/OPTIONS, `write` otherwise), read-only mode, and CSRF.
 *
 * CSRF: a state-changing request that does not carry `Authorization: Bearer` may come from a
 * browser's ambient credentials (a session cookie, basic auth the browser remembers, whatever an
 * `authorize` hook reads). It must carry header `x-jobwire-csrf` with the token `csrfToken(c)`
 * gave the page, and must not come from another site (`Sec-Fetch-Site`, else `Origin`). A
 * request with a bearer token needs neither: another site cannot make a browser send that header.
 * Nor does one with an `Authorization` header (basic) and neither `Sec-Fetch-Site` nor `Origin`:
 * browsers send one of them with every state-changing request, so it comes from a script.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { HttpError } from './errors.js';
import type { HttpAction, ResolvedHttpOptions } from './options.js';
import { json } from './respond.js';
import { CSRF_COOKIE, CSRF_HEADER, randomId, SESSION_COOKIE, SessionKeys, sameSecret } from './session.js';
import { endWithSession } from './session-streams.js';

/** The Hono environment of the handler's app: what the guard leaves for routes. */
export type HttpEnv = {
  Variables: {
    /** The CSRF token of this browser (see `csrfToken`). */
    jobwireCsrf: string;
    /** What the token is bound to: the session id or the `jobwire_csrf` cookie. */
    jobwireCsrfBinding: string;
  };
};

/**
 * The CSRF token a page must send back in header `x-jobwire-csrf` with every state-changing
 * request (htmx: `hx-headers`). Only inside routes of the jobwire handler's app.
 */
export function csrfToken(c: Context): string {
  const token = (c as Context<HttpEnv>).get('jobwireCsrf');
  if (typeof token !== 'string') {
    throw new Error(
      'jobwire: csrfToken(c) works only inside routes of the handler createHttpHandler returns',
    );
  }
  return token;
}

/**
 * Paths that need no credentials: probes, the login page that hands them out, and the stylesheet
 * and icon that page shows (static files of the package, the same for everyone: they reveal
 * nothing; the sign-in page was unstyled since they needed a sign-in).
 */
const PUBLIC_PATHS = new Set([
  '/healthz',
  '/readyz',
  '/login',
  '/assets/dashboard.css',
  '/assets/favicon.svg',
]);

/** The path the app routes on: the request's, without the base path when the host left it on. */
export function routePath(pathname: string, basePath: string): string {
  if (basePath && (pathname === basePath || pathname.startsWith(`${basePath}/`))) {
    return pathname.slice(basePath.length) || '/';
  }
  return pathname;
}

/** Whether the browser reached us over HTTPS (directly or through a proxy that says so). */
export function isSecure(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

type Verdict = 'allow' | 'unauthenticated' | 'bad-credentials' | 'forbidden';

/** See the module comment. One per handler. */
export class Guard {
  readonly keys: SessionKeys;
  readonly #options: ResolvedHttpOptions;

  constructor(options: ResolvedHttpOptions) {
    this.#options = options;
    const { auth } = options;
    const credentials =
      auth === 'none'
        ? 'none'
        : 'token' in auth
          ? `token:${auth.token}`
          : 'basic' in auth
            ? `basic:${auth.basic.username}:${auth.basic.password}`
            : 'authorize';
    this.keys = new SessionKeys(options.secret, credentials);
  }

  /** Whether sessions (the `/login` page) exist: with a token only. */
  get sessions(): boolean {
    const { auth } = this.#options;
    return auth !== 'none' && 'token' in auth;
  }

  /** The configured token (sessions only). */
  get token(): string | undefined {
    const { auth } = this.#options;
    return auth !== 'none' && 'token' in auth ? auth.token : undefined;
  }

  /** The cookie options of this handler (the path is the base path). */
  cookieOptions(c: Context, maxAgeSeconds?: number) {
    return {
      path: this.#options.basePath || '/',
      httpOnly: true,
      sameSite: 'Strict' as const,
      secure: isSecure(c),
      ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
    };
  }

  /** The middleware (see the module comment). */
  middleware(): MiddlewareHandler<HttpEnv> {
    return async (c, next) => {
      const path = routePath(new URL(c.req.url).pathname, this.#options.basePath);
      const safe = c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS';
      const session = this.sessions ? this.keys.session(getCookie(c, SESSION_COOKIE), Date.now()) : undefined;
      const sessionId = session?.id;
      const cookieBinding = getCookie(c, CSRF_COOKIE);
      const known =
        sessionId ??
        (cookieBinding && /^[A-Za-z0-9_-]{16,64}$/.test(cookieBinding) ? cookieBinding : undefined);
      const binding = known ?? randomId();
      c.set('jobwireCsrfBinding', binding);
      c.set('jobwireCsrf', this.keys.csrfToken(binding));

      if (!PUBLIC_PATHS.has(path)) {
        const action: HttpAction = safe ? 'read' : 'write';
        const verdict = await this.#authenticate(c, action, sessionId);
        if (verdict !== 'allow') return this.#refuse(c, verdict, path);
        if (!safe) {
          if (this.#options.readOnly && path !== '/logout') {
            throw new HttpError(
              403,
              'JOBWIRE_HTTP_READ_ONLY',
              'This jobwire HTTP API is read-only: changes are refused.',
            );
          }
          this.checkCsrf(c, binding);
        }
      }
      await next();
      // Signed in by the session alone: a stream it opened ends when the session does.
      if (session && !c.req.header('authorization')) c.res = endWithSession(c.res, session.expiresAt);
      // A page served to a browser without a binding: give it one, so its forms can be checked.
      // Not to probes or bearer clients, which never send cookies back.
      const bearer = /^Bearer\s/i.test(c.req.header('authorization') ?? '');
      if (safe && !known && !bearer && path !== '/healthz' && path !== '/readyz') {
        setCookie(c, CSRF_COOKIE, binding, this.cookieOptions(c));
      }
    };
  }

  /**
   * Refuse a cross-site request or one without the right CSRF token (HttpError 403). `formToken`:
   * a token sent in a form field instead of the header (the login form).
   */
  checkCsrf(c: Context, binding: string, formToken?: string): void {
    const authorization = c.req.header('authorization') ?? '';
    if (/^Bearer\s/i.test(authorization)) return;
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    // Credentials in the request itself, from a client that is not a browser: every browser
    // sends Sec-Fetch-Site or Origin with a state-changing request (a forged form post included),
    // so a request with neither did not come from a page, and a script (curl -u, a deploy job)
    // has no page to take a token from.
    if (authorization && site === undefined && origin === undefined) return;
    if (site !== undefined && site !== 'same-origin') {
      throw csrfError(`cross-site request refused (Sec-Fetch-Site: ${site})`);
    }
    if (site === undefined && origin !== undefined) {
      const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (!host || originHost !== host) throw csrfError(`cross-site request refused (Origin: ${origin})`);
    }
    const token = c.req.header(CSRF_HEADER) ?? formToken;
    if (!this.keys.csrfValid(binding, token)) {
      throw csrfError(
        `missing or invalid ${CSRF_HEADER} header: send the token the page was given, or use Authorization: Bearer`,
      );
    }
  }

  async #authenticate(c: Context, action: HttpAction, sessionId: string | undefined): Promise<Verdict> {
    const { auth } = this.#options;
    if (auth === 'none') return 'allow';
    if ('authorize' in auth) {
      const request = c.req.raw;
      if (await auth.authorize(request, action)) return 'allow';
      if (action === 'write' && (await auth.authorize(request, 'read'))) return 'forbidden';
      return 'unauthenticated';
    }
    const header = c.req.header('authorization') ?? '';
    if ('token' in auth) {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (bearer) return sameSecret(bearer[1]!, auth.token) ? 'allow' : 'bad-credentials';
      if (header) return 'bad-credentials';
      return sessionId ? 'allow' : 'unauthenticated';
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!basic) return header ? 'bad-credentials' : 'unauthenticated';
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return 'bad-credentials';
    const userOk = sameSecret(decoded.slice(0, colon), auth.basic.username);
    const passwordOk = sameSecret(decoded.slice(colon + 1), auth.basic.password);
    return userOk && passwordOk ? 'allow' : 'bad-credentials';
  }

  #refuse(c: Context, verdict: Exclude<Verdict, 'allow'>, path: string): Response {
    if (verdict === 'forbidden') {
      return json(
        { error: { code: 'JOBWIRE_HTTP_FORBIDDEN', message: 'Not allowed to change anything here.' } },
        403,
      );
    }
    const { auth, basePath } = this.#options;
    const isBasic = auth !== 'none' && 'basic' in auth;
    const wantsPage =
      c.req.method === 'GET' &&
      !path.startsWith('/api/') &&
      (c.req.header('accept') ?? '').includes('text/html');
    if (wantsPage && this.sessions) {
      const url = new URL(c.req.url);
      const next = `${basePath}${path}${url.search}`;
      return new Response(null, {
        status: 302,
        headers: { location: `${basePath}/login?next=${encodeURIComponent(next)}` },
      });
    }
    const message =
      verdict === 'bad-credentials'
        ? 'The credentials are not valid.'
        : isBasic
          ? 'Sign in with the configured username and password (HTTP basic auth).'
          : this.sessions
            ? 'Send Authorization: Bearer <token>, or sign in at /login.'
            : 'Not signed in.';
    // Every 401 carries a challenge (RFC 9110 requires one). An authorize hook's scheme is its
    // own business, so it gets Bearer: what API clients send, and unlike Basic it does not make
    // a browser pop up a password dialog the hook may not read.
    // A token that was sent and refused says so (RFC 6750 §3.1), so a client knows to get a new
    // one rather than to add one.
    const challenge = isBasic
      ? 'Basic realm="jobwire", charset="UTF-8"'
      : verdict === 'bad-credentials'
        ? 'Bearer realm="jobwire", error="invalid_token"'
        : 'Bearer realm="jobwire"';
    return json({ error: { code: 'JOBWIRE_HTTP_UNAUTHORIZED', message } }, 401, {
      'www-authenticate': challenge,
    });
  }
}

function csrfError(message: string): HttpError {
  return new HttpError(403, 'JOBWIRE_HTTP_CSRF', `CSRF check failed: ${message}.`);
}
