/** The metrics sink on PostgreSQL: the shared suite (see test/suites/metrics.ts). */

import { runMetricsSuite } from './suites/metrics.js';
import { postgresDatabases } from './support/postgres.js';

runMetricsSuite(postgresDatabases);
