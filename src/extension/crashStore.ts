/**
 * The crashes the panel shows, kept in workspace state so they outlive the session and a window reload,
 * until the user clears them.
 */
import * as vscode from 'vscode';
import { addEntry, boundEntry, DEFAULT_MAX_CRASHES, type CrashEntry } from './crashModel';

const KEY = 'unikernel.crashTrace.entries';

export class CrashStore implements vscode.Disposable {
  private entries: CrashEntry[];
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly added = new vscode.EventEmitter<CrashEntry>();
  /** Fires after any change. */
  readonly onDidChange = this.changed.event;
  /** Fires with each crash added (or merged into an existing one). */
  readonly onDidAdd = this.added.event;
  private serial = 0;

  constructor(private readonly state: vscode.Memento) {
    const saved = state.get<unknown>(KEY);
    this.entries = Array.isArray(saved) ? saved.flatMap((e) => boundEntry(e as CrashEntry) ?? []) : [];
  }

  get all(): readonly CrashEntry[] {
    return this.entries;
  }

  get(id: string): CrashEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  private maxCrashes(): number {
    const n = vscode.workspace.getConfiguration('unikernel.crashTrace').get<number>('maxCrashes', DEFAULT_MAX_CRASHES);
    return Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : DEFAULT_MAX_CRASHES;
  }

  newId(): string {
    return `${Date.now().toString(36)}-${(this.serial++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async add(entry: CrashEntry): Promise<CrashEntry> {
    const { list, entry: kept } = addEntry(this.entries, entry, this.maxCrashes());
    this.entries = list;
    await this.save();
    this.added.fire(kept);
    return kept;
  }

  async remove(id: string): Promise<void> {
    this.entries = this.entries.filter((e) => e.id !== id);
    await this.save();
  }

  async clear(): Promise<void> {
    this.entries = [];
    await this.save();
  }

  private async save(): Promise<void> {
    this.changed.fire();
    await this.state.update(KEY, this.entries);
  }

  dispose(): void {
    this.changed.dispose();
    this.added.dispose();
  }
}
