// Small steps a person does in the workbench, each waiting (bounded) for what it should show.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { OUT, T } from './harness';

let shot = 0;

/** Keeps a screenshot of what the window shows now, as test output. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(OUT, `${String(++shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

export const quickInput = (page: Page): Locator => page.locator('.quick-input-widget');

/**
 * Runs a command from the Command Palette by its full label. A window still settling (editors coming
 * back, focus moving) can close the palette as it opens: then it is opened again, up to three times.
 */
export async function runCommand(page: Page, label: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runCommandOnce(page, label);
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

async function runCommandOnce(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const box = quickInput(page).locator('input.input');
  await box.waitFor({ state: 'visible', timeout: T.short });
  await box.fill(`>${label}`, { timeout: T.short });
  // The row for exactly this command (its aria-label starts with the label and a comma or the end).
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = quickInput(page).locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
  await row.waitFor({ state: 'visible', timeout: T.short });
  await row.click();
}

/** Opens a workspace file through Quick Open (Ctrl+P). */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const box = quickInput(page).locator('input.input');
  await box.waitFor({ state: 'visible', timeout: T.short });
  await box.fill(fileName);
  const row = quickInput(page).locator(`.monaco-list-row[aria-label^="${fileName}"]`).first();
  await row.waitFor({ state: 'visible', timeout: T.medium });
  // The row itself: Enter takes whichever row is focused, which can still be a recent file.
  await row.click();
  await activeTab(page, fileName).waitFor({ state: 'visible', timeout: T.short });
}

export function activeTab(page: Page, fileName: string): Locator {
  return page.locator(`.tabs-container .tab.active[aria-label^="${fileName}"]`);
}

/** Moves the cursor of the active editor to a 1-based line (Ctrl+G). */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const box = quickInput(page).locator('input.input');
  await box.waitFor({ state: 'visible', timeout: T.short });
  await box.fill(`:${line}`);
  // Enter before the picker has taken the text goes nowhere (seen on a freshly loaded workbench).
  await quickInput(page).locator('.monaco-list-row', { hasText: `line ${line}` }).first().waitFor({ state: 'visible', timeout: T.short });
  await page.keyboard.press('Enter');
  await cursorLine(page, line);
}

/** Waits until the status bar says the cursor is on `line`. */
export async function cursorLine(page: Page, line: number, timeout = T.short): Promise<void> {
  await page.locator('[id="status.editor.selection"]').filter({ hasText: new RegExp(`Ln ${line},`) }).waitFor({ state: 'visible', timeout });
}

/** The editor line element showing a 1-based line number in the gutter of the active editor. */
export function gutterLine(page: Page, line: number): Locator {
  return page.locator('.editor-group-container.active .monaco-editor .margin-view-overlays .line-numbers', { hasText: new RegExp(`^${line}$`) });
}

/** Expands a view's pane in the side bar when it is collapsed; returns its body. */
export async function expandPane(page: Page, name: string): Promise<Locator> {
  const header = page.locator(`.pane-header[aria-label="${name} Section"]`);
  await header.waitFor({ state: 'visible', timeout: T.medium });
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await page.locator(`.pane-header[aria-label="${name} Section"][aria-expanded="true"]`).waitFor({ timeout: T.short });
  return header.locator('xpath=..').locator('.pane-body');
}

/** A tree or list row in a pane, by (part of) its accessible label. */
export function row(pane: Locator, label: string | RegExp): Locator {
  return pane.locator('.monaco-list-row').filter({ hasText: label });
}

/**
 * No breakpoints and one empty editor group. A window restores the last one's layout (and the
 * workbench saves it only now and then), so each test file starts from here. The editors of a window
 * just opened may still be coming back: closing is repeated until none is left.
 */
export async function cleanSlate(page: Page): Promise<void> {
  const commands = ['Remove All Breakpoints', 'View: Close All Editor Groups'];
  for (let round = 0; round < 3; round++) {
    for (const command of commands) {
      // Keys go to the workbench, not to a webview that may have the focus.
      await page.locator('.part.sidebar .composite.title').first().click();
      await page.keyboard.press('Escape');
      await runCommand(page, command);
    }
    await page.waitForTimeout(500);
    const tabs = await page.locator('.tabs-container .tab').count();
    const groups = await page.locator('.editor-group-container').count();
    if (tabs === 0 && groups <= 1) return;
    commands.splice(0, 1);
  }
  throw new Error('the editors did not close');
}
