/**
 * The architecture, checked by `npm run check:deps` (part of `npm test`):
 * - no import cycle anywhere under src/;
 * - the core (jobs, events, pool, services) knows nothing of SQL or of any particular driver;
 * - the driver seam (src/driver) names no concrete driver;
 * - surfaces (the CLI) use the public API only: the package entry points, never core internals;
 * - sinks (src/sinks, e.g. jobwire/metrics) use the public API only, like the CLI;
 * - the HTTP surface (src/http, jobwire/http) uses the package entry point only.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle couples modules that should be layered; break it with a narrower interface.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-knows-no-driver',
      severity: 'error',
      comment: 'src/core talks to storage only through the Driver interface in src/driver/driver.ts.',
      from: { path: '^src/core/' },
      to: { path: ['^src/drivers/', '^node_modules/(pg|better-sqlite3)/', '^src/cli/'] },
    },
    {
      name: 'seam-knows-no-driver',
      severity: 'error',
      comment: 'The driver seam (interface, guards, conformance, registry) must not depend on a concrete driver.',
      from: { path: '^src/driver/' },
      to: { path: ['^src/drivers/', '^node_modules/(pg|better-sqlite3)/'] },
    },
    {
      name: 'drivers-stay-apart',
      severity: 'error',
      comment: 'One folder per database: a driver never imports another driver.',
      from: { path: '^src/drivers/([^/]+)/' },
      to: { path: '^src/drivers/', pathNot: '^src/drivers/$1/' },
    },
    {
      name: 'surfaces-use-public-api',
      severity: 'error',
      comment: 'The CLI (and later HTTP and the dashboard) import the package entry points, not internals.',
      from: { path: '^src/cli/' },
      to: {
        path: '^src/(core|driver|drivers)/',
        pathNot: ['^src/drivers/[^/]+/index\\.ts$', '^src/driver/registry\\.ts$'],
      },
    },
    {
      name: 'http-uses-public-api',
      severity: 'error',
      comment:
        'The HTTP surface (jobwire/http: API, health, sign-in; the dashboard) sees a client through the package ' +
        'entry point only, like an outside package: never core internals, a driver, or the CLI.',
      from: { path: '^src/http/' },
      to: { path: '^src/(core|driver|drivers|cli|sinks)/' },
    },
    {
      name: 'sinks-use-public-api',
      severity: 'error',
      comment:
        'Sinks (logs, metrics, tracing, webhooks) see a client the way an outside package would: through the ' +
        'entry points, or the core modules whose exports the entry re-exports as public types or helpers (a sink the main ' +
        'entry exports cannot import the entry back without a cycle). Never internals, pools or services.',
      from: { path: '^src/sinks/' },
      to: {
        path: '^src/(core|driver|drivers|cli)/',
        pathNot: '^src/core/(events|runtime|hooks|types|errors|attempt|client|known-options|event-log/names)\\.ts$',
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
