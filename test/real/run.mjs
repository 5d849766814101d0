// `npm run test:real`: the adapter against real third-party unikernel images. They live outside the
// repository (CI has them; a user's clone does not), so without them this prints one line and passes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const images = process.env.UNIKERNEL_REAL_IMAGES ? resolve(process.env.UNIKERNEL_REAL_IMAGES) : resolve(root, '../shared/real-images');
if (!existsSync(images)) {
  console.log(`test:real skipped: no real unikernel images at ${images} (set UNIKERNEL_REAL_IMAGES to their folder)`);
  process.exit(0);
}
const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const run = spawnSync(process.execPath, [mocha, 'test/real/**/*.test.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, UNIKERNEL_REAL_IMAGES: images },
});
process.exit(run.status ?? 1);
