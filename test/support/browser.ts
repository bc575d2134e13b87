/**
 * A real Chromium for the browser tests, driven by playwright-core (which downloads nothing).
 * The executable is found, in order: env `CHROMIUM_PATH`, the usual system paths (Debian's
 * `chromium` package, Ubuntu's, Google Chrome), then — only as root on Debian or Ubuntu —
 * installed with `apt-get install -y chromium`. Otherwise the test fails with a message that
 * says how to install one: browser tests are never skipped silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

const KNOWN_PATHS = [
  '/usr/bin/chromium',
  '/usr/lib/chromium/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Held while one test process installs Chromium (see `chromiumPath`). */
const INSTALL_LOCK = '/tmp/jobwire-chromium-install.lock';

const HOW_TO_INSTALL =
  'Install Chromium (Debian/Ubuntu: `sudo apt-get install -y chromium`; macOS: install Google Chrome) ' +
  'or set CHROMIUM_PATH to a Chromium or Chrome executable.';

function isDebianLike(): boolean {
  try {
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

function found(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist. ${HOW_TO_INSTALL}`);
    return fromEnv;
  }
  return KNOWN_PATHS.find((path) => existsSync(path));
}

/** The path of a Chromium executable, installing Debian's package when that is possible. */
export function chromiumPath(): string {
  const path = found();
  if (path) return path;
  if (process.getuid?.() === 0 && isDebianLike()) {
    // Test files run in parallel and may all find no browser. apt's own locks do not serialize
    // them: a second `apt-get update` fails at once on the package lists' lock (seen on a fresh
    // machine). So each takes the same lock file first (flock, util-linux) and installs only if
    // the browser is still missing once it holds it.
    execFileSync(
      'flock',
      [
        INSTALL_LOCK,
        'sh',
        '-c',
        '[ -x /usr/bin/chromium ] || { apt-get -o DPkg::Lock::Timeout=600 update && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium; }',
      ],
      { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
    );
    const installed = found();
    if (installed) return installed;
  }
  throw new Error(`No Chromium found for the browser tests. ${HOW_TO_INSTALL}`);
}

/** Launch a headless Chromium; close it in `after`. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}
