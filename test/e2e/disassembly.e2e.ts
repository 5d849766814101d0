// The Disassembly view in a real VS Code: opened at a stop, it shows the instructions around the
// pc with the current one marked and the function's name and source lines among them; scrolling up
// loads the instructions before (the adapter's exact windows from the image's own code).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { harness, T, type Harness } from './harness';
import { cleanSlate, goToLine, quickInput, quickOpen, runCommand, screenshot } from './ui';

describe('the Disassembly view (code-server + Chromium)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;

  before(async () => {
    h = await harness();
    page = await h.openWorkbench();
    await cleanSlate(page);
  });

  after(async () => {
    if (page && !page.isClosed()) await cleanSlate(page).catch(() => undefined);
    await page?.close().catch(() => undefined);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    await screenshot(page, 'failed-disassembly');
    await page.keyboard.press('Escape');
    if (await page.locator('.debug-toolbar').isVisible()) await page.keyboard.press('Shift+F5');
  });

  /** The addresses the view shows, in order (its rows carry them as text). */
  const shownAddresses = async (): Promise<bigint[]> => {
    const texts = await page.locator('.disassembly-view .monaco-list-row').allInnerTexts();
    return texts.flatMap((t) => {
      const m = /\b(?:0x)?([0-9a-f]{6,16})\b/i.exec(t);
      return m ? [BigInt(`0x${m[1]}`)] : [];
    });
  };

  it('shows the instructions around the pc, the current one marked, and earlier ones on scrolling up', async () => {
    await quickOpen(page, 'kernel.c');
    await goToLine(page, h.marker('compute'));
    await page.keyboard.press('F9');
    await runCommand(page, 'Debug: Select and Start Debugging');
    await quickInput(page).locator('.monaco-list-row', { hasText: 'Fixture (multiboot a.out kludge)' }).first().click();
    await page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'compute' }).first().waitFor({ state: 'visible', timeout: T.debugStop });

    await runCommand(page, 'Open Disassembly View');
    const view = page.locator('.disassembly-view');
    await view.waitFor({ state: 'visible', timeout: T.medium });
    // The current instruction: the row with the stack frame marker, in compute.
    const current = view.locator('.monaco-list-row', { has: page.locator('.codicon-debug-stackframe') }).first();
    await current.waitFor({ state: 'visible', timeout: T.medium });
    await view.locator('.monaco-list-row', { hasText: /compute/ }).first().waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'disassembly-view');
    const before = await shownAddresses();
    assert.ok(before.length > 10, `rows shown: ${before.length}`);
    for (let i = 1; i < before.length; i++) assert.ok(before[i]! > before[i - 1]!, 'addresses ascend');

    // Scrolling up asks for the instructions before the first one shown.
    const first = before[0]!;
    await view.hover();
    for (let k = 0; k < 30 && (await shownAddresses())[0]! >= first; k++) await page.mouse.wheel(0, -2000);
    const after = await shownAddresses();
    assert.ok(after[0]! < first, `earlier instructions: 0x${after[0]!.toString(16)} < 0x${first.toString(16)}`);
    for (let i = 1; i < after.length; i++) assert.ok(after[i]! > after[i - 1]!, 'addresses still ascend');

    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
  });
});
