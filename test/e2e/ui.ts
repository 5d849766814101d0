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

/** Runs a command from the Command Palette by its full label. */
export async function runCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const box = quickInput(page).locator('input.input');
  await box.waitFor({ state: 'visible', timeout: T.short });
  await box.fill(`>${label}`);
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
  await page.keyboard.press('Enter');
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
