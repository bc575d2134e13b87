/**
 * Reading query parameters and JSON bodies: wrong types are a 400 naming the field, before the
 * client is called (the client checks values again and names them the same way).
 */
import type { Context } from 'hono';
import { closestName } from '../../index.js';
import { badRequest } from '../errors.js';
import { readBody } from '../respond.js';

/**
 * A list parameter: repeated (`?state=a&state=b`) or comma-separated (`?state=a,b`). Present but
 * empty (`?queue=`, from a form field left blank) is a 400: read as no filter it would answer
 * for every queue, which is not what was asked.
 */
export function listParam(c: Context, name: string): string[] | undefined {
  const values = c.req.queries(name);
  if (!values || values.length === 0) return undefined;
  const list = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (list.length === 0) {
    throw badRequest(name, `is empty: name at least one value, or leave "${name}" out for no filter`);
  }
  return list;
}

/** An integer parameter within [min, max], or undefined when absent. */
export function intParam(c: Context, name: string, min: number, max: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw badRequest(name, `must be an integer from ${min} to ${max}, got "${raw.slice(0, 40)}"`);
  }
  return Number(raw);
}

/** `value` as a plain object (400 naming `field` otherwise). */
export function objectField(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Refuse keys of `object` not in `allowed` (a typo would otherwise be ignored silently), with the
 * allowed name closest to a misspelling as a hint (query parameters get the same, api/query.ts).
 */
export function onlyKeys(field: string, object: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const near = closestName(key, allowed);
      throw badRequest(
        field ? `${field}.${key}` : key,
        `is not accepted here${near ? ` — did you mean "${near}"?` : ''}; use ${allowed.join(', ')}`,
        near ? { suggestion: near } : {},
      );
    }
  }
}

/** A string or an array of strings (the filters of bulk actions), or undefined. */
export function stringOrList(field: string, value: unknown): string | string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw badRequest(field, 'must be a string or an array of strings');
}

/**
 * The body of a route that reads none (`route` names it in the message): nothing, or `{}` as
 * JSON. Anything else is a 400, as an unknown field of a route with a body is: a field sent here
 * would otherwise be dropped and the request answered as if it had been applied (a `payload`
 * sent to trigger a schedule, a `force` sent to resume a queue).
 */
export async function refuseBody(request: Request, maxBytes: number, route: string): Promise<void> {
  const bytes = await readBody(request, maxBytes);
  if (bytes.byteLength === 0) return;
  const type = request.headers.get('content-type') ?? '';
  let value: unknown;
  if (/^application\/json\s*(;|$)/i.test(type)) {
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      value = undefined;
    }
  }
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const [first] = isObject ? Object.keys(value as object) : ['body'];
  if (first === undefined) return;
  throw badRequest(first.slice(0, 80), `is not accepted here: ${route} takes no body (send none, or {})`);
}
