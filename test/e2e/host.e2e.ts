// Extension-host tests: the `vscode`-API parts (crash store and tree, commands, language client and
// server) run inside the real extension host of the same code-server, in a second window.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import type { Page } from 'playwright-core';
import { harness, OUT, ROOT } from './harness';
import { HOST_TESTS, type HostResult } from './host/names';
import { screenshot } from './ui';

describe('Extension-host tests (inside code-server)', function () {
  this.timeout(240_000);
  let results = new Map<string, HostResult>();
  let page: Page | undefined;

  before(async function () {
    const h = await harness();
    const bundle = join(OUT, 'host/index.js');
    await build({
      entryPoints: [join(ROOT, 'test/e2e/host/index.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode'],
      logLevel: 'warning',
    });
    // esbuild's service process would keep this run alive after the last test.
    await stopEsbuild();
    h.savedLog('crash');
    const resultsFile = join(OUT, 'host-results.json');
    rmSync(resultsFile, { force: true });
    let exited!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (exited = resolve));
    page = await h.openWorkbench({ testsPath: bundle, onExit: (code) => exited(code) });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exit,
      new Promise<number>((_, fail) => (timer = setTimeout(() => fail(new Error('the extension-host tests did not end within 180 s')), 180_000))),
    ]).finally(() => clearTimeout(timer));
    await screenshot(page, 'extension-host-tests-done');
    assert.ok(existsSync(resultsFile), `the extension-host tests wrote no results (exit code ${code})`);
    results = new Map((JSON.parse(readFileSync(resultsFile, 'utf8')) as HostResult[]).map((r) => [r.name, r]));
  });

  after(async () => {
    await page?.close().catch(() => undefined);
  });

  for (const name of HOST_TESTS) {
    it(name, () => {
      const r = results.get(name);
      assert.ok(r, 'the test ran');
      assert.ok(r.ok, r.error);
    });
  }
});
