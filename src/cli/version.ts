/**
 * The version comes from the package's own package.json, found at run time next
 * to the bundle (dist/cli.js) or the sources, so there is one place to bump it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'unikernel-debug';

export function readVersion(startDir: string = scriptDir()): string {
  let dir = startDir;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // An unreadable package.json further down; keep looking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return 'unknown';
}

function scriptDir(): string {
  // CommonJS (the bundle, and tsx) has __dirname; otherwise fall back to the script path.
  if (typeof __dirname === 'string') return __dirname;
  return dirname(process.argv[1] ?? '.');
}
