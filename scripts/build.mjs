// Bundles the extension, the standalone debug adapter (and the same as a library), the CLI and the console-log language server with esbuild.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // iced-x86 stays out of the bundles (a megabyte every start would parse): it is copied to dist/
  // beside them and loaded at the first disassembly (src/adapter/codeWindow.ts).
  external: ['vscode', 'iced-x86'],
};
const entries = [
  { entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { entryPoints: ['src/adapter/main.ts'], outfile: 'dist/debugAdapter.js' },
  // The watcher that outlives a killed adapter to end its processes (reaper.ts), small to start.
  { entryPoints: ['src/adapter/reaperMain.ts'], outfile: 'dist/reaper.js' },
  // The adapter as a library (InlineDebugSession), for the integration tests' in-process mode; the
  // extension bundles the same class into dist/extension.js.
  { entryPoints: ['src/adapter/inline.ts'], outfile: 'dist/inlineAdapter.js' },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['src/language/server.ts'], outfile: 'dist/languageServer.js' },
  // The Memory view's webview script: runs in the webview, not in Node.
  { entryPoints: ['src/extension/memory/webview/main.ts'], outfile: 'dist/memoryView.js', platform: 'browser', format: 'iife', sourcemap: false },
];
// iced-x86 (the adapter's x86 instruction-length decoder) loads its WebAssembly from its own directory.
const icedDir = dirname(createRequire(import.meta.url).resolve('iced-x86'));
mkdirSync('dist', { recursive: true });
for (const f of ['iced_x86.js', 'iced_x86_bg.wasm']) copyFileSync(join(icedDir, f), join('dist', f));
const contexts = await Promise.all(entries.map((e) => esbuild.context({ ...common, ...e })));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
