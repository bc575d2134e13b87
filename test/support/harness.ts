/**
 * The client/pool suites' helpers (manual clock, deferred, event recording, `withClient`, …) for
 * the test files in this repository. They ship with the package beside the suites that use them.
 */
export * from '../../src/driver/conformance/client/harness.js';
