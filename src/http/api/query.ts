/**
 * Refusing query parameters a route does not read. A misspelt filter (`?status=pending` for
 * `?state=`) would otherwise be dropped and the answer silently wrong (every job), so every
 * `/api/` route refuses a parameter it does not read with the 400 its body fields get
 * (`JOBWIRE_INVALID_OPTION`, `details.field` naming it, the closest known name as a hint), and
 * a single-valued parameter given twice (`limit=1&limit=2`: which one was meant?).
 *
 * The parameters a route reads are the ones the OpenAPI document lists for it, so what is
 * documented and what is accepted cannot drift apart; the repeatable ones are its `explode`
 * list parameters. Routes the document does not describe (a host's own, added through
 * `handler.app`) are left alone.
 */
import type { MiddlewareHandler } from 'hono';
import { closestName } from '../../index.js';
import { type HttpEnv, routePath } from '../auth.js';
import { badRequest } from '../errors.js';
import type { OpenApiDocument } from '../openapi.js';

/** Longest parameter name quoted back (a name can be any string, a megabyte one included). */
const MAX_QUOTED = 80;

/** What one operation reads from the query string. */
interface QueryRule {
  method: string;
  path: string;
  pattern: RegExp;
  /** Path parameters: literal paths are tried first (`/api/jobs/retry` before `/api/jobs/{id}`). */
  variables: number;
  known: readonly string[];
  repeatable: ReadonlySet<string>;
}

/** The rules of every `/api/` operation of `document`, literal paths first. */
export function queryRules(document: OpenApiDocument): QueryRule[] {
  const rules: QueryRule[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!path.startsWith('/api/')) continue;
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    for (const [method, operation] of Object.entries(operations)) {
      const query = (operation?.parameters ?? []).filter((p) => p.in === 'query');
      rules.push({
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${source}$`),
        variables: (path.match(/\{/g) ?? []).length,
        known: query.map((p) => p.name),
        repeatable: new Set(query.filter((p) => p.explode).map((p) => p.name)),
      });
    }
  }
  return rules.sort((a, b) => a.variables - b.variables);
}

/** The middleware (see the module comment). Mount on `/api/*` after authentication. */
export function refuseUnknownQuery(document: OpenApiDocument, basePath: string): MiddlewareHandler<HttpEnv> {
  const rules = queryRules(document);
  return async (c, next) => {
    const url = new URL(c.req.url);
    if (url.search.length > 1) {
      const path = routePath(url.pathname, basePath);
      // HEAD is answered by the GET route, so it reads what GET reads.
      const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
      const rule = rules.find((r) => r.method === method && r.pattern.test(path));
      if (rule) checkQuery(rule, url.searchParams);
    }
    await next();
  };
}

/**
 * The methods `rules` document for `path` (HEAD with GET), or an empty list when no documented
 * route has that path: a request whose path is documented but whose method is not gets a 405
 * that names these (`Allow`), not a 404 that says the route does not exist.
 */
export function documentedMethods(rules: readonly QueryRule[], path: string): string[] {
  const methods = new Set(rules.filter((r) => r.pattern.test(path)).map((r) => r.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods];
}

/** Throw the 400 for the first parameter `rule` does not read or that is repeated. */
function checkQuery(rule: QueryRule, params: URLSearchParams): void {
  const seen = new Map<string, number>();
  for (const name of params.keys()) seen.set(name, (seen.get(name) ?? 0) + 1);
  const route = `${rule.method} ${rule.path}`;
  for (const [name, times] of seen) {
    const quoted = name.length > MAX_QUOTED ? `${name.slice(0, MAX_QUOTED)}…` : name;
    if (!rule.known.includes(name)) {
      const near = closestName(name, rule.known);
      const message =
        rule.known.length === 0
          ? `is not accepted here: ${route} takes no query parameters`
          : `is not accepted here: not a query parameter of ${route}` +
            `${near ? ` — did you mean "${near}"?` : ''} (known: ${rule.known.join(', ')})`;
      throw badRequest(quoted, message, {
        in: 'query',
        known: rule.known,
        ...(near && { suggestion: near }),
      });
    }
    if (times > 1 && !rule.repeatable.has(name)) {
      throw badRequest(quoted, `is given ${times} times; give it once`, { in: 'query' });
    }
  }
}
