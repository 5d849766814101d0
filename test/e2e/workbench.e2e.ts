// The product in a real VS Code (code-server 4.100.3) driven through Chromium, as a person uses it:
// F5 to a breakpoint, a crash in the Crash Trace panel, Analyze Console Log, console logs as a language.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { harness, T, type Harness } from './harness';
import { activeTab, cleanSlate, cursorLine, expandPane, goToLine, gutterLine, quickInput, quickOpen, row, runCommand, screenshot } from './ui';

describe('Unikernel debugger in VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;
  /** What the Crash Trace panel showed for the live crash: its frame labels. */
  let liveFrames: string[] = [];

  before(async () => {
    h = await harness();
    page = await h.openWorkbench();
    // F5 does something only once the workbench knows the launch configuration.
    await page.locator('[id="status.debug"]').filter({ hasText: 'Fixture (multiboot a.out kludge)' }).waitFor({ timeout: T.medium });
    await cleanSlate(page);
  });

  after(async () => {
    await page?.close().catch(() => undefined);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`);
    // Leave the window as the next test expects it: no open picker, no session.
    await page.keyboard.press('Escape');
    if (await page.locator('.debug-toolbar').isVisible()) await stopSession().catch(() => undefined);
  });

  async function waitNoSession(): Promise<void> {
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
  }

  async function stopSession(): Promise<void> {
    await page.keyboard.press('Shift+F5');
    await waitNoSession();
  }

  it('F5 stops at a breakpoint set in the editor: call stack, highlighted line, locals', async () => {
    const line = h.marker('compute');
    await quickOpen(page, 'kernel.c');
    await goToLine(page, line);
    await page.keyboard.press('F9');
    const glyph = page.locator('.editor-group-container.active .monaco-editor .codicon-debug-breakpoint');
    await glyph.first().waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'breakpoint-set');

    await page.keyboard.press('F5');
    const frame = page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'compute' }).first();
    await frame.waitFor({ state: 'visible', timeout: T.debugStop });
    await page.locator('.monaco-editor .debug-top-stack-frame-line').first().waitFor({ state: 'visible', timeout: T.short });
    await cursorLine(page, line);
    const variables = await expandPane(page, 'Variables');
    const sum = row(variables, /\bsum\s*[=:]\s*13\b/);
    await sum.first().waitFor({ state: 'visible', timeout: T.medium });
    const product = row(variables, /\bproduct\s*[=:]\s*42\b/);
    await product.first().waitFor({ state: 'visible', timeout: T.short });
    assert.match((await frame.textContent()) ?? '', /compute.*kernel\.c/);
    await screenshot(page, 'stopped-at-breakpoint');

    // The breakpoint goes again (F9 on its line), so the next sessions run through.
    await page.locator('.editor-group-container.active .monaco-editor').first().click({ position: { x: 400, y: 5 } }).catch(() => undefined);
    await goToLine(page, line);
    await page.keyboard.press('F9');
    await stopSession();
    await glyph.first().waitFor({ state: 'hidden', timeout: T.short });
  });

  it('a crashing image fills the Crash Trace panel; a frame opens its source line', async () => {
    await runCommand(page, 'Remove All Breakpoints');
    await runCommand(page, 'Debug: Select and Start Debugging');
    const config = quickInput(page).locator('.monaco-list-row', { hasText: 'Fixture: crash' }).first();
    await config.waitFor({ state: 'visible', timeout: T.short });
    await config.click();

    // Stopped at the crash: VS Code's exception widget over the faulting line.
    await page.locator('.exception-widget', { hasText: 'page-fault' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    // The view opens by itself at a live crash (VS Code adds it collapsed, at the bottom).
    await page.locator('.pane-header[aria-label="Unikernel Crash Trace Section"][aria-expanded="true"]').waitFor({ timeout: T.medium });
    const panel = await expandPane(page, 'Unikernel Crash Trace');
    const crash = row(panel, /page-fault/).first();
    await crash.waitFor({ state: 'visible', timeout: T.medium });
    const frame = row(panel, /crash_null_write — kernel\.c:\d+/).first();
    await frame.waitFor({ state: 'visible', timeout: T.medium });
    liveFrames = await frameLabels(panel);
    await screenshot(page, 'crash-trace-panel');

    // Another editor first, so the click visibly takes us to the frame's source.
    await quickOpen(page, 'console.c');
    await frame.click();
    const line = h.marker('crash-write');
    await activeTab(page, 'kernel.c').waitFor({ state: 'visible', timeout: T.short });
    await cursorLine(page, line);
    await gutterLine(page, line).first().waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'crash-frame-opened');
    // Continue: the guest prints its crash report and halts, and the session ends by itself.
    await page.keyboard.press('F5');
    await waitNoSession();
    const log = join(h.ws, 'logs/crash.console.log');
    assert.ok(existsSync(log), 'the session wrote its console log');
    assert.match(readFileSync(log, 'utf8'), /Solo5: trap: type=#PF/);
  });

  it('Analyze Console Log on the saved log gives the same trace with no session running', async () => {
    const log = join(h.ws, 'logs/crash.console.log');
    const panel = await expandPane(page, 'Unikernel Crash Trace');
    await panel.hover();
    await page.locator('.pane-header[aria-label="Unikernel Crash Trace Section"] .action-label[aria-label="Clear"]').click();
    await row(panel, /page-fault/).first().waitFor({ state: 'hidden', timeout: T.short });
    assert.equal(await page.locator('.debug-toolbar').isVisible(), false, 'no session is running');

    await runCommand(page, 'Unikernel: Analyze Console Log…');
    // The simple file dialog: type the log's path.
    const box = quickInput(page).locator('input.input');
    await box.waitFor({ state: 'visible', timeout: T.short });
    // The dialog opens at the workspace folder; type the rest of the path as a person would.
    await page.waitForFunction(
      (ws) => (document.querySelector('.quick-input-widget input.input') as HTMLInputElement | null)?.value.startsWith(ws),
      h.ws,
      { timeout: T.short },
    );
    await box.press('End');
    await box.pressSequentially('logs/crash.console.log', { delay: 20 });
    await page.waitForFunction(
      (want) => (document.querySelector('.quick-input-widget input.input') as HTMLInputElement | null)?.value === want,
      log,
      { timeout: T.short },
    );
    await screenshot(page, 'analyze-pick-log');
    await page.keyboard.press('Enter');
    // Then the symbols: the ELF the debugger recorded next to the log is offered first.
    const symbols = quickInput(page).locator('.monaco-list-row', { hasText: 'kernel.elf' }).first();
    await symbols.waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'analyze-pick-symbols');
    await symbols.click();

    const frame = row(panel, /crash_null_write — kernel\.c:\d+/).first();
    await frame.waitFor({ state: 'visible', timeout: T.medium });
    await row(panel, /crash\.console\.log/).first().waitFor({ state: 'visible', timeout: T.short });
    const analyzed = await frameLabels(panel);
    assert.ok(analyzed.length > 0);
    assert.equal(analyzed[0], liveFrames[0], `the first frame is the same: live ${liveFrames.join(' | ')}; analyzed ${analyzed.join(' | ')}`);
    await screenshot(page, 'analyze-result');
  });

  it('a console log opens as the console language: a diagnostic on the crash line, a hover on an address', async () => {
    const log = join(h.ws, 'logs/crash.console.log');
    await quickOpen(page, 'crash.console.log');
    await page.locator('[id="status.editor.mode"]', { hasText: 'Unikernel Console' }).waitFor({ timeout: T.medium });
    const text = readFileSync(log, 'utf8');
    const lines = text.split(/\r?\n/);
    const trapLine = lines.findIndex((l) => /Solo5: trap: type=#PF/.test(l)) + 1;
    assert.ok(trapLine > 0, 'the log has the trap line');
    const rip = /rip=(0x[0-9a-f]+)/.exec(lines[trapLine - 1])?.[1] as string;
    await goToLine(page, trapLine);
    // The diagnostic: a squiggle in the editor, and one error in the status bar's problem count.
    await page.locator('.editor-group-container.active .squiggly-error').first().waitFor({ state: 'visible', timeout: T.medium });
    await page.locator('[id="status.problems"]', { hasText: /[1-9]/ }).waitFor({ timeout: T.short });
    await screenshot(page, 'console-log-language');

    // Hover over the faulting rip.
    const token = page.locator('.editor-group-container.active .view-line span', { hasText: rip }).last();
    await token.waitFor({ state: 'visible', timeout: T.short });
    const box = await token.boundingBox();
    assert.ok(box);
    const text0 = (await token.textContent()) ?? '';
    const at = Math.max(0, text0.indexOf(rip)) + rip.length / 2;
    await page.mouse.move(box.x + (box.width * at) / Math.max(1, text0.length), box.y + box.height / 2);
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'crash_null_write' }).first();
    await hover.waitFor({ state: 'visible', timeout: T.medium });
    assert.match((await hover.textContent()) ?? '', new RegExp(`kernel\\.c:${h.marker('crash-write')}`));
    await screenshot(page, 'console-log-hover');
  });

  it('crashes stay in the panel across a window reload', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: T.workbench });
    await page.locator('[id="status.debug"]').waitFor({ timeout: T.medium });
    if (!(await page.locator('.pane-header[aria-label="Unikernel Crash Trace Section"]').isVisible())) await page.keyboard.press('Control+Shift+D');
    const panel = await expandPane(page, 'Unikernel Crash Trace');
    await row(panel, /crash_null_write — kernel\.c:\d+/).first().waitFor({ state: 'visible', timeout: T.medium });
    await screenshot(page, 'crash-trace-after-reload');
  });

  it('a recorded session shows Step Back, Reverse Continue, Reverse Step Into and Out; going back from the crash', async () => {
    await runCommand(page, 'Debug: Select and Start Debugging');
    const config = quickInput(page).locator('.monaco-list-row', { hasText: 'Fixture: recorded bad index' }).first();
    await config.waitFor({ state: 'visible', timeout: T.short });
    await config.click();
    await page.locator('.exception-widget', { hasText: 'page-fault' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    const toolbar = page.locator('.debug-toolbar');
    const action = (label: string): Locator => toolbar.locator(`.action-label[aria-label^="${label}"]`).first();
    for (const label of ['Step Back', 'Reverse', 'Reverse Step Into', 'Reverse Step Out']) {
      await action(label).waitFor({ state: 'visible', timeout: T.short });
    }
    await screenshot(page, 'recorded-session-toolbar');
    const top = page.locator('.debug-call-stack .monaco-list-row .stack-frame').first();
    assert.match((await top.textContent()) ?? '', /use_slot/);
    await action('Reverse Step Out').click();
    await page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'bad_index' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    await page.locator('.notifications-toasts', { hasText: 'Replaying the recording' }).first().waitFor({ state: 'visible', timeout: T.short });
    // The crash is behind us: no exception widget any more.
    await page.locator('.exception-widget').first().waitFor({ state: 'hidden', timeout: T.short });
    await action('Reverse Step Into').click();
    await page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'tidy_up' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    await cursorLine(page, h.marker('tidy') + 1);
    await screenshot(page, 'reverse-step-into');
    await stopSession();
  });
});

async function frameLabels(panel: Locator): Promise<string[]> {
  const labels = await panel.locator('.monaco-list-row .label-name').allTextContents();
  return labels.map((r) => r.trim()).filter((r) => / — /.test(r));
}
