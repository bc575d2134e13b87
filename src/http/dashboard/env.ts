/** What the dashboard's route modules share: the deps, the counts cache, the live hub, helpers. */
import type { Context } from 'hono';
import type { CountsCache } from './counts.js';
import type { DashboardDeps } from './deps.js';
import type { LiveHub } from './live.js';
import type { Html, ViewContext } from './views/format.js';

/** See the module comment. One per `dashboardRoutes` call. */
export interface DashboardEnv {
  deps: DashboardDeps;
  /** `deps.basePath` without a trailing slash. */
  base: string;
  counts: CountsCache;
  hub: LiveHub;
}

/** The view context of a request. */
export function viewContext(env: DashboardEnv, c: Context): ViewContext {
  return {
    base: env.base,
    readOnly: env.deps.readOnly,
    csrf: env.deps.csrfToken(c),
    now: Date.now(),
    signOut: env.deps.signOut === true,
  };
}

/** The text of a fragment none of whose parts is asynchronous (all of the dashboard's). */
export function htmlText(fragment: Html): string {
  if (fragment instanceof Promise) throw new Error('jobwire dashboard: a fragment rendered asynchronously');
  return fragment.toString();
}
