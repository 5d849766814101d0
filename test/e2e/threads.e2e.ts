// Guest threads in a real VS Code: the fixture with a Unikraft-layout scheduler stopped at its marker;
// the Call Stack view lists the guest's own threads by name and state, and a frame of a blocked thread
// (unwound from its saved context) opens its source line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { harness, T, type Harness } from './harness';
import { cleanSlate, cursorLine, goToLine, quickInput, quickOpen, runCommand, screenshot } from './ui';

const NAME = 'Fixture: guest threads (Unikraft layout)';

describe('guest threads in VS Code (code-server + Chromium)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;

  /** The 1-based line of `@bp:NAME` in a workspace source. */
  const markerIn = (file: string, name: string): number => {
    const i = readFileSync(join(h.ws, file), 'utf8').split('\n').findIndex((l) => l.includes(`@bp:${name}`));
    if (i < 0) throw new Error(`marker ${name} not in ${file}`);
    return i + 1;
  };

  before(async () => {
    h = await harness();
    page = await h.openWorkbench();
    await cleanSlate(page);
    const launch = join(h.ws, '.vscode/launch.json');
    const json = JSON.parse(readFileSync(launch, 'utf8')) as { configurations: Record<string, unknown>[] };
    if (!json.configurations.some((c) => c.name === NAME)) {
      json.configurations.push({ type: 'unikernel', request: 'launch', name: NAME, kernel: '${workspaceFolder}/build/threads_qemu-x86_64' });
      writeFileSync(launch, `${JSON.stringify(json, null, 2)}\n`);
    }
  });

  after(async () => {
    await page?.close().catch(() => undefined);
  });

  /** The panes folded to make room, unfolded after the test as the next one expects them. */
  const folded: string[] = [];

  afterEach(async function () {
    if (!page) return;
    const failed = this.currentTest?.state === 'failed';
    if (failed) await screenshot(page, 'failed-guest-threads');
    for (const label of folded.splice(0)) {
      const header = page.locator(`.pane-header[aria-label="${label}"]`);
      if ((await header.getAttribute('aria-expanded').catch(() => null)) === 'false') await header.click().catch(() => undefined);
    }
    if (!failed) return;
    await page.keyboard.press('Escape');
    await runCommand(page, 'Remove All Breakpoints').catch(() => undefined);
    if (await page.locator('.debug-toolbar').isVisible()) await page.keyboard.press('Shift+F5');
  });

  it('the Call Stack view shows the guest threads; a blocked thread\'s frame opens its source line', async () => {
    const stopAt = markerIn('app_ukthreads.c', 'ukthreads-all-blocked');
    const waitLine = markerIn('app_ukthreads.c', 'ukthreads-worker-wait');
    await quickOpen(page, 'app_ukthreads.c');
    await goToLine(page, stopAt);
    await page.keyboard.press('F9');
    await page.locator('.editor-group-container.active .monaco-editor .codicon-debug-breakpoint').first().waitFor({ state: 'visible', timeout: T.short });

    await runCommand(page, 'Debug: Select and Start Debugging');
    const config = quickInput(page).locator('.monaco-list-row', { hasText: NAME }).first();
    await config.waitFor({ state: 'visible', timeout: T.medium });
    await config.click();

    const rows = page.locator('.debug-call-stack .monaco-list-row');
    // stopped in init, at the marker
    await rows.locator('.stack-frame', { hasText: 'main' }).first().waitFor({ state: 'visible', timeout: T.debugStop });
    await cursorLine(page, stopAt);
    // Room for the threads: the other panes of the Run and Debug view fold (the view renders the rows that fit).
    const headers = page.locator('.part.sidebar .pane-header[aria-expanded="true"]');
    for (const label of await headers.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))) {
      if (!label || label === 'Call Stack Section') continue;
      await page.locator(`.pane-header[aria-label="${label}"]`).click();
      folded.push(label);
    }
    for (const name of ['idle (runnable, not started)', 'init', 'worker (blocked)']) {
      await rows.locator('.thread', { hasText: name }).first().waitFor({ state: 'visible', timeout: T.short });
    }
    await screenshot(page, 'guest-threads');

    // The blocked worker: expand it, click its start function's frame: the editor shows its wait line.
    const worker = rows.filter({ has: page.locator('.thread', { hasText: 'worker (blocked)' }) }).first();
    await worker.click();
    if ((await worker.getAttribute('aria-expanded')) !== 'true') await worker.locator('.monaco-tl-twistie').click();
    const frame = rows.locator('.stack-frame', { hasText: 'worker_main' }).first();
    await frame.waitFor({ state: 'visible', timeout: T.medium });
    await frame.click();
    await cursorLine(page, waitLine, T.medium);
    await page.locator('.monaco-editor .debug-focused-stack-frame-line, .monaco-editor .debug-top-stack-frame-line').first().waitFor({ state: 'visible', timeout: T.short });
    await screenshot(page, 'guest-thread-frame');

    // The breakpoint goes, the session ends (the panes unfold after each test).
    await runCommand(page, 'Remove All Breakpoints');
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
  });
});
