/**
 * Drivers by URL scheme. A driver folder registers itself with one `registerDriver` call (the
 * built-in ones in `src/drivers/<name>/register.ts`, loaded by `src/drivers/builtin.ts`); the CLI
 * and applications then open a database from one string — `postgres://…`, `sqlite:./jobs.db`, a
 * bare file path — without naming a driver. A registration's `open` should import its driver
 * lazily, so a SQLite user never loads `pg` and vice versa.
 *
 * Locations: `scheme:rest`, where the scheme has at least two characters (so a Windows path
 * such as `C:\jobs.db` stays a path); a location without a scheme goes to the one driver that
 * declares `opensPaths`.
 */
import { InvalidOptionError, JobwireError } from '../core/errors.js';
import type { Driver } from './driver.js';

/** Options every registration's `open` receives. */
export interface OpenDriverOptions {
  /**
   * Refuse to create a database that does not exist yet, where the driver can tell (a SQLite
   * file): read and admin commands must not leave an empty database behind a typo.
   */
  mustExist?: boolean;
}

/** What `registerDriver` takes: how to recognise a driver's locations and how to open one. */
export interface DriverRegistration {
  /** The driver's name, for messages (e.g. `sqlite`, `postgres`). */
  readonly name: string;
  /** URL schemes this driver opens, without the colon, e.g. `['postgres', 'postgresql']`. */
  readonly schemes: readonly string[];
  /** Also open locations that have no scheme (file paths). At most one driver may. */
  readonly opensPaths?: boolean;
  /**
   * The npm package the driver loads (e.g. `pg`): an optional dependency of jobwire, so when it
   * is missing `DriverUnavailableError` says to install it.
   */
  readonly requires?: string;
  /** Open (not migrate) a driver for `location`, exactly as the caller gave it. */
  open(location: string, options: OpenDriverOptions): Driver | Promise<Driver>;
}

/** A location's scheme names no registered driver (or it has none and no driver opens paths). */
export class UnknownDriverSchemeError extends JobwireError {
  static override readonly code = 'JOBWIRE_UNKNOWN_DRIVER_SCHEME';

  constructor(
    /** The scheme, lower-cased; null when the location had none. */
    readonly scheme: string | null,
    /** Every registered scheme, sorted. */
    readonly known: readonly string[],
  ) {
    const listed = known.length ? known.map((s) => `${s}:`).join(', ') : '(none)';
    super(
      UnknownDriverSchemeError.code,
      scheme === null
        ? `No registered driver opens file paths. Known schemes: ${listed}.`
        : `No driver is registered for "${scheme}:" locations. Known schemes: ${listed}` +
            '. Check the spelling, or register the driver (registerDriver) before opening.',
    );
  }
}

/** `mustExist` was set and the database the location names does not exist. */
export class DatabaseNotFoundError extends JobwireError {
  static override readonly code = 'JOBWIRE_DATABASE_NOT_FOUND';

  constructor(readonly location: string) {
    super(DatabaseNotFoundError.code, `The database ${location} does not exist.`);
  }
}

/** A registered driver's code could not be loaded (e.g. a build or install without it). */
export class DriverUnavailableError extends JobwireError {
  static override readonly code = 'JOBWIRE_DRIVER_UNAVAILABLE';

  constructor(
    readonly driver: string,
    options: { cause: unknown; requires?: string },
  ) {
    const install = options.requires
      ? `. Install its database library: npm install ${options.requires} (see docs/packaging.md)`
      : '';
    super(
      DriverUnavailableError.code,
      `The ${driver} driver could not be loaded: ${String((options.cause as Error)?.message ?? options.cause)}${install}`,
      { cause: options.cause },
    );
  }
}

const bySchemes = new Map<string, DriverRegistration>();
let pathDriver: DriverRegistration | undefined;

/** At least two characters, so a drive letter (`C:\…`) is not mistaken for a scheme. */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/** The scheme of `location`, lower-cased, or null for a plain path. */
export function schemeOf(location: string): string | null {
  const match = SCHEME.exec(location);
  return match ? match[1]!.toLowerCase() : null;
}

/**
 * Make a driver reachable by its schemes. Throws when a scheme (or `opensPaths`) is already
 * taken by another registration. Returns a function that removes the registration again.
 */
export function registerDriver(registration: DriverRegistration): () => void {
  const schemes = registration.schemes.map((scheme) => scheme.toLowerCase());
  for (const scheme of schemes) {
    if (!SCHEME.test(`${scheme}:`) || scheme.includes(':')) {
      throw new InvalidOptionError(
        'schemes',
        `${JSON.stringify(scheme)} is not a URL scheme of two characters or more`,
      );
    }
    const taken = bySchemes.get(scheme);
    if (taken && taken !== registration) {
      throw new InvalidOptionError(
        'schemes',
        `"${scheme}:" is already registered by the ${taken.name} driver`,
      );
    }
  }
  if (registration.opensPaths && pathDriver && pathDriver !== registration) {
    throw new InvalidOptionError(
      'opensPaths',
      `file paths are already opened by the ${pathDriver.name} driver`,
    );
  }
  for (const scheme of schemes) bySchemes.set(scheme, registration);
  if (registration.opensPaths) pathDriver = registration;
  return () => {
    for (const scheme of schemes) {
      if (bySchemes.get(scheme) === registration) bySchemes.delete(scheme);
    }
    if (pathDriver === registration) pathDriver = undefined;
  };
}

/** Every registered scheme, sorted (for messages and help). */
export function registeredSchemes(): string[] {
  return [...bySchemes.keys()].sort();
}

/** The registration that opens `location`; throws `UnknownDriverSchemeError` when none does. */
export function driverFor(location: string): DriverRegistration {
  const scheme = schemeOf(location);
  const registration = scheme === null ? pathDriver : bySchemes.get(scheme);
  if (!registration) throw new UnknownDriverSchemeError(scheme, registeredSchemes());
  return registration;
}

/**
 * Open a driver for `location` (a URL or a file path) through the registry. The driver is not
 * migrated: the client does that (or call `driver.migrate()`).
 *
 * @example
 * const driver = await openDriver(process.env.DATABASE_URL ?? './jobs.db');
 */
export async function openDriver(location: string, options: OpenDriverOptions = {}): Promise<Driver> {
  if (typeof location !== 'string' || location.trim() === '') {
    throw new InvalidOptionError('location', 'give a database URL (e.g. postgres://…) or a file path');
  }
  const registration = driverFor(location);
  try {
    return await registration.open(location, options);
  } catch (error) {
    // ERR_MODULE_NOT_FOUND from the ES build's import(), MODULE_NOT_FOUND from the CommonJS
    // build's require().
    const code = (error as { code?: unknown })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new DriverUnavailableError(registration.name, { cause: error, requires: registration.requires });
    }
    throw error;
  }
}

/** For messages: the driver's name and the location, with any password in it hidden. */
export function describeLocation(location: string): string {
  const name = driverFor(location).name;
  if (schemeOf(location) === null) return `${name} ${location}`;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return `${name} ${url.toString()}`;
  } catch {
    return `${name} (location not shown)`;
  }
}
