/**
 * The environment variables the CLI reads (docs/configuration.md), and a warning for a
 * `JOBWIRE_*` variable that is none of them: `JOBWIRE_CONCURENCY=20` would otherwise leave the
 * default concurrency in force without a word. A warning, not an error: a variable may be meant
 * for a newer jobwire, or for the application's own code.
 */
import { closestName } from '../index.js';

/** Every `JOBWIRE_*` variable a command reads (test/cli-env-vars.test.ts checks the sources). */
export const CLI_ENV_VARS: readonly string[] = [
  'JOBWIRE_DATABASE_URL',
  'JOBWIRE_SCHEMA',
  'JOBWIRE_TASKS',
  'JOBWIRE_QUEUES',
  'JOBWIRE_CONCURRENCY',
  'JOBWIRE_GRACE',
  'JOBWIRE_ONCE',
  'JOBWIRE_NO_RETENTION',
  'JOBWIRE_DELETE_COMPLETED',
  'JOBWIRE_HEALTH',
  'JOBWIRE_LOG_LEVEL',
  'JOBWIRE_METRICS_PORT',
  'JOBWIRE_METRICS_HOST',
  'JOBWIRE_HTTP_TOKEN',
];

/** Variables of jobwire's own test suites (`JOBWIRE_TEST_DATABASE_URL`, the conformance kit's children). */
const OTHER_READERS = ['JOBWIRE_TEST_', 'JOBWIRE_CONFORMANCE_'];

/** One line per `JOBWIRE_*` variable of `env` that no command reads, naming the one it likely meant. */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(CLI_ENV_VARS);
  return Object.keys(env)
    .filter(
      (name) =>
        name.startsWith('JOBWIRE_') && !known.has(name) && !OTHER_READERS.some((p) => name.startsWith(p)),
    )
    .sort()
    .map((name) => {
      const near = closestName(name, CLI_ENV_VARS);
      return `warning: ${name} is not a jobwire setting and is ignored${near ? ` — did you mean ${near}?` : ''} (see docs/configuration.md)`;
    });
}
