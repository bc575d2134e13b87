/**
 * The shape every driver's test support provides, so one suite runs on every driver. The types
 * ship with the package (`jobwire/conformance`); these are their historical names in the tests.
 */
export type {
  ConformanceDatabase as TestDatabase,
  ConformanceDatabases as TestDatabaseFactory,
} from '../../src/driver/conformance/index.js';
