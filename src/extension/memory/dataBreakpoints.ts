/**
 * Data breakpoints set from a Memory view selection.
 *
 * VS Code 1.100 gives extensions no way to add a data breakpoint (`debug.addBreakpoints` takes source
 * and function breakpoints only, and "Add Data Breakpoint at Address" takes no arguments), so the view
 * sends DAP `setDataBreakpoints` itself. That request replaces the adapter's whole set, so every send
 * carries VS Code's own data breakpoints too (as VS Code last sent them, seen by the tracker), and when
 * VS Code sends its set again, the view's are sent back right after. They belong to the session and show
 * in the Memory view, not in the Breakpoints view.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as vscode from 'vscode';
import { toHex } from './format';
import type { AccessType, ViewBreakpoint } from './protocol';

/** Marks the requests the Memory view sends, so the tracker does not take them for VS Code's. */
export const OWN_REQUEST = 'unikernelMemoryView';

interface OwnBreakpoint {
  id: string;
  dataId: string;
  accessType: AccessType;
  label: string;
  verified: boolean;
  message?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const ACCESS_LABEL: Record<AccessType, string> = { write: 'write', read: 'read', readWrite: 'access' };

export class ViewDataBreakpoints implements vscode.Disposable {
  private readonly editor = new Map<string, DebugProtocol.DataBreakpoint[]>();
  private readonly own = new Map<string, OwnBreakpoint[]>();
  /** Sequence numbers of VS Code's setDataBreakpoints requests in flight, per session. */
  private readonly resync = new Map<string, Set<number>>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with a session id when its view breakpoints change. */
  readonly onDidChange = this.changed.event;
  private serial = 0;

  list(sessionId: string): ViewBreakpoint[] {
    return (this.own.get(sessionId) ?? []).map(({ id, label, verified, message }) => ({ id, label, verified, message }));
  }

  /** A request on its way to the adapter (tracker). */
  observeRequest(sessionId: string, m: DebugProtocol.Request): void {
    if (m.command !== 'setDataBreakpoints') return;
    const args: unknown = m.arguments;
    if (!isRecord(args) || args[OWN_REQUEST] === true) return;
    const list = Array.isArray(args.breakpoints) ? (args.breakpoints as DebugProtocol.DataBreakpoint[]) : [];
    this.editor.set(sessionId, list.filter((b) => isRecord(b) && typeof b.dataId === 'string'));
    let pending = this.resync.get(sessionId);
    if (!pending) this.resync.set(sessionId, (pending = new Set()));
    pending.add(m.seq);
  }

  /** A response from the adapter (tracker): after VS Code's own set, the view's go back in. */
  observeResponse(session: vscode.DebugSession, m: DebugProtocol.Response): void {
    const pending = this.resync.get(session.id);
    if (!pending?.delete(m.request_seq)) return;
    if ((this.own.get(session.id) ?? []).length > 0) void this.send(session).catch(() => undefined);
  }

  async add(session: vscode.DebugSession, address: bigint, bytes: number, accessType: AccessType): Promise<void> {
    const infoArgs: DebugProtocol.DataBreakpointInfoArguments = { name: toHex(address), asAddress: true, bytes };
    const info: unknown = await session.customRequest('dataBreakpointInfo', infoArgs);
    const dataId = isRecord(info) && typeof info.dataId === 'string' ? info.dataId : undefined;
    const description = isRecord(info) && typeof info.description === 'string' ? info.description : undefined;
    if (!dataId) throw new Error(description ?? `The debugger cannot watch ${bytes} bytes at ${toHex(address)}.`);
    const types = isRecord(info) && Array.isArray(info.accessTypes) ? info.accessTypes : undefined;
    if (types && !types.includes(accessType)) throw new Error(`The debugger cannot break on ${ACCESS_LABEL[accessType]} there.`);
    const list = this.own.get(session.id) ?? [];
    const label = `${ACCESS_LABEL[accessType]} · ${bytes} byte${bytes === 1 ? '' : 's'} at ${toHex(address)}`;
    this.own.set(session.id, [...list, { id: `m${++this.serial}`, dataId, accessType, label, verified: false }]);
    await this.send(session);
    const added = this.own.get(session.id)?.at(-1);
    if (added && !added.verified) {
      this.own.set(session.id, (this.own.get(session.id) ?? []).filter((b) => b !== added));
      this.changed.fire(session.id);
      await this.send(session).catch(() => undefined);
      throw new Error(added.message ?? `The debugger did not set a data breakpoint on ${added.label}.`);
    }
  }

  async remove(session: vscode.DebugSession, id: string): Promise<void> {
    this.own.set(session.id, (this.own.get(session.id) ?? []).filter((b) => b.id !== id));
    await this.send(session);
  }

  ended(sessionId: string): void {
    this.editor.delete(sessionId);
    this.resync.delete(sessionId);
    if (this.own.delete(sessionId)) this.changed.fire(sessionId);
  }

  private async send(session: vscode.DebugSession): Promise<void> {
    const editor = this.editor.get(session.id) ?? [];
    const own = this.own.get(session.id) ?? [];
    const breakpoints: DebugProtocol.DataBreakpoint[] = [...editor, ...own.map((b) => ({ dataId: b.dataId, accessType: b.accessType }))];
    const body: unknown = await session.customRequest('setDataBreakpoints', { breakpoints, [OWN_REQUEST]: true });
    const results = isRecord(body) && Array.isArray(body.breakpoints) ? body.breakpoints : [];
    own.forEach((b, i) => {
      const r: unknown = results[editor.length + i];
      b.verified = isRecord(r) && r.verified === true;
      b.message = isRecord(r) && typeof r.message === 'string' ? r.message : undefined;
    });
    this.changed.fire(session.id);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
