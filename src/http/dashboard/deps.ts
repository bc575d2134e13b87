/** The contract between the dashboard and the HTTP handler that mounts it. */
import type { Context } from 'hono';
import type { Jobwire } from '../../index.js';
import type { LiveOptions } from './live.js';

/** What `dashboardRoutes` needs from the handler that mounts it. */
export interface DashboardDeps {
  /** The public client: the dashboard uses nothing else. */
  jobwire: Jobwire;
  /** Hide every action and refuse them (403). */
  readOnly: boolean;
  /** '' or e.g. '/admin/jobs': the prefix of every link, form and asset URL. */
  basePath: string;
  /** The CSRF token of a request; pages send it back as header `x-jobwire-csrf` on every non-GET. */
  csrfToken(c: Context): string;
  /**
   * Whether the mounting handler has browser sessions (token sign-in): the pages then offer
   * "Sign out", a POST to `{basePath}/logout` carrying the CSRF token. Default false.
   */
  signOut?: boolean;
  /** Aborted when the mounting handler closes: every live stream ends and the log tail stops. */
  signal?: AbortSignal;
  /** Live-update tuning (tests shorten it); the defaults suit production. */
  live?: LiveOptions;
}
