/**
 * Browser sessions and CSRF tokens, both stateless HMACs under the handler's secret.
 *
 * - Session cookie `jobwire_session` = `<id>.<expiresAtMs>.<mac>`, the MAC also covering a hash
 *   of the configured credentials, so changing the token ends every session.
 * - CSRF token = MAC of `csrf:<binding>`, where the binding is the session id, or (for basic
 *   auth, an `authorize` hook or no auth) the random value of cookie `jobwire_csrf`. Another site
 *   can neither read the cookie nor compute the MAC, so it cannot forge the header.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The session cookie's name. */
export const SESSION_COOKIE = 'jobwire_session';
/** The cookie holding the CSRF binding of a browser without a session. */
export const CSRF_COOKIE = 'jobwire_csrf';
/** The request header carrying the CSRF token. */
export const CSRF_HEADER = 'x-jobwire-csrf';

/** Equal strings, compared in constant time (hashed first, so lengths leak nothing either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A random id for a session or a CSRF binding. */
export function randomId(): string {
  return randomBytes(18).toString('base64url');
}

/** Signs and verifies sessions and CSRF tokens (see the module comment). */
export class SessionKeys {
  readonly #secret: Buffer;
  readonly #credentials: string;

  constructor(secret: Buffer, credentials: string) {
    this.#secret = secret;
    this.#credentials = createHash('sha256').update(credentials).digest('base64url');
  }

  #mac(text: string): string {
    return createHmac('sha256', this.#secret).update(text).digest('base64url');
  }

  /** A new session cookie value valid until `expiresAt`. */
  issue(expiresAt: number): string {
    const id = randomId();
    return `${id}.${expiresAt}.${this.#mac(`session:${id}.${expiresAt}.${this.#credentials}`)}`;
  }

  /** The session id of a valid, unexpired cookie value, else undefined. */
  verify(value: string | undefined, now: number): string | undefined {
    return this.session(value, now)?.id;
  }

  /** The session (id and expiry, epoch ms) of a valid, unexpired cookie value, else undefined. */
  session(value: string | undefined, now: number): { id: string; expiresAt: number } | undefined {
    if (!value) return undefined;
    const [id, expires, mac, extra] = value.split('.');
    if (!id || !expires || !mac || extra !== undefined || !/^\d+$/.test(expires)) return undefined;
    if (Number(expires) <= now) return undefined;
    const valid = sameSecret(mac, this.#mac(`session:${id}.${expires}.${this.#credentials}`));
    return valid ? { id, expiresAt: Number(expires) } : undefined;
  }

  /** The CSRF token of a binding. */
  csrfToken(binding: string): string {
    return this.#mac(`csrf:${binding}`);
  }

  /** True when `token` is the CSRF token of `binding`. */
  csrfValid(binding: string | undefined, token: string | undefined | null): boolean {
    if (!binding || !token) return false;
    return sameSecret(token, this.csrfToken(binding));
  }
}
