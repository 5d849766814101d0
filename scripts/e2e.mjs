// `npm run test:e2e`: installs the end-to-end dependencies when missing (test/e2e/install.sh, fast when
// present), type-checks the e2e sources, then runs them with mocha against one code-server.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run('bash', ['test/e2e/install.sh']);
run('node_modules/.bin/tsc', ['-p', 'test/e2e', '--noEmit']);
run(process.execPath, ['node_modules/mocha/bin/mocha.js', '--config', 'test/e2e/.mocharc.json', ...process.argv.slice(2)]);
