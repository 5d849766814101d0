// `npm run demo`: the product in a browser. Installs code-server 4.100.3 (VS Code 1.100.3) when it is
// missing, builds the extension and a demo unikernel workspace, starts code-server on 127.0.0.1 with the
// extension installed from this repository (a link in its extensions folder, so `npm run build` and a
// window reload pick up changes), and prints the URL: the plain one, http://127.0.0.1:8080, which
// opens the demo workspace with the extension. Open it and press F5. Ctrl+C ends it all.
//
//   npm run demo                 # port 8080, or the next free one
//   PORT=9000 npm run demo
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = join(root, '.demo');
const ws = join(home, 'workspace');
const fixtures = join(root, 'test/fixtures');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`demo: ${cmd} ${args.join(' ')} failed`);
    process.exit(r.status ?? 1);
  }
}

function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * The extension installed in code-server's extensions folder as a link to this repository: every
 * workbench of this code-server has it, whatever URL opened it. VS Code reads the folder's
 * `extensions.json`, not the folder, once that file exists: the entry is written there too.
 */
function installExtension(extensions) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const id = `${pkg.publisher}.${pkg.name}`;
  const dirName = `${id}-${pkg.version}`;
  mkdirSync(extensions, { recursive: true });
  for (const old of readdirSync(extensions)) {
    if (!old.startsWith(`${id}-`)) continue;
    // A link (the usual) goes by itself, never what it points to.
    if (lstatSync(join(extensions, old)).isSymbolicLink()) unlinkSync(join(extensions, old));
    else rmSync(join(extensions, old), { recursive: true, force: true });
  }
  symlinkSync(root, join(extensions, dirName), 'dir');
  const manifest = join(extensions, 'extensions.json');
  let entries = [];
  try {
    entries = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {
    /* none yet */
  }
  entries = (Array.isArray(entries) ? entries : []).filter((e) => e?.identifier?.id?.toLowerCase() !== id.toLowerCase());
  entries.push({ identifier: { id }, version: pkg.version, location: { $mid: 1, path: join(extensions, dirName), scheme: 'file' }, relativeLocation: dirName });
  writeFileSync(manifest, JSON.stringify(entries));
}

// 1. What is missing: code-server (test/e2e's package), the build, the fixture images.
run('bash', ['test/e2e/install.sh']);
run('npm', ['run', '--silent', 'build']);

// 2. The demo workspace: the fixture unikernel's sources, built in place so its debug info names them.
mkdirSync(ws, { recursive: true });
for (const f of readdirSync(fixtures)) {
  if (/\.(c|h|S|ld)$/.test(f) || f === 'Makefile') copyFileSync(join(fixtures, f), join(ws, f));
}
run('make', ['-C', ws, '-s']);
mkdirSync(join(ws, 'logs'), { recursive: true });
const kernel = '${workspaceFolder}/build/kernel.elf';
writeJson(join(ws, '.vscode/launch.json'), {
  version: '0.2.0',
  configurations: [
    { type: 'unikernel', request: 'launch', name: 'Demo: page fault (Crash Trace panel)', kernel, cmdline: 'mode=crash', consoleLog: '${workspaceFolder}/logs/crash.console.log' },
    { type: 'unikernel', request: 'launch', name: 'Demo: stop in compute()', kernel, cmdline: 'mode=normal', stopAtEntry: 'compute' },
    { type: 'unikernel', request: 'launch', name: 'Demo: panic', kernel, cmdline: 'mode=panic', consoleLog: '${workspaceFolder}/logs/panic.console.log' },
    { type: 'unikernel', request: 'launch', name: 'Demo: assertion', kernel, cmdline: 'mode=assert', consoleLog: '${workspaceFolder}/logs/assert.console.log' },
    { type: 'unikernel', request: 'launch', name: 'Demo: spin (try Pause)', kernel, cmdline: 'mode=spin' },
    { type: 'unikernel', request: 'launch', name: 'Demo: Unikraft-style ELF32 + .dbg', kernel: '${workspaceFolder}/build/kernel-uk', symbols: '${workspaceFolder}/build/kernel-uk.dbg', cmdline: 'mode=normal', stopAtEntry: 'compute' },
  ],
});
writeJson(join(ws, '.vscode/settings.json'), { 'debug.showInStatusBar': 'always', 'unikernel.consoleLog.symbols': '${workspaceFolder}/build/kernel.elf' });
const userData = join(home, 'user-data');
if (!existsSync(join(userData, 'User/settings.json'))) {
  writeJson(join(userData, 'User/settings.json'), {
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'git.openRepositoryInParentFolders': 'never',
  });
}

const extensionsDir = join(home, 'extensions');
installExtension(extensionsDir);

// 3. code-server on the loopback interface only (no password: nothing outside this machine reaches it).
let port = Number(process.env.PORT ?? 8080);
while (!(await portFree(port))) port++;
const server = spawn(
  process.execPath,
  [
    join(root, 'test/e2e/node_modules/code-server/out/node/entry.js'),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userData,
    '--extensions-dir', extensionsDir,
    ws,
  ],
  { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
function stop(code) {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
server.on('exit', (code) => {
  console.error(`demo: code-server ended (${code})`);
  process.exit(code ?? 1);
});
server.stderr.pipe(process.stderr);

const ready = await new Promise((resolve) => {
  let seen = '';
  const timer = setTimeout(() => resolve(false), 60_000);
  server.stdout.on('data', (c) => {
    seen += c.toString();
    if (/HTTP server listening on/.test(seen)) {
      clearTimeout(timer);
      resolve(true);
    }
  });
});
if (!ready) {
  console.error('demo: code-server did not start within 60 s');
  stop(1);
}
// The plain address opens the workspace code-server was started on (or the folder last opened).
const url = `http://127.0.0.1:${port}/`;
console.log(`
Unikernel Debugger demo: VS Code 1.100.3 (code-server) with the extension from ${root}

  Open:  ${url}

Then press F5 ("Demo: page fault" is selected): the image boots under QEMU, stops at its page fault,
and the Unikernel Crash Trace view (Run and Debug) shows the symbolized trace. Pick another
configuration in Run and Debug to stop in compute(), or try the console logs in logs/.

Ctrl+C ends code-server and everything it started.
`);
