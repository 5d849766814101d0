// A MirageOS image (OCaml on Solo5) in a real VS Code: the call stack of an uncaught exception, stopped
// at the raise, reads in OCaml names, and the exception widget says which exception. The image is the
// real one of ../shared/real-images (CI has it; a clone does not, and then this says it is skipped);
// the harness adds its launch configuration when it is there.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { harness, MIRAGE_CONFIG, REAL_MIRAGE, T, type Harness } from './harness';
import { cleanSlate, quickInput, runCommand, screenshot } from './ui';

(existsSync(join(REAL_MIRAGE, 'hello.virtio')) ? describe : describe.skip)('MirageOS as OCaml in VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;

  before(async () => {
    h = await harness();
    page = await h.openWorkbench();
    await cleanSlate(page);
  });

  after(async () => {
    await page?.close().catch(() => undefined);
  });

  it('an uncaught Failure stops at the raise; the Call Stack view reads Hello.depth … < Hello.main', async () => {
    await runCommand(page, 'Remove All Breakpoints');
    await runCommand(page, 'Debug: Select and Start Debugging');
    const config = quickInput(page).locator('.monaco-list-row', { hasText: MIRAGE_CONFIG }).first();
    await config.waitFor({ state: 'visible', timeout: T.medium });
    await config.click();
    await page.locator('.exception-widget', { hasText: 'Failure("deliberate")' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    const frames = page.locator('.debug-call-stack .monaco-list-row .stack-frame');
    // (The view renders the rows that fit; the module initialiser may be below them.)
    for (const name of ['Hello.depth', 'Hello.main']) {
      await frames.filter({ hasText: name }).first().waitFor({ state: 'visible', timeout: T.short });
    }
    if ((await frames.filter({ hasText: 'camlHello__' }).count()) > 0) throw new Error('a frame still shows its linker name');
    // The editor shows the raising line of hello.ml.
    await page.locator('.monaco-editor .debug-top-stack-frame-line').first().waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'ocaml-uncaught-exception');
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
  });
});
