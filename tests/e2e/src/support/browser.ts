import { execFileSync } from 'node:child_process';

/**
 * Debian's chromium (scripts/lib/bootstrap.sh installs it with apt when missing; `playwright
 * install` cannot download here). CHROMIUM_PATH overrides.
 */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // next
    }
  }
  throw new Error('no Chromium on PATH: apt-get install chromium (or set CHROMIUM_PATH)');
}
