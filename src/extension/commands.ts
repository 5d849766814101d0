/**
 * The Crash Trace commands: Analyze Console Log…, Copy Trace as Text, Clear, opening frames and console
 * lines, and picking the symbols ELF for a console log.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analyzeLog, Symbolizer, symbolizeReport, type CrashReport } from '../crash';
import { LANGUAGE_ID, symbolsFromSetting, symbolsFromSidecar } from './consoleLogs';
import { formatCrashText, type CrashEntry } from './crashModel';
import type { CrashStore } from './crashStore';
import type { CrashNode, CrashView } from './crashView';
import type { ConsoleLanguage } from './languageClient';

/** Largest log Analyze reads (the language server has no such bound; it only sees open editors). */
const MAX_LOG_BYTES = 512 * 1024 * 1024;
const RECENT_SYMBOLS_KEY = 'unikernel.analyze.recentSymbols';

interface SymbolsItem extends vscode.QuickPickItem {
  choice: 'path' | 'browse' | 'none';
  path?: string;
}

export interface AnalyzeResult {
  log: string;
  symbols?: string;
  entries: CrashEntry[];
}

export function registerCommands(
  context: vscode.ExtensionContext,
  store: CrashStore,
  view: CrashView,
  language: ConsoleLanguage,
): void {
  const entryOf = (node?: CrashNode): CrashEntry | undefined => {
    if (node) return store.get(node.entry.id) ?? node.entry;
    const selected = view.tree.selection[0];
    return selected ? store.get(selected.entry.id) : store.all[0];
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('unikernel.crashTrace.show', () => view.show()),
    vscode.commands.registerCommand('unikernel.crashTrace.clear', () => store.clear()),
    vscode.commands.registerCommand('unikernel.crashTrace.remove', (node?: CrashNode) => {
      const entry = entryOf(node);
      return entry ? store.remove(entry.id) : undefined;
    }),
    vscode.commands.registerCommand('unikernel.crashTrace.copy', async (node?: CrashNode) => {
      const entry = entryOf(node);
      if (!entry) {
        void vscode.window.showInformationMessage('There is no crash to copy.');
        return undefined;
      }
      const text = formatCrashText(entry);
      await vscode.env.clipboard.writeText(text);
      vscode.window.setStatusBarMessage('$(copy) Crash trace copied', 3000);
      return text;
    }),
    vscode.commands.registerCommand('unikernel.crashTrace.openFrame', (file: string, line: number) => openAt(file, line)),
    vscode.commands.registerCommand('unikernel.crashTrace.openConsole', async (log: string, line: number, kind?: string) =>
      openAt(log, await crashLineIn(log, line, kind), LANGUAGE_ID),
    ),
    vscode.commands.registerCommand('unikernel.analyzeConsoleLog', async (log?: vscode.Uri | string, symbols?: string | null) => {
      const result = await analyzeCommand(context, store, log, symbols);
      if (!result) return undefined;
      if (result.entries.length === 0) {
        void vscode.window.showInformationMessage(`No crash found in ${path.basename(result.log)}.`);
      } else {
        await view.show(result.entries[0]);
      }
      return result;
    }),
    vscode.commands.registerCommand('unikernel.consoleLog.selectSymbols', async (target?: vscode.Uri) => {
      const uri = target ?? vscode.window.activeTextEditor?.document.uri;
      if (!uri) {
        void vscode.window.showInformationMessage('Open a console log first.');
        return;
      }
      const picked = await pickSymbols(context, uri.fsPath, language.picked(uri), true);
      if (picked === undefined) return;
      await language.setSymbols(uri, picked ?? undefined);
      vscode.window.setStatusBarMessage(picked ? `Console log symbols: ${path.basename(picked)}` : 'Console log symbols: none', 4000);
    }),
  );
}

/**
 * The console line where a crash starts. A live stop knows only how many lines the console had printed
 * when the guest stopped; the log, read now, shows where the crash's own lines are.
 */
async function crashLineIn(log: string, line: number, kind: string | undefined): Promise<number> {
  if (!kind) return line;
  try {
    const info = await stat(log);
    if (info.size > MAX_LOG_BYTES) return line;
    const reports = analyzeLog(await readFile(log, 'utf8')).filter((r) => r.kind === kind);
    const after = reports.filter((r) => r.line >= line - 1).sort((a, b) => a.line - b.line)[0];
    const best = after ?? reports.sort((a, b) => Math.abs(a.line - line) - Math.abs(b.line - line))[0];
    return best?.line ?? line;
  } catch {
    return line;
  }
}

/** Opens a file with the cursor on a 1-based line, the line selected and centred. */
export async function openAt(file: string, line: number, languageId?: string): Promise<vscode.TextEditor | undefined> {
  if (!existsSync(file)) {
    void vscode.window.showErrorMessage(`${file} does not exist (any more).`);
    return undefined;
  }
  let doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  if (languageId && doc.languageId !== languageId && (doc.languageId === 'plaintext' || doc.languageId === 'log')) {
    doc = await vscode.languages.setTextDocumentLanguage(doc, languageId);
  }
  const l = Math.min(Math.max(0, (Number(line) || 1) - 1), Math.max(0, doc.lineCount - 1));
  const text = doc.lineAt(l);
  const range = new vscode.Range(l, text.firstNonWhitespaceCharacterIndex, l, text.range.end.character);
  const editor = await vscode.window.showTextDocument(doc, { selection: range, preview: true });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}

async function analyzeCommand(
  context: vscode.ExtensionContext,
  store: CrashStore,
  logArg: vscode.Uri | string | undefined,
  symbolsArg: string | null | undefined,
): Promise<AnalyzeResult | undefined> {
  let log = typeof logArg === 'string' ? logArg : logArg?.fsPath;
  if (!log) {
    const active = vscode.window.activeTextEditor?.document;
    const picked = await vscode.window.showOpenDialog({
      title: 'Analyze Console Log',
      openLabel: 'Analyze',
      canSelectFiles: true,
      canSelectFolders: false,
      canSelectMany: false,
      defaultUri: active?.languageId === LANGUAGE_ID ? active.uri : vscode.workspace.workspaceFolders?.[0]?.uri,
      filters: { 'Console logs': ['log', 'txt', 'out'], 'All files': ['*'] },
    });
    log = picked?.[0]?.fsPath;
    if (!log) return undefined;
  }
  let symbols: string | undefined;
  if (symbolsArg === undefined) {
    const picked = await pickSymbols(context, log, undefined, false);
    if (picked === undefined) return undefined;
    symbols = picked ?? undefined;
  } else {
    symbols = symbolsArg ?? undefined;
  }
  const logPath = log;
  return vscode.window.withProgress(
    { location: { viewId: 'unikernel.crashTrace' }, title: 'Analyzing console log' },
    async () => {
      let reports: CrashReport[];
      try {
        const info = await stat(logPath);
        if (info.size > MAX_LOG_BYTES) throw new Error(`it is larger than ${MAX_LOG_BYTES >> 20} MiB`);
        reports = analyzeLog(await readFile(logPath, 'utf8'));
      } catch (err) {
        void vscode.window.showErrorMessage(`Cannot analyze ${logPath}: ${(err as Error).message}`);
        return undefined;
      }
      if (symbols && reports.length > 0) {
        let symbolizer: Symbolizer | undefined;
        try {
          symbolizer = await Symbolizer.open(symbols);
          const s = symbolizer;
          reports = await Promise.all(reports.map((r) => symbolizeReport(r, s).catch(() => r)));
        } catch (err) {
          void vscode.window.showWarningMessage(`The trace is not symbolized: ${(err as Error).message}`);
        } finally {
          symbolizer?.dispose();
        }
      }
      const time = Date.now();
      const entries: CrashEntry[] = [];
      // Added last to first, so the log's first crash ends on top.
      for (const report of [...reports].reverse()) {
        entries.unshift(await store.add({ id: store.newId(), report, time, origin: path.basename(logPath), via: 'log', log: logPath, symbols }));
      }
      return { log: logPath, symbols, entries };
    },
  );
}

/**
 * Asks which ELF resolves a log's addresses. Resolves to a path, to null for "no symbols", and to
 * undefined when the user cancelled.
 */
async function pickSymbols(context: vscode.ExtensionContext, log: string, current: string | undefined, offerDefault: boolean): Promise<string | null | undefined> {
  const items: SymbolsItem[] = [];
  const seen = new Set<string>();
  const add = (p: string | undefined, description: string) => {
    if (!p || seen.has(p)) return;
    seen.add(p);
    items.push({ label: `$(file-binary) ${path.basename(p)}`, description, detail: p, choice: 'path', path: p });
  };
  add(current, 'picked for this log');
  add(await symbolsFromSidecar(log), 'recorded by the debugger next to this log');
  add(symbolsFromSetting(vscode.Uri.file(log)), 'unikernel.consoleLog.symbols');
  for (const recent of context.workspaceState.get<string[]>(RECENT_SYMBOLS_KEY) ?? []) if (existsSync(recent)) add(recent, 'used before');
  items.push({ label: '$(folder-opened) Choose an ELF…', choice: 'browse' });
  items.push({ label: offerDefault ? '$(discard) Default (sidecar or setting)' : '$(circle-slash) No symbols (addresses only)', choice: 'none' });
  const pick = await vscode.window.showQuickPick(items, {
    title: `Symbols for ${path.basename(log)}`,
    placeHolder: 'The ELF with debug information that the image was built from',
    matchOnDetail: true,
  });
  if (!pick) return undefined;
  if (pick.choice === 'none') return null;
  let chosen = pick.path;
  if (pick.choice === 'browse') {
    const uris = await vscode.window.showOpenDialog({
      title: 'Symbols ELF',
      openLabel: 'Use These Symbols',
      canSelectMany: false,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    chosen = uris?.[0]?.fsPath;
    if (!chosen) return undefined;
  }
  if (chosen) {
    const recent = [chosen, ...(context.workspaceState.get<string[]>(RECENT_SYMBOLS_KEY) ?? []).filter((p) => p !== chosen)].slice(0, 5);
    await context.workspaceState.update(RECENT_SYMBOLS_KEY, recent);
  }
  return chosen;
}
