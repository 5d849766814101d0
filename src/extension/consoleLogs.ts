/**
 * Console logs: where a launch writes one when its configuration names none, which files are shown
 * in the `unikernel-console` language, and which symbols ELF belongs to a log.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseLogMeta } from './crashModel';

export const LANGUAGE_ID = 'unikernel-console';
/** Logs the extension keeps for launches that do not name a `consoleLog`. */
const KEEP_LOGS = 20;

export class ConsoleLogs implements vscode.Disposable {
  /** Console logs of debug sessions seen in this window. */
  private readonly known = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type === 'unikernel' && typeof s.configuration.consoleLog === 'string') this.known.add(path.resolve(s.configuration.consoleLog));
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => void this.claim(doc)),
    );
    for (const doc of vscode.workspace.textDocuments) void this.claim(doc);
  }

  /** Where the extension puts a launch's console when its configuration does not say. */
  get directory(): string {
    return path.join((this.context.storageUri ?? this.context.globalStorageUri).fsPath, 'console-logs');
  }

  /** A fresh log path for a session, after making room (the oldest logs go). */
  async newLogPath(sessionName: string): Promise<string> {
    const dir = this.directory;
    await mkdir(dir, { recursive: true });
    await this.prune(dir);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = sessionName.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'session';
    const log = path.join(dir, `${stamp}-${name}.console.log`);
    this.known.add(log);
    return log;
  }

  private async prune(dir: string): Promise<void> {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.console.log'));
    if (names.length < KEEP_LOGS) return;
    const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(path.join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.t - a.t);
    for (const { n } of dated.slice(KEEP_LOGS - 1)) {
      await rm(path.join(dir, n), { force: true });
      await rm(path.join(dir, `${n}.meta.json`), { force: true });
    }
  }

  /** Gives a log the console language: the debugger's own logs, and any file with a `.meta.json` sidecar. */
  private async claim(doc: vscode.TextDocument): Promise<void> {
    if (doc.uri.scheme !== 'file' || doc.languageId === LANGUAGE_ID) return;
    if (doc.languageId !== 'plaintext' && doc.languageId !== 'log') return;
    const file = doc.uri.fsPath;
    if (this.known.has(file) || existsSync(`${file}.meta.json`)) {
      await vscode.languages.setTextDocumentLanguage(doc, LANGUAGE_ID).then(undefined, () => undefined);
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** The symbols ELF the debugger recorded next to a log (`<log>.meta.json`), if any. */
export async function symbolsFromSidecar(log: string): Promise<string | undefined> {
  const text = await readFile(`${log}.meta.json`, 'utf8').catch(() => undefined);
  const meta = text === undefined ? undefined : parseLogMeta(text);
  if (!meta?.symbols) return undefined;
  return path.isAbsolute(meta.symbols) ? meta.symbols : path.resolve(path.dirname(log), meta.symbols);
}

/** The `unikernel.consoleLog.symbols` setting, resolved against the log's workspace folder. */
export function symbolsFromSetting(log: vscode.Uri): string | undefined {
  const value = vscode.workspace.getConfiguration('unikernel.consoleLog', log).get<string>('symbols')?.trim();
  if (!value) return undefined;
  const folder = vscode.workspace.getWorkspaceFolder(log) ?? vscode.workspace.workspaceFolders?.[0];
  const expanded = folder ? value.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath) : value;
  if (path.isAbsolute(expanded)) return expanded;
  return folder ? path.join(folder.uri.fsPath, expanded) : undefined;
}
