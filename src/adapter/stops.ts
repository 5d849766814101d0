/**
 * What a `*stopped` record means. gdb reports every stop alike; whether it ends the user's step,
 * hits a breakpoint, is a pause the adapter made for itself, a crash, the machine pausing on a
 * reset, or the end of a recording depends on what the adapter was doing when it came. This is the
 * one place that decides, as a pure function of the record and that state, so that every case is
 * tested on its own (test/unit/adapter/stops.test.ts).
 */
import type { CrashReport } from '../crash/report';
import type { MiStop } from '../mi/commands';
import type { CrashPath } from './crashPaths';

/** The reason a DAP stopped event gives. */
export type StopReason =
  | 'step'
  | 'breakpoint'
  | 'exception'
  | 'pause'
  | 'entry'
  | 'function breakpoint'
  | 'data breakpoint'
  | 'instruction breakpoint';

/** What the command that set the guest running expects of the stop that ends it. */
export interface Intent {
  /** The reason for a stop that does not tell its own (a step's SIGTRAP, a pause's SIGINT). */
  expected?: StopReason;
  /** A reverse step by line: its stop may have to go on back to the line's start. */
  reverseLine?: boolean;
  /** A reverse continue with data breakpoints: its stop comes one instruction after the write. */
  reverseWatch?: boolean;
  /** The console showed this crash and the adapter interrupted the guest to stop at it. */
  consoleCrash?: CrashReport;
}

/** What the parts know when a stop arrives. */
export interface StopContext {
  intent: Intent;
  /** A silent run or pause waits for this stop: the user does not see it. */
  silent: boolean;
  /** Stops are not the user's: the configuration is not done, or QEMU is being replaced. */
  ignoring: boolean;
  /** After a restart, the temporary breakpoint at the image's entry that ends the firmware's reboot. */
  restartGuard?: { breakpoint: string; stopThere: boolean };
  /** The temporary breakpoint of `stopAtEntry`. */
  entryBreakpoint?: string;
  functionBreakpoints: ReadonlySet<string>;
  instructionBreakpoints: ReadonlySet<string>;
  /** Logpoint messages by breakpoint number. */
  logpoints: ReadonlyMap<string, string>;
  /** The platform crash paths by breakpoint number. */
  crashPaths: ReadonlyMap<string, CrashPath>;
  /** A crash was shown and the guest went on down its platform's path: that is the same crash. */
  crashShown: boolean;
  /** The Crashes exception filter is on. */
  stopOnCrash: boolean;
  /** QEMU's machine protocol is at hand (a launched guest): it tells a reset from a power-off. */
  machine: boolean;
  /** Why the machine paused, once QMP was asked (`guest-reset`, `guest-shutdown`, …; '' when it did not say). */
  shutdownCause?: string;
  /** The session replays a recording. */
  replay: boolean;
}

export type Stop =
  /** The guest is gone (gdb's `exited*`): the session ends. */
  | { kind: 'exited' }
  /** The stop a silent run or pause waits for. */
  | { kind: 'silent' }
  /** A stop nobody should see (connecting to a new QEMU, before configurationDone). */
  | { kind: 'ignored' }
  /** A restarted guest reached its entry point: resets are crashes again; stop there or go on. */
  | { kind: 'restart-entry'; threadId: number; show: boolean }
  /** The guest entered one of its platform's crash functions. */
  | { kind: 'crash-path'; threadId: number; path: CrashPath }
  /** A crash function of a crash already shown (abort → solo5_abort → exit): go on, one crash, one stop. */
  | { kind: 'crash-continues'; threadId: number }
  /** A reverse line step stopped inside the line: go on back to its start. */
  | { kind: 'reverse-line'; threadId: number; pc: string }
  /** A reverse continue stopped just after a watched write: step back onto it. */
  | { kind: 'reverse-watch'; threadId: number }
  /** A logpoint: print its message and go on. */
  | { kind: 'logpoint'; threadId: number; message: string }
  /** The machine paused itself (SIGQUIT): QMP must say whether it reset or powered off. */
  | { kind: 'machine-paused'; threadId: number }
  /** The guest reset itself: a triple fault, or a reset it asked for. Shown when the Crashes filter is on. */
  | { kind: 'reset'; threadId: number; show: boolean }
  /** The guest powered the machine off: QEMU ends, and the session with it. */
  | { kind: 'power-off' }
  /** The interrupt the adapter sent because the console showed a crash. */
  | { kind: 'console-crash'; threadId: number; report: CrashReport }
  /** A stop the user sees as it is; `note` is something to tell with it. */
  | { kind: 'user'; threadId: number; reason: StopReason; note?: 'history-start' | 'recording-end' };

export function classifyStop(stop: MiStop, ctx: StopContext): Stop {
  const { reason, threadId, signal } = stop;
  if (reason.startsWith('exited')) return { kind: 'exited' };
  if (ctx.silent) return { kind: 'silent' };
  if (ctx.ignoring) return { kind: 'ignored' };
  const hit = reason === 'breakpoint-hit' ? stop.breakpoint : undefined;
  if (hit !== undefined && hit === ctx.restartGuard?.breakpoint) return { kind: 'restart-entry', threadId, show: ctx.restartGuard.stopThere };
  const path = hit !== undefined ? ctx.crashPaths.get(hit) : undefined;
  if (path) return ctx.crashShown ? { kind: 'crash-continues', threadId } : { kind: 'crash-path', threadId, path };
  if (ctx.intent.reverseLine && reason === 'end-stepping-range' && stop.pc) return { kind: 'reverse-line', threadId, pc: stop.pc };
  if (ctx.intent.reverseWatch && (/watchpoint-trigger$/.test(reason) || (reason === 'signal-received' && signal === 'SIGTRAP'))) {
    return { kind: 'reverse-watch', threadId };
  }
  const message = hit !== undefined ? ctx.logpoints.get(hit) : undefined;
  if (message !== undefined) return { kind: 'logpoint', threadId, message };
  // Our machines pause on a reset or a power-off (see qemu/plan.ts); gdb sees SIGQUIT.
  if (reason === 'signal-received' && signal === 'SIGQUIT' && ctx.machine) {
    if (ctx.shutdownCause === undefined) return { kind: 'machine-paused', threadId };
    return ctx.shutdownCause === 'guest-reset' ? { kind: 'reset', threadId, show: ctx.stopOnCrash } : { kind: 'power-off' };
  }
  if (ctx.intent.consoleCrash) return { kind: 'console-crash', threadId, report: ctx.intent.consoleCrash };
  return { kind: 'user', threadId, ...userReason(stop, ctx) };
}

function userReason(stop: MiStop, ctx: StopContext): { reason: StopReason; note?: 'history-start' | 'recording-end' } {
  const expected = ctx.intent.expected;
  switch (stop.reason) {
    case 'breakpoint-hit':
      if (ctx.entryBreakpoint !== undefined && stop.breakpoint === ctx.entryBreakpoint) return { reason: 'entry' };
      if (stop.breakpoint !== undefined && ctx.functionBreakpoints.has(stop.breakpoint)) return { reason: 'function breakpoint' };
      if (stop.breakpoint !== undefined && ctx.instructionBreakpoints.has(stop.breakpoint)) return { reason: 'instruction breakpoint' };
      return { reason: 'breakpoint' };
    case 'end-stepping-range':
    case 'function-finished':
    case 'location-reached':
      return { reason: 'step' };
    case 'no-history':
      return { reason: 'step', note: 'history-start' };
    case 'watchpoint-trigger':
    case 'access-watchpoint-trigger':
    case 'read-watchpoint-trigger':
      return { reason: 'data breakpoint' };
    case 'signal-received':
      // QEMU reports the start of a replay's history as a trap at the reset vector.
      if (stop.signal === 'SIGTRAP' && ctx.replay && /^0x0*fff0$/i.test(stop.pc ?? '')) return { reason: 'step', note: 'history-start' };
      // Going forward, a replay stops at the end of its recording (the replay-break there) with SIGINT.
      if (stop.signal === 'SIGINT' && expected !== 'pause' && ctx.replay) return { reason: 'step', note: 'recording-end' };
      if (stop.signal === 'SIGINT' || expected === 'pause') return { reason: 'pause' };
      if (stop.signal === 'SIGTRAP' && expected) return { reason: expected };
      return { reason: 'exception' };
    default:
      return { reason: expected ?? 'pause' };
  }
}

/**
 * The intent left for the next stop. A stop the adapter goes on from by itself (a restart's entry,
 * a logpoint) leaves the running command's expectation in place; any other stop ends the command.
 */
export function intentAfter(stop: Stop, intent: Intent): Intent {
  switch (stop.kind) {
    case 'exited':
    case 'silent':
    case 'ignored':
    case 'restart-entry':
    case 'machine-paused':
      return intent;
    case 'logpoint':
      // The reverse flags were for this stop; the crash the console showed is still on its way.
      return { expected: intent.expected, consoleCrash: intent.consoleCrash };
    default:
      return {};
  }
}
