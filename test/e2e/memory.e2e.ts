// The Unikernel Memory view in a real VS Code (code-server 4.100.3) through Chromium, with no other
// extension installed: opened from a pointer in the Variables view, it shows the bytes the pointer
// points to, changes one (the Variables view follows), marks what a step changed, sets a data
// breakpoint on a selection, opens a second view side by side from a typed expression; and nothing
// asks the network (or the extension gallery) for the Hex Editor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { galleryRequests, harness, T, type Harness } from './harness';
import { cleanSlate, expandPane, goToLine, quickInput, quickOpen, row, runCommand, screenshot } from './ui';

/** Symbol addresses of the workspace's own build of the fixture (`nm`). */
function symbols(elf: string): Map<string, bigint> {
  const r = spawnSync('nm', [elf], { encoding: 'utf8' });
  assert.equal(r.status, 0, `nm ${elf}: ${r.stderr}`);
  const out = new Map<string, bigint>();
  for (const line of r.stdout.split('\n')) {
    const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
    if (m?.[1] && m[2]) out.set(m[2], BigInt(`0x${m[1]}`));
  }
  return out;
}

const hex = (a: bigint): string => `0x${a.toString(16)}`;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

describe('Unikernel Memory view (code-server + Chromium, no other extension)', function () {
  this.timeout(180_000);
  let h: Harness;
  let page: Page;
  let sym: Map<string, bigint>;
  /** Requests the page made to anywhere but this machine. */
  const external: string[] = [];
  let startedAt = 0;

  before(async () => {
    h = await harness();
    sym = symbols(join(h.ws, 'build/kernel.elf'));
    startedAt = Date.now();
    page = await h.openWorkbench();
    page.context().on('request', (r) => {
      const url = new URL(r.url());
      if ((url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:' || url.protocol === 'wss:') && !LOCAL_HOSTS.has(url.hostname)) {
        external.push(r.url());
      }
    });
    await page.locator('[id="status.debug"]').waitFor({ timeout: T.medium });
    await cleanSlate(page);
  });

  after(async () => {
    // The next tests expect no breakpoint and no session.
    if (page && !page.isClosed()) await cleanSlate(page).catch(() => undefined);
    await page?.close().catch(() => undefined);
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !page) return;
    await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 40)}`);
    await page.keyboard.press('Escape');
    if (await page.locator('.debug-toolbar').isVisible()) {
      await page.keyboard.press('Shift+F5');
      await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium }).catch(() => undefined);
    }
  });

  const toolbarAction = (label: string): Locator => page.locator(`.debug-toolbar .action-label[aria-label^="${label}"]`).first();
  const topFrame = (name: string): Locator => page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: name }).first();
  /** The newest Memory view's page (a webview: an iframe in an iframe). */
  const memoryView = (index: number): FrameLocator =>
    page.locator('iframe.webview').nth(index).contentFrame().locator('iframe#active-frame').contentFrame();
  const cell = (view: FrameLocator, address: bigint): Locator => view.locator(`#rows .cell[data-address="${hex(address)}"]`);

  it('opens from a pointer, shows its bytes, edits one, marks what a step changed, breaks on a write', async () => {
    const counter = sym.get('global_counter');
    const calls = sym.get('compute_calls');
    const helperCalls = sym.get('step_helper_calls');
    assert.ok(counter !== undefined && calls !== undefined && helperCalls !== undefined, 'the fixture has its counters');

    await quickOpen(page, 'kernel.c');
    await goToLine(page, h.marker('demo-compute'));
    await page.keyboard.press('F9');
    await runCommand(page, 'Debug: Select and Start Debugging');
    await quickInput(page).locator('.monaco-list-row', { hasText: 'Fixture (multiboot a.out kludge)' }).first().click();
    await topFrame('run_demo').waitFor({ state: 'visible', timeout: T.debugStop });

    // The pointer's menu in the Variables view: our command, no other extension needed.
    const variables = await expandPane(page, 'Variables');
    const pointer = row(variables, /^\s*counter_ptr\b/).first();
    await pointer.waitFor({ state: 'visible', timeout: T.medium });
    await pointer.click({ button: 'right' });
    // The menu takes the item under the pointer and Enter (a click right after it opens is ignored).
    await page.locator('.monaco-menu .action-label', { hasText: 'Open in Memory View' }).first().hover();
    await page.locator('.monaco-menu .action-item.focused', { hasText: 'Open in Memory View' }).waitFor({ timeout: T.short });
    await page.keyboard.press('Enter');
    const view = memoryView(0);
    // count_up() ran: global_counter (unsigned long) is 5, little-endian.
    await cell(view, counter).filter({ hasText: /^05$/ }).waitFor({ timeout: T.medium });
    const held: string[] = [];
    for (let i = 0n; i < 8n; i++) held.push((await cell(view, counter + i).textContent()) ?? '');
    assert.deepEqual(held, ['05', '00', '00', '00', '00', '00', '00', '00']);
    assert.match((await view.locator('#status').textContent()) ?? '', /counter_ptr/);
    await page.locator('.tabs-container .tab', { hasText: 'Memory · counter_ptr' }).waitFor({ timeout: T.short });
    await screenshot(page, 'memory-view-opened');

    // Go to the pointer itself (typed in the view), follow the address it holds, and come back.
    const status = view.locator('#status');
    await view.locator('#target').fill('&counter_ptr');
    await view.locator('#target').press('Enter');
    await status.filter({ hasText: /^&counter_ptr at 0x/ }).waitFor({ timeout: T.medium });
    const slot = BigInt(/at (0x[0-9a-f]+)/.exec((await status.textContent()) ?? '')?.[1] ?? '0');
    const lowByte = (counter & 0xffn).toString(16).padStart(2, '0');
    await cell(view, slot).filter({ hasText: new RegExp(`^${lowByte}$`) }).waitFor({ timeout: T.medium });
    await view.locator('#follow').click();
    await status.filter({ hasText: new RegExp(`^\\*\\(void \\*\\*\\)${hex(slot)} at ${hex(counter)}\\b`) }).waitFor({ timeout: T.medium });
    await cell(view, counter).filter({ hasText: /^05$/ }).waitFor({ timeout: T.medium });
    await view.locator('#back').click();
    await status.filter({ hasText: /^&counter_ptr at / }).waitFor({ timeout: T.medium });
    await view.locator('#back').click();
    await status.filter({ hasText: /^counter_ptr at / }).waitFor({ timeout: T.medium });
    assert.equal(await view.locator('#back').isDisabled(), true, 'back where it was opened');

    // Edit the low byte: the Variables view shows the new value through the pointer.
    await pointer.locator('.monaco-tl-twistie').click();
    await row(variables, /\*counter_ptr\s*[=:]\s*5\b/).first().waitFor({ timeout: T.medium });
    await cell(view, counter).dblclick();
    const edit = view.locator('input.edit');
    await edit.waitFor({ timeout: T.short });
    await edit.fill('2a');
    await edit.press('Enter');
    await cell(view, counter).filter({ hasText: /^2a$/ }).waitFor({ timeout: T.medium });
    await row(variables, /\*counter_ptr\s*[=:]\s*42\b/).first().waitFor({ timeout: T.medium });
    await screenshot(page, 'memory-view-edited');

    // Step over compute(): compute_calls goes 0 → 1 and is marked; the edited counter is not.
    await toolbarAction('Step Over').click();
    await cell(view, calls).and(view.locator('.changed')).filter({ hasText: /^01$/ }).waitFor({ timeout: T.debugStop });
    assert.equal(await cell(view, counter).evaluate((e) => e.classList.contains('changed')), false, 'the counter did not change in the step');
    await screenshot(page, 'memory-view-step-changed');

    // A data breakpoint on the 4 bytes of step_helper_calls, selected with click and shift-click.
    await cell(view, helperCalls).click();
    await cell(view, helperCalls + 3n).click({ modifiers: ['Shift'] });
    assert.match((await view.locator('#status').textContent()) ?? '', new RegExp(`selected ${hex(helperCalls)}–${hex(helperCalls + 3n)} \\(4 bytes\\)`));
    await view.locator('#break-write').click();
    await view.locator('#breakpoints li', { hasText: `write · 4 bytes at ${hex(helperCalls)}` }).waitFor({ timeout: T.medium });
    assert.equal(await view.locator('#breakpoints li.unverified').count(), 0, 'the adapter set it');
    await toolbarAction('Continue').click();
    await topFrame('step_helper').waitFor({ state: 'visible', timeout: T.debugStop });
    await cell(view, helperCalls).and(view.locator('.changed')).filter({ hasText: /^01$/ }).waitFor({ timeout: T.medium });
    await screenshot(page, 'memory-view-data-breakpoint');

    // A second view beside the first, from a typed expression: the global struct point { 100, 200 }.
    await runCommand(page, 'Unikernel: Open Memory View…');
    const box = quickInput(page).locator('input.input');
    await box.waitFor({ state: 'visible', timeout: T.short });
    await box.fill('&global_anchor');
    await box.press('Enter');
    await page.locator('iframe.webview').nth(1).waitFor({ timeout: T.medium });
    const second = memoryView(1);
    const anchor = sym.get('global_anchor');
    assert.ok(anchor !== undefined);
    await cell(second, anchor).filter({ hasText: /^64$/ }).waitFor({ timeout: T.medium }); // 100
    await cell(second, anchor + 4n).filter({ hasText: /^c8$/ }).waitFor({ timeout: T.medium }); // 200
    // 4-byte words: the two ints read as numbers.
    await second.locator('button[data-size="4"]').click();
    await cell(second, anchor).filter({ hasText: /^00000064$/ }).waitFor({ timeout: T.short });
    await cell(second, anchor + 4n).filter({ hasText: /^000000c8$/ }).waitFor({ timeout: T.short });
    assert.equal(await page.locator('iframe.webview').count(), 2, 'two Memory views side by side');
    await screenshot(page, 'memory-views-side-by-side');

    // Past the guest's 1 GiB identity map nothing is readable: marked so, not shown as zeros.
    await second.locator('#target').fill('0x400000000');
    await second.locator('#target').press('Enter');
    await cell(second, 0x400000000n).and(second.locator('.unreadable')).filter({ hasText: /^\?{8}$/ }).waitFor({ timeout: T.medium });
    assert.equal(await second.locator('#rows .cell:not(.unreadable)').count(), 0, 'every word on screen is unreadable');
  });

  it('asks nobody for the Hex Editor: no request leaves the machine, none reaches the extension gallery', async () => {
    assert.deepEqual(external, [], 'requests to other hosts');
    // (The workbench asks the gallery about the extension under development when it loads; that is
    // VS Code's own doing and has nothing to do with binary data.)
    const asked = galleryRequests().filter((r) => r.time >= startedAt && /hexeditor|hex-editor|hexedit/i.test(`${r.url} ${r.body}`));
    assert.deepEqual(asked.map((r) => `${r.method} ${r.url} ${r.body.slice(0, 300)}`), [], 'requests to the extension gallery for the Hex Editor');
    assert.equal(await page.locator('.notifications-toasts', { hasText: /Hex Editor|ENOTFOUND|open-vsx/i }).count(), 0);

    // The control: VS Code's own "View Binary Data" on the same pointer does go to the gallery for
    // the Hex Editor, and the stand-in sees it, so the check above would have caught it.
    const variables = await expandPane(page, 'Variables');
    // Still stopped at the data breakpoint in step_helper: run_demo's frame has the pointer.
    await page.locator('.debug-call-stack .monaco-list-row .stack-frame', { hasText: 'run_demo' }).first().click();
    await page.locator('.debug-call-stack .monaco-list-row.selected', { hasText: 'run_demo' }).waitFor({ timeout: T.short });
    const pointer = row(variables, /^\s*counter_ptr\b/).first();
    await pointer.hover();
    await pointer.locator('.action-label[aria-label="View Binary Data"]').click();
    const deadline = Date.now() + T.medium;
    while (!galleryRequests().some((r) => r.time >= startedAt && /hexeditor/i.test(`${r.url} ${r.body}`)) && Date.now() < deadline) {
      await page.waitForTimeout(200);
    }
    assert.ok(galleryRequests().some((r) => /hexeditor/i.test(`${r.url} ${r.body}`)), "VS Code's own action asked the gallery for the Hex Editor");
    await screenshot(page, 'view-binary-data-control');
    await page.keyboard.press('Shift+F5');
    await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.medium });
    await runCommand(page, 'Remove All Breakpoints');
  });
});
