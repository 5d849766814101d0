/**
 * What the Memory views need to know about debug sessions: when a session stops (read again, mark what
 * changed), runs (do not read), writes memory or invalidates its values (read again), and ends.
 * `onDidReceiveDebugSessionCustomEvent` carries none of these, so a debug adapter tracker watches the
 * DAP traffic of every session, whatever its adapter. Sessions that started before the extension was
 * loaded have no tracker; for them a change of the focused stack frame stands in for a stop.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as vscode from 'vscode';
import { ViewDataBreakpoints } from './dataBreakpoints';
import type { RunState } from './protocol';

export type SessionEvent =
  | { kind: 'stopped' }
  | { kind: 'running' }
  /** Memory changed: the range when the adapter said (`memory` event), else all of it. */
  | { kind: 'memory'; ref?: string; offset?: number; count?: number }
  | { kind: 'ended' };

/** Requests after which the guest runs until the next `stopped` event. */
const RUN_REQUESTS = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restart', 'restartFrame', 'reverseStepIn', 'reverseStepOut']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export class SessionEvents implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<{ sessionId: string; event: SessionEvent }>();
  readonly onDidChange = this.emitter.event;
  readonly dataBreakpoints = new ViewDataBreakpoints();
  private readonly run = new Map<string, RunState>();
  private readonly tracked = new Set<string>();
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      this.emitter,
      this.dataBreakpoints,
      vscode.debug.registerDebugAdapterTrackerFactory('*', { createDebugAdapterTracker: (s) => this.tracker(s) }),
      vscode.debug.onDidStartDebugSession((s) => this.sessions.set(s.id, s)),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.ended(s.id);
        this.sessions.delete(s.id);
      }),
      vscode.debug.onDidChangeActiveStackItem((item) => {
        if (item && !this.tracked.has(item.session.id)) this.fire(item.session.id, { kind: 'stopped' });
      }),
    );
  }

  /** A running session by id (the variables menu passes ids), or the active one when not known. */
  session(id: string | undefined): vscode.DebugSession | undefined {
    const active = vscode.debug.activeDebugSession;
    if (id === undefined || active?.id === id) return active;
    return this.sessions.get(id);
  }

  /** The session's state as last seen; a session never seen is taken as stopped (it is asked to read). */
  state(sessionId: string): RunState {
    return this.run.get(sessionId) ?? 'stopped';
  }

  /** Whether the DAP traffic of the session is seen (view data breakpoints need that). */
  isTracked(sessionId: string): boolean {
    return this.tracked.has(sessionId);
  }

  private tracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    this.tracked.add(session.id);
    return {
      onWillReceiveMessage: (m: unknown) => {
        if (!isRecord(m) || m.type !== 'request' || typeof m.command !== 'string') return;
        const request = m as unknown as DebugProtocol.Request;
        this.dataBreakpoints.observeRequest(session.id, request);
        if (RUN_REQUESTS.has(request.command)) this.fire(session.id, { kind: 'running' });
      },
      onDidSendMessage: (m: unknown) => {
        if (!isRecord(m)) return;
        if (m.type === 'response') {
          this.dataBreakpoints.observeResponse(session, m as unknown as DebugProtocol.Response);
          return;
        }
        if (m.type !== 'event') return;
        const body = isRecord(m.body) ? m.body : {};
        switch (m.event) {
          case 'stopped':
            this.fire(session.id, { kind: 'stopped' });
            break;
          case 'continued':
            this.fire(session.id, { kind: 'running' });
            break;
          case 'memory':
            this.fire(session.id, {
              kind: 'memory',
              ref: typeof body.memoryReference === 'string' ? body.memoryReference : undefined,
              offset: typeof body.offset === 'number' ? body.offset : undefined,
              count: typeof body.count === 'number' ? body.count : undefined,
            });
            break;
          case 'invalidated':
            this.fire(session.id, { kind: 'memory' });
            break;
          case 'terminated':
            this.ended(session.id);
            break;
        }
      },
      onExit: () => this.ended(session.id),
    };
  }

  private fire(sessionId: string, event: SessionEvent): void {
    if (this.run.get(sessionId) === 'ended') return;
    if (event.kind === 'stopped') this.run.set(sessionId, 'stopped');
    else if (event.kind === 'running') this.run.set(sessionId, 'running');
    else if (event.kind === 'ended') this.run.set(sessionId, 'ended');
    this.emitter.fire({ sessionId, event });
  }

  private ended(sessionId: string): void {
    if (this.run.get(sessionId) === 'ended') return;
    this.fire(sessionId, { kind: 'ended' });
    this.dataBreakpoints.ended(sessionId);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
