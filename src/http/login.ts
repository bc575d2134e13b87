/**
 * The browser sign-in of a token-protected handler: `GET /login?token=…` (the link `jobwire
 * dashboard` prints) or the small form at `GET /login` set an HttpOnly, SameSite=Strict session
 * cookie and redirect to the dashboard; `POST /logout` ends it. The page has no script and no
 * inline style (the Content-Security-Policy allows neither).
 */
import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { type Guard, type HttpEnv, isSecure } from './auth.js';
import { HttpError } from './errors.js';
import { readBody } from './respond.js';
import { SESSION_COOKIE, sameSecret } from './session.js';

/** Escape text for HTML (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Where to go after signing in: a path under the base path, never another site. */
function safeNext(next: string | undefined, basePath: string): string {
  const home = `${basePath}/`;
  if (!next?.startsWith(home) || next.startsWith('//') || next.includes('\\')) return home;
  return next;
}

function page(c: Context<HttpEnv>, basePath: string, next: string, problem?: string): Response {
  const csrf = c.get('jobwireCsrf');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · jobwire</title>
<link rel="icon" href="${escapeHtml(`${basePath}/assets/favicon.svg`)}" type="image/svg+xml">
<link rel="stylesheet" href="${escapeHtml(`${basePath}/assets/dashboard.css`)}"></head>
<body class="sign-in"><main><h1>jobwire</h1>
${problem ? `<p role="alert"><strong>${escapeHtml(problem)}</strong></p>` : ''}
<form method="post" action="${escapeHtml(`${basePath}/login`)}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
<p>The token is the one the server was started with (<code>jobwire dashboard</code> prints a sign-in link).</p>
</main></body></html>`;
  return new Response(html, {
    status: problem ? 401 : 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** Add `/login` and `/logout` to `app` (token auth only; other modes answer 404 there). */
export function addLoginRoutes(app: Hono<HttpEnv>, guard: Guard, basePath: string, ttlMs: number): void {
  const signIn = (c: Context<HttpEnv>, next: string): Response => {
    setCookie(
      c,
      SESSION_COOKIE,
      guard.keys.issue(Date.now() + ttlMs),
      guard.cookieOptions(c, Math.floor(ttlMs / 1000)),
    );
    c.header('location', next);
    c.header('cache-control', 'no-store');
    return c.body(null, 303);
  };
  const notHere = () => {
    throw new HttpError(
      404,
      'JOBWIRE_HTTP_NOT_FOUND',
      'No sign-in page: this handler does not use token auth.',
    );
  };

  app.get('/login', (c) => {
    const token = guard.token;
    if (token === undefined) return notHere();
    const next = safeNext(c.req.query('next'), basePath);
    const given = c.req.query('token');
    if (given === undefined) return page(c, basePath, next);
    if (!sameSecret(given, token)) return page(c, basePath, next, 'That token is not valid.');
    return signIn(c, next);
  });

  app.post('/login', async (c) => {
    const token = guard.token;
    if (token === undefined) return notHere();
    const text = new TextDecoder().decode(await readBody(c.req.raw, 16 * 1024));
    const form = new URLSearchParams(text);
    // Login CSRF: the form must come from our own page (its token and the browser's binding).
    guard.checkCsrf(c, c.get('jobwireCsrfBinding'), form.get('csrf') ?? undefined);
    const next = safeNext(form.get('next') ?? undefined, basePath);
    if (!sameSecret(form.get('token') ?? '', token))
      return page(c, basePath, next, 'That token is not valid.');
    return signIn(c, next);
  });

  app.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: basePath || '/', secure: isSecure(c) });
    c.header('location', `${basePath}/login`);
    return c.body(null, 303);
  });
}
