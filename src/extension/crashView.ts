/**
 * The "Unikernel Crash Trace" tree in the Run and Debug container: one node per crash, with its frames
 * (a click opens the source), its registers and a way back to the console line.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CrashFrame } from '../crash/report';
import { backtraceRows, crashLabel, frameLabel, sortedRegisters, type CrashEntry } from './crashModel';
import type { CrashStore } from './crashStore';

export const VIEW_ID = 'unikernel.crashTrace';

export type CrashNode =
  | { type: 'crash'; entry: CrashEntry }
  | { type: 'frame'; entry: CrashEntry; frame: CrashFrame; index: number }
  /** Where a trap handler's own frames begin (`page fault: handled by trap_handler`). */
  | { type: 'handler'; entry: CrashEntry; label: string }
  | { type: 'registers'; entry: CrashEntry }
  | { type: 'register'; entry: CrashEntry; name: string; value: string }
  | { type: 'console'; entry: CrashEntry }
  | { type: 'note'; entry: CrashEntry; text: string; index: number };

function time(ms: number): string {
  const d = new Date(ms);
  const today = new Date();
  const hms = d.toLocaleTimeString(undefined, { hour12: false });
  return d.toDateString() === today.toDateString() ? hms : `${d.toLocaleDateString()} ${hms}`;
}

export class CrashTreeProvider implements vscode.TreeDataProvider<CrashNode> {
  private readonly changed = new vscode.EventEmitter<CrashNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: CrashStore) {
    store.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: CrashNode): CrashNode[] {
    if (!node) return this.store.all.map((entry) => ({ type: 'crash', entry }));
    const { entry } = node;
    if (node.type === 'crash') {
      const children: CrashNode[] = backtraceRows(entry.report).map((row) =>
        'label' in row ? { type: 'handler', entry, label: row.label } : { type: 'frame', entry, frame: row.frame, index: row.index },
      );
      (entry.report.notes ?? []).forEach((text, index) => children.push({ type: 'note', entry, text, index }));
      if (Object.keys(entry.report.registers).length > 0) children.push({ type: 'registers', entry });
      if (entry.log) children.push({ type: 'console', entry });
      return children;
    }
    if (node.type === 'registers') {
      return sortedRegisters(entry.report.registers).map(([name, value]) => ({ type: 'register', entry, name, value }));
    }
    return [];
  }

  getParent(node: CrashNode): CrashNode | undefined {
    if (node.type === 'crash') return undefined;
    if (node.type === 'register') return { type: 'registers', entry: node.entry };
    return { type: 'crash', entry: node.entry };
  }

  getTreeItem(node: CrashNode): vscode.TreeItem {
    const { entry } = node;
    const r = entry.report;
    switch (node.type) {
      case 'crash': {
        // The newest crash opens expanded: it is the one the user came for.
        const newest = this.store.all[0]?.id === entry.id;
        const item = new vscode.TreeItem(crashLabel(r), newest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = entry.id;
        item.description = `${r.platform} · ${time(entry.time)}`;
        item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
        item.contextValue = 'unikernelCrash';
        const tip = new vscode.MarkdownString();
        tip.appendMarkdown(`**${r.kind}** (${r.platform})\n\n`);
        tip.appendText(r.message);
        tip.appendMarkdown(`\n\n${entry.via === 'session' ? 'Debug session' : 'Console log'}: `);
        tip.appendText(entry.origin);
        if (entry.log) tip.appendText(`\n${entry.log}${r.line ? `:${r.line}` : ''}`);
        if (entry.symbols) tip.appendText(`\nSymbols: ${entry.symbols}`);
        item.tooltip = tip;
        return item;
      }
      case 'frame': {
        const { label, description } = frameLabel(node.frame);
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
        item.id = `${entry.id}/frame/${node.index}`;
        item.description = description;
        item.contextValue = node.frame.file ? 'unikernelFrameWithSource' : 'unikernelFrame';
        item.iconPath = new vscode.ThemeIcon(node.index === 0 ? 'debug-stackframe-focused' : 'debug-stackframe');
        const f = node.frame;
        item.tooltip = [
          `#${node.index} ${f.address || ''}`.trim(),
          f.function ? `in ${f.function}` : undefined,
          f.file ? `at ${f.file}${f.line ? `:${f.line}` : ''}` : 'no source for this frame',
          ...(f.inlinedBy ?? []).map((c) => `inlined into ${c.function ?? '??'}${c.file ? ` at ${path.basename(c.file)}:${c.line ?? ''}` : ''}`),
        ]
          .filter(Boolean)
          .join('\n');
        if (f.file) {
          item.command = { command: 'unikernel.crashTrace.openFrame', title: 'Open Frame', arguments: [f.file, f.line ?? 1] };
          item.resourceUri = vscode.Uri.file(f.file);
        }
        return item;
      }
      case 'handler': {
        // A separator, as the Call Stack view's label row: the faulting code's stack ends above it.
        const item = new vscode.TreeItem(`── ${node.label} ──`, vscode.TreeItemCollapsibleState.None);
        item.id = `${entry.id}/handler`;
        item.tooltip = `The frames below are the trap handler's own: the stack of the faulting code ends above this line.`;
        return item;
      }
      case 'registers': {
        const item = new vscode.TreeItem('Registers', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${entry.id}/registers`;
        item.iconPath = new vscode.ThemeIcon('symbol-variable');
        item.description = `${Object.keys(r.registers).length}`;
        return item;
      }
      case 'register': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
        item.id = `${entry.id}/registers/${node.name}`;
        item.description = node.value;
        item.tooltip = `${node.name} = ${node.value}`;
        item.contextValue = 'unikernelRegister';
        return item;
      }
      case 'console': {
        const item = new vscode.TreeItem('Open console at this line', vscode.TreeItemCollapsibleState.None);
        item.id = `${entry.id}/console`;
        item.iconPath = new vscode.ThemeIcon('output');
        item.description = `${path.basename(entry.log ?? '')}${r.line ? `:${r.line}` : ''}`;
        item.tooltip = `${entry.log}${r.line ? `:${r.line}` : ''}`;
        item.command = { command: 'unikernel.crashTrace.openConsole', title: 'Open Console at This Line', arguments: [entry.log, r.line || 1, r.kind] };
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = `${entry.id}/note/${node.index}`;
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * The view, its badge, and a status-bar cue for a crash that arrives while the view is not visible.
 */
export class CrashView implements vscode.Disposable {
  readonly provider: CrashTreeProvider;
  readonly tree: vscode.TreeView<CrashNode>;
  private readonly cue: vscode.StatusBarItem;
  private readonly unseen = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly store: CrashStore) {
    this.provider = new CrashTreeProvider(store);
    this.tree = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this.provider, showCollapseAll: true });
    this.cue = vscode.window.createStatusBarItem('unikernel.crashCue', vscode.StatusBarAlignment.Left, 10);
    this.cue.name = 'Unikernel Crash';
    this.cue.command = 'unikernel.crashTrace.show';
    this.cue.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    this.disposables.push(
      this.tree,
      this.cue,
      this.provider,
      store.onDidAdd((entry) => this.onCrash(entry)),
      store.onDidChange(() => {
        if (store.all.length === 0) this.seen();
        this.tree.message = undefined;
      }),
      this.tree.onDidChangeVisibility((e) => {
        if (e.visible) this.seen();
      }),
    );
  }

  private onCrash(entry: CrashEntry): void {
    // VS Code adds extension views to Run and Debug collapsed, at the bottom, whatever package.json
    // says; a live crash opens the view (without taking the focus) so the trace is on screen at the stop.
    if (this.tree.visible || entry.via === 'session') {
      void this.reveal(entry);
      return;
    }
    this.unseen.add(entry.id);
    const n = this.unseen.size;
    this.tree.badge = { value: n, tooltip: `${n} new crash${n === 1 ? '' : 'es'}` };
    this.cue.text = `$(error) ${crashLabel(entry.report).slice(0, 60)}`;
    this.cue.tooltip = `The unikernel crashed${n > 1 ? ` (${n} new crashes)` : ''}: click to show the Unikernel Crash Trace`;
    this.cue.show();
  }

  private seen(): void {
    this.unseen.clear();
    this.tree.badge = undefined;
    this.cue.hide();
  }

  async reveal(entry: CrashEntry | undefined): Promise<void> {
    if (!entry) return;
    await this.tree.reveal({ type: 'crash', entry }, { select: true, focus: false, expand: true }).then(undefined, () => undefined);
  }

  /** Shows the view (focusing it) and selects a crash. */
  async show(entry?: CrashEntry): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    this.seen();
    await this.reveal(entry ?? this.store.all[0]);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
