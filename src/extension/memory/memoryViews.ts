/**
 * The Unikernel Memory view's commands: open one from a variable (Variables view menu and inline
 * action, Watch view menu where VS Code has it), from an address or expression typed in, or from the
 * Command Palette. Each opens its own panel, so several can sit side by side. Works with any debug
 * session whose adapter answers DAP readMemory; needs no other extension and nothing from the network.
 */
import * as vscode from 'vscode';
import { refAddress, resolveTarget, type MemoryTarget } from './dap';
import { MemoryPanel } from './panel';
import { SessionEvents } from './sessionEvents';

/** What the Variables view passes to its menu commands (and the Watch view, from VS Code 1.103). */
interface VariableContext {
  sessionId?: string;
  variable?: { memoryReference?: string; evaluateName?: string; name?: string };
  memoryReference?: string;
  name?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function variableContext(arg: unknown): VariableContext {
  if (!isRecord(arg)) return {};
  const v = isRecord(arg.variable) ? arg.variable : undefined;
  return {
    sessionId: str(arg.sessionId),
    variable: v ? { memoryReference: str(v.memoryReference), evaluateName: str(v.evaluateName), name: str(v.name) } : undefined,
    memoryReference: str(arg.memoryReference),
    name: str(arg.name),
  };
}

export class MemoryViews implements vscode.Disposable {
  readonly events = new SessionEvents();
  private readonly open = new Set<MemoryPanel>();
  private readonly disposables: vscode.Disposable[] = [this.events];

  constructor(private readonly extensionUri: vscode.Uri) {}

  /** The views open now, oldest first. */
  get panels(): readonly MemoryPanel[] {
    return [...this.open];
  }

  register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(
      this,
      vscode.commands.registerCommand('unikernel.memory.open', (target?: unknown, sessionId?: unknown) =>
        this.openTyped(typeof target === 'string' ? target : undefined, str(sessionId)),
      ),
      vscode.commands.registerCommand('unikernel.memory.openVariable', (arg?: unknown) => this.openVariable(variableContext(arg))),
    );
  }

  /** "Open Memory View…": an address or expression, asked for when not given. */
  async openTyped(text: string | undefined, sessionId?: string): Promise<MemoryPanel | undefined> {
    const session = this.events.session(sessionId);
    if (!session) {
      void vscode.window.showInformationMessage('The Memory view reads a debug session: start one and stop it first.');
      return undefined;
    }
    let expression = text;
    if (expression === undefined) {
      const editor = vscode.window.activeTextEditor;
      const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection).trim() : '';
      expression = await vscode.window.showInputBox({
        title: 'Open Memory View',
        prompt: 'An address (0x…) or an expression, evaluated in the current stack frame',
        placeHolder: '0x100000, &global_counter, ptr->next',
        value: selected.length <= 200 ? selected : '',
        validateInput: (v) => (v.trim() ? undefined : 'Type an address or an expression.'),
      });
      if (!expression) return undefined;
    }
    return this.show(session, () => resolveTarget(session, expression));
  }

  /** From a variable's menu: its memory reference (what a pointer points to, where an aggregate is). */
  async openVariable(ctx: VariableContext): Promise<MemoryPanel | undefined> {
    const session = this.events.session(ctx.sessionId);
    if (!session) {
      void vscode.window.showInformationMessage('That variable belongs to a debug session that has ended.');
      return undefined;
    }
    const ref = ctx.variable?.memoryReference ?? ctx.memoryReference;
    const label = ctx.variable?.evaluateName ?? ctx.variable?.name ?? ctx.name ?? ref ?? '';
    if (ref) return this.show(session, async () => ({ ref, address: refAddress(ref), label }));
    if (!label) return undefined;
    return this.show(session, () => resolveTarget(session, label));
  }

  private async show(session: vscode.DebugSession, target: () => Promise<MemoryTarget>): Promise<MemoryPanel | undefined> {
    try {
      const panel = await MemoryPanel.open(session, await target(), this.events, this.extensionUri, this.nextColumn());
      this.open.add(panel);
      panel.onDidDispose(() => this.open.delete(panel));
      return panel;
    } catch (e) {
      void vscode.window.showErrorMessage(`Memory view: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }

  /** Beside the editor for the first view; each further one right of the last, so they sit side by side. */
  private nextColumn(): vscode.ViewColumn {
    const columns = this.panels.map((p) => p.panel.viewColumn ?? 0);
    const last = Math.max(0, ...columns);
    return last > 0 ? (Math.min(last + 1, vscode.ViewColumn.Nine) as vscode.ViewColumn) : vscode.ViewColumn.Beside;
  }

  dispose(): void {
    for (const p of [...this.open]) p.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
