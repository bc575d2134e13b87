/**
 * A test-only hook into a client's services. The public client hides its runtime and leader
 * elector; tests (and benchmarks) that must drive them — run a rescue sweep now, read
 * leadership, raise or watch wake-ups — ask here. Not exported from the package entry point:
 * it may change in any release.
 */
import type { LeaderElector } from './leader/elector.js';
import type { Runtime } from './runtime.js';

/** What a client registers about itself. */
export interface ClientInternals {
  readonly runtime: Runtime;
  /** The leader elector and its leader-only services (the rescuer). */
  readonly leader: LeaderElector;
}

const registry = new WeakMap<object, ClientInternals>();

/** Called by the client's constructor. @internal */
export function registerInternals(client: object, internals: ClientInternals): void {
  registry.set(client, internals);
}

/** The runtime and leader elector of `client` (test-only; see the module comment). */
export function clientInternals(client: object): ClientInternals {
  const internals = registry.get(client);
  if (!internals) throw new TypeError('not a jobwire client');
  return internals;
}
