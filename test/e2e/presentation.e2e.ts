// What a stop reads like in a real VS Code (code-server 4.100.3) through Chromium: a watch that fails
// in another frame says so in the Watch view and raises no notification; the page fault's title names
// the faulting address (cr2); the Trap frame scope is in hex; the exception widget's backtrace and the
// Crash Trace panel mark where the trap handler's frames begin; ending the crashed session announces
// nothing that is already on screen.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { harness, T, type Harness } from './harness';
import { cleanSlate, expandPane, goToLine, quickInput, quickOpen, row, runCommand, screenshot } from './ui';

describe('What a stop reads like (code-server + Chromium)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;

  before(async () => {
    h = await harness();
    page = await h.openWorkbench();
    await page.locator('[id="status.debug"]').waitFor({ timeout: T.medium });
    await cleanSlate(page);
  });

  after(async () => {
    if (page && !page.isClosed()) await cleanSlate(page).catch(() => undefined);
    await page?.close().catch(() => undefined);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`);
    await page.keyboard.press('Escape');
    if (await page.locator('.debug-toolbar').isVisible()) await stopSession().catch(() => undefined);
  });

  async function stopSession(): Promise<void> {
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
  }

  /** The notification toasts on screen now, by their text. */
  async function toasts(): Promise<string[]> {
    return page.locator('.notifications-toasts .notification-toast').allTextContents();
  }

  async function start(config: string): Promise<void> {
    await runCommand(page, 'Debug: Select and Start Debugging');
    const item = quickInput(page).locator('.monaco-list-row', { hasText: config }).first();
    await item.waitFor({ state: 'visible', timeout: T.short });
    await item.click();
  }

  it('a watch that fails in another frame shows its error inline and raises no notification', async () => {
    await quickOpen(page, 'kernel.c');
    await goToLine(page, h.marker('compute'));
    await page.keyboard.press('F9');
    await start('Fixture (multiboot a.out kludge)');
    const frames = page.locator('.debug-call-stack .monaco-list-row');
    await frames.filter({ hasText: 'compute' }).first().waitFor({ state: 'visible', timeout: T.debugStop });

    const watch = await expandPane(page, 'Watch');
    await page.locator('.pane-header[aria-label="Watch Section"]').hover();
    await page.locator('.pane-header[aria-label="Watch Section"] .action-label[aria-label="Add Expression"]').click();
    const input = watch.locator('input').first();
    await input.waitFor({ state: 'visible', timeout: T.short });
    await input.pressSequentially('sum', { delay: 20 });
    await input.press('Enter');
    await row(watch, /\bsum\s*[=:]\s*13\b/).first().waitFor({ state: 'visible', timeout: T.medium });

    // The caller's frame has no `sum`: the watch says so where it is, nothing pops up.
    await frames.filter({ hasText: 'kmain' }).first().click();
    const failed = row(watch, /No symbol "sum" in current context\./).first();
    await failed.waitFor({ state: 'visible', timeout: T.medium });
    assert.equal(await failed.locator('.value.error').count(), 1, 'shown as an error value');
    await screenshot(page, 'watch-error-inline');
    // A notification would have come with the response that carries the error.
    await page.waitForTimeout(1_000);
    assert.deepEqual((await toasts()).filter((t) => /No symbol/.test(t)), []);

    await page.locator('.pane-header[aria-label="Watch Section"]').hover();
    await page.locator('.pane-header[aria-label="Watch Section"] .action-label[aria-label="Remove All Expressions"]').click();
    await runCommand(page, 'Remove All Breakpoints');
    await stopSession();
  });

  it('the page fault: cr2 in the title, the Trap frame in hex, the handler\'s frames marked apart', async () => {
    if (await page.locator('.debug-toolbar').isVisible()) await stopSession();
    await runCommand(page, 'Remove All Breakpoints');
    await start('Fixture: crash');
    const widget = page.locator('.exception-widget').first();
    await widget.waitFor({ state: 'visible', timeout: T.debugStop });
    // The title names the faulting address, then the instruction and the line.
    await page.locator('.exception-widget', { hasText: /page fault accessing 0x400000000 at 0x[0-9a-f]+ in crash_null_write \(kernel\.c:\d+\)/ }).first().waitFor({ timeout: T.short });
    // The widget's backtrace: the faulting code's stack ends at _start64, a line says where the handler's begins.
    const text = (await widget.textContent()) ?? '';
    assert.match(text, /#2 0x[0-9a-f]+ in _start64 at boot\.S:\d+\s*--- page fault: handled by trap_handler ---\s*#3 0x[0-9a-f]+ in trap_handler at kernel\.c:\d+/);
    assert.doesNotMatch(text, / at \/[^ ]*kernel\.c/, 'paths are short, not absolute');

    // The Trap frame scope of the rebuilt frame: registers in hex, like every Registers scope.
    const variables = await expandPane(page, 'Variables');
    const scope = row(variables, /^Trap frame$/).first();
    await scope.waitFor({ state: 'visible', timeout: T.medium });
    if ((await scope.getAttribute('aria-expanded')) === 'false') await scope.click();
    await row(variables, /\bcr2\s*[=:]\s*0x400000000\b/).first().waitFor({ state: 'visible', timeout: T.medium });
    // The next member too (rows further down may be outside the pane and not rendered).
    await row(variables, /\br15\s*[=:]\s*0x[0-9a-f]+\b/).first().waitFor({ state: 'visible', timeout: T.short });

    // The Crash Trace panel: a separator row between _start64 and the handler's frames.
    const panel = await expandPane(page, 'Unikernel Crash Trace');
    const rows = panel.locator('.monaco-list-row');
    await row(panel, /page fault: handled by trap_handler/).first().waitFor({ state: 'visible', timeout: T.medium });
    const labels = (await rows.allTextContents()).map((t) => t.trim());
    const sep = labels.findIndex((l) => /page fault: handled by trap_handler/.test(l));
    assert.match(labels[sep - 1] ?? '', /^_start64 — boot\.S:\d+/, labels.join('\n'));
    assert.match(labels[sep + 1] ?? '', /^trap_handler — kernel\.c:\d+/, labels.join('\n'));
    await screenshot(page, 'crash-handler-marked');

    // Continue: the guest prints its own account and halts; nothing already on screen is announced again.
    await page.keyboard.press('F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
    await page.waitForTimeout(1_000);
    assert.deepEqual((await toasts()).filter((t) => /crash|Remote connection|QEMU exited/i.test(t)), []);
  });
});

