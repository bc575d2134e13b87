/**
 * Settings from the command line or the environment: a flag wins over its environment
 * variable, which wins over the default (docs/configuration.md lists them all). A value read
 * from the environment is named by its variable in error messages, so a bad
 * `JOBWIRE_CONCURRENCY=ten` is not blamed on a flag nobody typed.
 */
import { CliError } from './args.js';

/** A setting's raw value and the name to use when it is wrong. */
export interface Setting {
  value: string | undefined;
  /** The flag without its dashes ("concurrency"), or "concurrency (from JOBWIRE_CONCURRENCY)". */
  name: string;
}

/** `--<flag>` if given, else the environment variable `envVar` if set and not blank. */
export function setting(
  flag: string,
  flagValue: string | undefined,
  envVar: string,
  env: NodeJS.ProcessEnv = process.env,
): Setting {
  if (flagValue !== undefined) return { value: flagValue, name: flag };
  const fromEnv = env[envVar];
  if (fromEnv !== undefined && fromEnv.trim() !== '')
    return { value: fromEnv, name: `${flag} (from ${envVar})` };
  return { value: undefined, name: flag };
}

/** A boolean environment variable: 1/true/yes/on or 0/false/no/off (case-insensitive). */
export function envFlag(envVar: string, env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  const raw = env[envVar]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new CliError(`${envVar} must be true or false (1/0, yes/no, on/off), got "${env[envVar]}"`);
}

/**
 * Load a `.env` file into `process.env` with Node's own loader (`process.loadEnvFile`, Node
 * 20.12 and later). Variables already set in the environment win over the file's.
 */
export function loadEnvFile(path: string): void {
  const load = (process as { loadEnvFile?: (path: string) => void }).loadEnvFile;
  if (typeof load !== 'function') {
    throw new CliError(
      `--env-file needs Node 20.12 or later (this is ${process.version})`,
      'upgrade Node, or export the variables in the shell (or use "node --env-file")',
    );
  }
  try {
    load(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT'
        ? `--env-file ${path}: no such file`
        : `--env-file ${path}: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
}
