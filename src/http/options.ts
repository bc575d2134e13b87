/**
 * The options of `createHttpHandler`, checked once at construction: a missing or malformed option
 * is an `InvalidOptionError` that names it and says what to configure (closed by default: there
 * is no implicit "no auth").
 */
import { randomBytes } from 'node:crypto';
import { assertKnownOptions, InvalidOptionError, optionNames } from '../index.js';

/** What a request wants to do: `read` for GET and HEAD, `write` for everything else. */
export type HttpAction = 'read' | 'write';

/**
 * Who may use the handler:
 * - `{ token }`: `Authorization: Bearer <token>`, or a browser session opened at `/login`;
 * - `{ basic: { username, password } }`: HTTP basic auth (the browser asks for it);
 * - `{ authorize(request, action) }`: your own check (your app's session, an SSO header…);
 *   return true to allow. Called for every request except `/healthz`, `/readyz` and `/login`;
 * - `'none'`: anyone who can reach the port. Local development only.
 */
export type HttpAuth =
  | { token: string }
  | { basic: { username: string; password: string } }
  | { authorize: (request: Request, action: HttpAction) => boolean | Promise<boolean> }
  | 'none';

/** The keys of every object form of `HttpAuth`; `keyof HttpAuth` alone is only the keys all forms share (none). */
type AuthKey<A> = A extends object ? keyof A : never;
/**
 * Every key of the object forms of `HttpAuth` (the compiler checks the list against it). A
 * misspelt kind is refused with the name it meant, before "give exactly one of…".
 */
const AUTH_OPTION_NAMES = optionNames<{ [K in AuthKey<HttpAuth>]: unknown }>({
  token: true,
  basic: true,
  authorize: true,
});
/** Every field of `auth.basic` (the compiler checks the list against it). */
const BASIC_AUTH_OPTION_NAMES = optionNames<Extract<HttpAuth, { basic: unknown }>['basic']>({
  username: true,
  password: true,
});

/** Thresholds `/readyz` checks besides the database (each optional; none by default). */
export interface ReadinessThresholds {
  /** Not ready while a due job of any queue has waited longer than this, in ms. */
  maxOldestPendingMs?: number;
  /** Not ready while more than this many due jobs wait in one queue. */
  maxPending?: number;
  /** How long the database checks may take before `/readyz` reports not ready, in ms. Default 5000. */
  timeoutMs?: number;
}

/** Every field of `ReadinessThresholds` (the compiler checks the list against it); any other key is refused. */
export const READINESS_THRESHOLD_NAMES = optionNames<ReadinessThresholds>({
  maxOldestPendingMs: true,
  maxPending: true,
  timeoutMs: true,
});

/** Options of `createHttpHandler`. */
export interface HttpHandlerOptions {
  /** Required: see `HttpAuth`. */
  auth: HttpAuth;
  /**
   * The path the handler is served under, e.g. `/admin/jobs` when mounted with
   * `app.use('/admin/jobs', …)`. Used for links, redirects and the session cookie's path; the
   * handler answers whether or not the host strips the prefix. Default `''` (the root).
   */
  basePath?: string;
  /** Refuse every state-changing request with 403 (`JOBWIRE_HTTP_READ_ONLY`). Default false. */
  readOnly?: boolean;
  /** Readiness thresholds of `/readyz`. */
  health?: ReadinessThresholds;
  /**
   * The key that signs session cookies and CSRF tokens. Default: random per handler (sessions end
   * when the process restarts). Give the same secret (≥ 32 characters) to every instance behind
   * one load balancer.
   */
  secret?: string;
  /** How long a browser session lasts, in ms. Default 12 hours. */
  sessionTtlMs?: number;
  /** Largest request body accepted, in bytes (413 above). Default 2 MiB. */
  maxBodyBytes?: number;
  /** Comment lines sent on an idle event stream, every this many ms. Default 15 000. */
  heartbeatMs?: number;
}

/** Every field of `HttpHandlerOptions` (the compiler checks the list against it); any other key is refused. */
const HANDLER_OPTION_NAMES = optionNames<HttpHandlerOptions>({
  auth: true,
  basePath: true,
  readOnly: true,
  health: true,
  secret: true,
  sessionTtlMs: true,
  maxBodyBytes: true,
  heartbeatMs: true,
});

/** The options after checking, with defaults applied. */
export interface ResolvedHttpOptions {
  auth: HttpAuth;
  basePath: string;
  readOnly: boolean;
  health: Required<Pick<ReadinessThresholds, 'timeoutMs'>> & ReadinessThresholds;
  secret: Buffer;
  sessionTtlMs: number;
  maxBodyBytes: number;
  heartbeatMs: number;
}

const AUTH_ADVICE =
  "pass auth: { token: process.env.JOBWIRE_HTTP_TOKEN }, auth: { basic: { username, password } }, or auth: { authorize(request, action) { … } } (auth: 'none' only for local development)";

function checkAuth(auth: unknown): HttpAuth {
  if (auth === 'none') return auth;
  if (auth === undefined || auth === null)
    throw new InvalidOptionError('auth', `is required: ${AUTH_ADVICE}`);
  if (typeof auth !== 'object')
    throw new InvalidOptionError('auth', `must be an object or 'none': ${AUTH_ADVICE}`);
  const given = auth as Record<string, unknown>;
  assertKnownOptions('auth', given, AUTH_OPTION_NAMES, 'auth option');
  const kinds = [...AUTH_OPTION_NAMES].filter((key) => given[key] !== undefined);
  if (kinds.length !== 1) {
    throw new InvalidOptionError('auth', `give exactly one of token, basic or authorize: ${AUTH_ADVICE}`);
  }
  if (kinds[0] === 'token') {
    if (typeof given.token !== 'string' || given.token.length < 16) {
      throw new InvalidOptionError(
        'auth.token',
        'must be a string of at least 16 characters (e.g. 32 random bytes in hex)',
      );
    }
  } else if (kinds[0] === 'basic') {
    const basic = given.basic as { username?: unknown; password?: unknown } | null;
    if (typeof basic === 'object' && basic !== null) {
      assertKnownOptions('auth.basic', basic, BASIC_AUTH_OPTION_NAMES, 'basic auth option');
    }
    if (typeof basic?.username !== 'string' || basic.username === '' || basic.username.includes(':')) {
      throw new InvalidOptionError('auth.basic.username', 'must be a non-empty string without ":"');
    }
    if (typeof basic.password !== 'string' || basic.password.length < 8) {
      throw new InvalidOptionError('auth.basic.password', 'must be a string of at least 8 characters');
    }
  } else if (typeof given.authorize !== 'function') {
    throw new InvalidOptionError('auth.authorize', 'must be a function (request, action) => boolean');
  }
  return auth as HttpAuth;
}

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(field, 'must be an integer >= 1');
  }
  return value;
}

/** The `basePath` as a prefix: '' or '/a/b' (no trailing slash). */
function checkBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(value)) {
    throw new InvalidOptionError(
      'basePath',
      'must be a path such as "/admin/jobs" (letters, digits, . _ ~ -)',
    );
  }
  return value.replace(/\/$/, '');
}

/** Check `options` (see the module comment); a key no option interface names is refused too. */
export function resolveHttpOptions(options: HttpHandlerOptions | undefined): ResolvedHttpOptions {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      'options',
      `createHttpHandler(jobwire, options) needs options with auth: ${AUTH_ADVICE}`,
    );
  }
  assertKnownOptions('', options, HANDLER_OPTION_NAMES, 'createHttpHandler option');
  const health = options.health ?? {};
  if (typeof health !== 'object' || health === null)
    throw new InvalidOptionError('health', 'must be an object');
  assertKnownOptions('health', health, READINESS_THRESHOLD_NAMES, 'readiness threshold');
  let secret: Buffer;
  if (options.secret === undefined) secret = randomBytes(32);
  else if (typeof options.secret !== 'string' || options.secret.length < 32) {
    throw new InvalidOptionError('secret', 'must be a string of at least 32 characters');
  } else secret = Buffer.from(options.secret);
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') {
    throw new InvalidOptionError('readOnly', 'must be a boolean');
  }
  return {
    auth: checkAuth(options.auth),
    basePath: checkBasePath(options.basePath),
    readOnly: options.readOnly === true,
    health: {
      maxOldestPendingMs:
        health.maxOldestPendingMs === undefined
          ? undefined
          : positiveInteger('health.maxOldestPendingMs', health.maxOldestPendingMs, 0),
      maxPending:
        health.maxPending === undefined
          ? undefined
          : positiveInteger('health.maxPending', health.maxPending, 0),
      timeoutMs: positiveInteger('health.timeoutMs', health.timeoutMs, 5000),
    },
    secret,
    sessionTtlMs: positiveInteger('sessionTtlMs', options.sessionTtlMs, 12 * 3_600_000),
    maxBodyBytes: positiveInteger('maxBodyBytes', options.maxBodyBytes, 2 * 1024 * 1024),
    heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 15_000),
  };
}
