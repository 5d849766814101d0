// One code-server (VS Code 1.100.3) and one Chromium for the whole end-to-end run, a workspace made
// from the fixture unikernel, and the clean-up that leaves no process behind, also on failure.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(__dirname, '../..');
export const E2E = resolve(__dirname);
export const OUT = join(E2E, 'out');
const FIXTURES = join(ROOT, 'test/fixtures');
/** The real OCaml-on-Solo5 image's folder (CI has ../shared/real-images; a clone does not). */
export const REAL_MIRAGE = join(process.env.UNIKERNEL_REAL_IMAGES ? resolve(process.env.UNIKERNEL_REAL_IMAGES) : resolve(ROOT, '../shared/real-images'), 'mirage');
export const MIRAGE_CONFIG = 'MirageOS: hello.ml (real image)';
const CODE_SERVER = join(E2E, 'node_modules/code-server/out/node/entry.js');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Every process this run starts carries this tag in its environment (the leftover check looks for it). */
export const RUN_TAG_VAR = 'UNIKERNEL_DEBUG_E2E_RUN';
export const RUN_TAG = `${process.pid}-${Date.now()}`;

/** Bounds for every wait (ms). */
export const T = {
  serverStart: 60_000,
  workbench: 60_000,
  short: 10_000,
  medium: 30_000,
  debugStop: 60_000,
};

export interface Harness {
  /** The workspace folder code-server opened (a copy of the fixture sources and build). */
  ws: string;
  /** Scratch directory of this run (user data, logs, browser profile). */
  tmp: string;
  baseUrl: string;
  context: BrowserContext;
  /** The kernel.c line of a `@bp:NAME` marker (1-based). */
  marker(name: string): number;
  /**
   * A fresh workbench page with the extension loaded from the repository. `testsPath`: a bundled
   * extension-host test module to run (`extensionTestsPath`); its exit code goes to `onExit`.
   */
  openWorkbench(options?: { testsPath?: string; onExit?: (code: number) => void }): Promise<Page>;
  /** A console log made by booting the fixture in `mode` directly (no debugger), with its `.meta.json`. */
  savedLog(mode: string): string;
}

let current: Promise<Harness> | undefined;
let server: ChildProcess | undefined;
let gallery: Server | undefined;

/** A request made to the extension gallery (code-server's or the page's), as the local stand-in saw it. */
export interface GalleryRequest {
  time: number;
  method: string;
  url: string;
  body: string;
}
const galleryLog: GalleryRequest[] = [];

/** Every request made to the extension gallery so far in this run. */
export function galleryRequests(): readonly GalleryRequest[] {
  return galleryLog;
}

/**
 * A stand-in for the extension gallery on 127.0.0.1 (code-server's EXTENSIONS_GALLERY points here): it
 * answers that no extension exists and records what was asked, so a test can tell whether anything
 * asked the network for an extension. Nothing leaves the machine.
 */
async function startGallery(): Promise<string> {
  const srv = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      galleryLog.push({ time: Date.now(), method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8').slice(0, 4000) });
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Headers', '*');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Content-Type', 'application/json');
      const none = { results: [{ extensions: [], pagingToken: null, resultMetadata: [{ metadataType: 'ResultCount', metadataItems: [{ name: 'TotalCount', count: 0 }] }] }] };
      res.end(req.method === 'POST' ? JSON.stringify(none) : '{}');
    });
  });
  gallery = srv;
  await new Promise<void>((ok, fail) => {
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => ok());
  });
  const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  return JSON.stringify({
    serviceUrl: `${base}/vscode/gallery`,
    itemUrl: `${base}/vscode/item`,
    resourceUrlTemplate: `${base}/vscode/asset/{publisher}/{name}/{version}/Microsoft.VisualStudio.Code.WebResources/{path}`,
  });
}
let context: BrowserContext | undefined;
let tmpRoot: string | undefined;

export function harness(): Promise<Harness> {
  current ??= start();
  return current;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function makeWorkspace(ws: string): void {
  mkdirSync(ws, { recursive: true });
  for (const f of readdirSync(FIXTURES)) {
    if (/\.(c|h|S|ld)$/.test(f) || f === 'Makefile') copyFileSync(join(FIXTURES, f), join(ws, f));
  }
  // Built in place, so the image's debug information names the workspace's own sources.
  const make = spawnSync('make', ['-C', ws, '-s'], { encoding: 'utf8', timeout: T.medium });
  if (make.status !== 0) throw new Error(`building the fixture workspace failed: ${make.stderr || make.error}`);
  mkdirSync(join(ws, 'logs'), { recursive: true });
  writeJson(join(ws, '.vscode/launch.json'), {
    version: '0.2.0',
    configurations: [
      { type: 'unikernel', request: 'launch', name: 'Fixture (multiboot a.out kludge)', kernel: '${workspaceFolder}/build/kernel.elf', cmdline: 'mode=normal' },
      { type: 'unikernel', request: 'launch', name: 'Fixture: crash', kernel: '${workspaceFolder}/build/kernel.elf', cmdline: 'mode=crash', consoleLog: '${workspaceFolder}/logs/crash.console.log' },
      { type: 'unikernel', request: 'launch', name: 'Fixture: recorded bad index', kernel: '${workspaceFolder}/build/kernel.elf', cmdline: 'mode=badindex', record: true },
      // The real MirageOS image, where this machine has ../shared/real-images (ocaml.e2e.ts).
      ...(existsSync(join(REAL_MIRAGE, 'hello.virtio'))
        ? [{ type: 'unikernel', request: 'launch', name: MIRAGE_CONFIG, kernel: join(REAL_MIRAGE, 'hello.virtio'), cmdline: 'crash', sourceMap: { '/build/imgs/mirage-hello': REAL_MIRAGE } }]
        : []),
    ],
  });
  writeJson(join(ws, '.vscode/settings.json'), { 'debug.showInStatusBar': 'always' });
}

function userSettings(): Record<string, unknown> {
  return {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.commandCenter.enabled': false,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'window.menuBarVisibility': 'classic',
    'editor.minimap.enabled': false,
    'files.simpleDialog.enable': true,
    'debug.showInStatusBar': 'always',
    'debug.openDebug': 'openOnDebugBreak',
    'debug.internalConsoleOptions': 'neverOpen',
    'git.enabled': false,
  };
}

async function waitForLine(proc: ChildProcess, pattern: RegExp, ms: number, what: string): Promise<string> {
  return new Promise((ok, fail) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`${what}: no "${pattern}" within ${ms} ms; output:\n${seen.slice(-4000)}`)), ms);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = pattern.exec(seen);
      if (m) done(undefined, m[0]);
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready:\n${seen.slice(-4000)}`));
    function done(err?: Error, line?: string) {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.stderr?.off('data', onData);
      proc.off('exit', onExit);
      if (err) fail(err);
      else ok(line as string);
    }
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', onExit);
  });
}

async function start(): Promise<Harness> {
  installSignalHandlers();
  mkdirSync(OUT, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'unikernel-e2e-'));
  tmpRoot = tmp;
  const ws = join(tmp, 'workspace');
  makeWorkspace(ws);
  const userData = join(tmp, 'user-data');
  writeJson(join(userData, 'User/settings.json'), userSettings());
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, [RUN_TAG_VAR]: RUN_TAG, UNIKERNEL_E2E_OUT: OUT, EXTENSIONS_GALLERY: await startGallery() };
  delete env.VSCODE_IPC_HOOK_CLI;
  // Its own process group: the clean-up ends code-server and everything it started in one signal.
  server = spawn(
    process.execPath,
    [
      CODE_SERVER,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', userData,
      '--extensions-dir', join(tmp, 'extensions'),
      '--log', 'info',
      ws,
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const serverLog: string[] = [];
  server.stdout?.on('data', (c: Buffer) => serverLog.push(c.toString()));
  server.stderr?.on('data', (c: Buffer) => serverLog.push(c.toString()));
  process.on('exit', () => writeFileSync(join(OUT, 'code-server.log'), serverLog.join('')));
  await waitForLine(server, /HTTP server listening on \S+/, T.serverStart, 'code-server');
  const baseUrl = `http://127.0.0.1:${port}`;

  context = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...env },
    viewport: { width: 1440, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
  const ctx = context;
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });

  const logs = new Map<string, string>();
  const kernelC = readFileSync(join(FIXTURES, 'kernel.c'), 'utf8').split('\n');
  return {
    ws,
    tmp,
    baseUrl,
    context: ctx,
    marker(name: string): number {
      const tag = `@bp:${name} */`;
      const i = kernelC.findIndex((l) => l.includes(tag));
      if (i < 0) throw new Error(`marker ${tag} not in kernel.c`);
      return i + 1;
    },
    async openWorkbench(options: { testsPath?: string; onExit?: (code: number) => void } = {}): Promise<Page> {
      const page = await ctx.newPage();
      const onExit = options.onExit;
      // The workbench reports the end of an extension-host test run through this function.
      if (onExit) await page.exposeFunction('codeAutomationExit', (code: number) => onExit(Number(code)));
      page.setDefaultTimeout(T.medium);
      // The remote authority is what the server calls itself in the page it serves.
      await page.goto(`${baseUrl}/?folder=${encodeURIComponent(ws)}`, { waitUntil: 'domcontentloaded' });
      const authority = await page.evaluate(() => {
        const meta = document.getElementById('vscode-workbench-web-configuration')?.getAttribute('data-settings');
        return meta ? (JSON.parse(meta) as { remoteAuthority?: string }).remoteAuthority : undefined;
      });
      if (!authority) throw new Error('code-server did not tell its remote authority');
      const payload: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://${authority}${ROOT}`]];
      if (options.testsPath) payload.push(['extensionTestsPath', `vscode-remote://${authority}${options.testsPath}`]);
      await page.goto(`${baseUrl}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`, { waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: T.workbench });
      return page;
    },
    savedLog(mode: string): string {
      const cached = logs.get(mode);
      if (cached) return cached;
      const dir = join(ws, 'logs');
      const log = join(dir, `saved-${mode}.console.log`);
      const kernel = join(ws, 'build/kernel.elf');
      const r = spawnSync(
        'qemu-system-x86_64',
        ['-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128', '-kernel', kernel, '-append', `mode=${mode}`,
          '-serial', `file:${log}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
        { timeout: T.medium, env: { ...process.env, [RUN_TAG_VAR]: RUN_TAG } },
      );
      if (r.status !== 83) throw new Error(`QEMU ended with ${r.status}: ${r.stderr}`);
      writeJson(`${log}.meta.json`, { symbols: kernel, kernel, platform: 'generic' });
      logs.set(mode, log);
      return log;
    },
  };
}

/** This run's processes: every one whose environment carries the run tag (not this process). */
export function taggedProcesses(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`${RUN_TAG_VAR}=${RUN_TAG}`)) continue;
      found.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

/** Processes the leftover check is about: code-server, QEMU, gdb in MI mode, the debug adapter, chromium. */
export function leftovers(): string[] {
  return [...taggedProcesses()]
    .filter(([, cmd]) => /code-server|qemu-system|gdb.*--interpreter|debugAdapter\.js|languageServer\.js|chromium/.test(cmd))
    .map(([pid, cmd]) => `${pid} ${cmd.slice(0, 200)}`);
}

async function waitGone(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (taggedProcesses().size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

/** Ends the browser, code-server and everything they started; bounded. */
export async function stopHarness(): Promise<void> {
  const ctx = context;
  context = undefined;
  gallery?.closeAllConnections();
  gallery?.close();
  gallery = undefined;
  if (ctx) await Promise.race([ctx.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
  const srv = server;
  server = undefined;
  if (srv?.pid && srv.exitCode === null) {
    try {
      process.kill(-srv.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  // QEMU and gdb run in their own process groups; the adapter's reaper ends them when it goes.
  await waitGone(10_000);
  for (const pid of taggedProcesses().keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await waitGone(5_000);
  if (tmpRoot && existsSync(tmpRoot) && !process.env.UNIKERNEL_E2E_KEEP) rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
  current = undefined;
}

let handlersInstalled = false;
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      void stopHarness().finally(() => process.exit(130));
    });
  }
  // Last resort on a crash of the runner itself: no process group outlives it.
  process.on('exit', () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of taggedProcesses().keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}
