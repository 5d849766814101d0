/**
 * Threads and call stacks. Threads come from a ThreadProvider: today each vCPU is a thread (gdb's
 * threads of the QEMU stub); a guest scheduler's threads (Rumprun's `bmk_thread`, Unikraft's
 * `uk_thread`) are the second provider (guestThreads.ts). What VS Code asks for at every stop (the
 * threads, the top 20 frames) is asked of gdb in one burst when the stop is shown and kept until
 * the guest runs again. A crashed thread's stack starts with the frames rebuilt from its trap.
 */
import { basename } from 'node:path';
import { Source, StackFrame, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashFrame } from '../crash/report';
import { GdbCommandError } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext, MiFrame } from '../mi/commands';
import type { RebuiltFrames } from './crashes';
import type { GdbHost } from './gdbHost';
import type { RunControl } from './runControl';
import type { SourcePaths } from './sourcePaths';
import { RefTable } from './variables';

/** Where the threads VS Code shows come from, and their frames. */
export interface ThreadProvider {
  /** The threads, in the order shown. */
  threads(): Promise<DebugProtocol.Thread[]>;
  /** Frames `low`..`high` (gdb levels, inclusive) of a thread; fewer at the bottom of its stack. */
  frames(threadId: number, low: number, high: number): Promise<MiFrame[]>;
  /** A stop is shown with `threadId` on top: what will be asked may be fetched now. */
  prefetch(threadId: number): void;
  /** The guest runs again: whatever was fetched is stale. */
  forget(): void;
  /** The thread shown for a stop on gdb thread `gdbThreadId` (what runs on that vCPU); default: the same id. */
  stopThread?(gdbThreadId: number): Promise<number>;
  /** Where a thread's frames are asked of gdb; `guest`: a switched-out thread whose saved registers must be in. */
  frameContext?(threadId: number): Promise<{ threadId: number; guest?: number }>;
  /** The gdb thread a step of `threadId` acts on; rejects with the reason when it cannot be stepped. */
  stepThread?(threadId: number): Promise<number>;
  /** Runs `fn` in switched-out thread `guest`'s registers (or, without one, never during such a switch). */
  withThreadContext?<T>(guest: number | undefined, fn: () => Promise<T>): Promise<T>;
}

/** A frame as DAP sees it: a gdb frame, or one rebuilt from a trap frame (gdb cannot select it). */
export interface FrameRef extends FrameContext {
  /** The function as gdb names it (the linker's name). */
  func?: string;
  synthetic?: boolean;
  /** For the rebuilt faulting frame: the expression of the saved registers. */
  trapFrame?: string;
  /** A frame of a guest thread that is not on a CPU: its saved registers are put in the vCPU to use it. */
  guest?: number;
}

const DEFAULT_STACK_LEVELS = 20;
/** Frames fetched at every stop before VS Code asks (it asks for 1, then 20). */
const PREFETCH_FRAMES = 20;

/** `Thread 1.2 (CPU#1 [halted ])` → `CPU 1 (halted)`; a running vCPU is just `CPU 0`; anything else keeps gdb's words. */
export function vcpuName(targetId: string, id: number): string {
  const m = targetId.match(/CPU#(\d+)(?:\s*\[\s*([a-z ]+?)\s*\])?/);
  if (m) return m[2] && m[2] !== 'running' ? `CPU ${m[1]} (${m[2]})` : `CPU ${m[1]}`;
  return targetId.trim() || `Thread ${id}`;
}

/** Each vCPU is a thread: gdb's threads, from what the stop prefetched when it can. */
export class VcpuThreads implements ThreadProvider {
  private cache: { threads?: Promise<{ threads: mi.MiThread[] }>; frames: Map<number, Promise<MiFrame[]>> } = { frames: new Map() };

  constructor(
    private readonly host: GdbHost,
    /** Said after every vCPU's name (` · replay` in a replay). */
    private readonly suffix: () => string,
  ) {}

  /** Asks gdb now for what VS Code will ask at this stop. */
  prefetch(threadId: number): void {
    const gdb = this.host.gdb;
    this.cache = { frames: new Map() };
    if (!gdb) return;
    this.cache.threads = keep(mi.threadInfo(gdb));
    this.cache.frames.set(threadId, keep(mi.stackListFrames(gdb, threadId, 0, PREFETCH_FRAMES)));
  }

  forget(): void {
    this.cache = { frames: new Map() };
  }

  async threads(): Promise<DebugProtocol.Thread[]> {
    const { threads } = await (this.cache.threads ?? mi.threadInfo(this.host.require()));
    const suffix = this.suffix();
    return threads.map((t) => new Thread(t.id, `${vcpuName(`${t.targetId} ${t.details ?? ''}`, t.id)}${suffix}`));
  }

  async frames(threadId: number, low: number, high: number): Promise<MiFrame[]> {
    const cached = high <= PREFETCH_FRAMES ? this.cache.frames.get(threadId) : undefined;
    if (cached) return (await cached).slice(low, high + 1);
    return mi.stackListFrames(this.host.require(), threadId, low, high).catch((e: unknown) => {
      // Asked past the bottom of the stack (the page after the last): no more frames.
      if (e instanceof GdbCommandError && /Not enough frames/.test(e.message)) return [];
      throw e;
    });
  }
}

export class Stacks {
  private readonly refs = new RefTable<FrameRef>();
  private lastThreads: DebugProtocol.Thread[] = [new Thread(1, 'CPU 0')];
  /** The rebuilt frames of the current stop, as DAP frames (their ids live until the guest runs). */
  private rebuilt: { from: RebuiltFrames; frames: DebugProtocol.StackFrame[] } | undefined;
  /** The name a person knows a function by (OCaml's `Hello.depth` for `camlHello__depth_88`). */
  private functionName: (func: string) => string = (func) => func;

  constructor(
    private readonly provider: ThreadProvider,
    private readonly run: RunControl,
    private readonly sources: SourcePaths,
  ) {
    run.on('resuming', () => this.forget());
  }

  /** How functions are named in the Call Stack view (the image's language decides). */
  setFunctionNames(name: (func: string) => string): void {
    this.functionName = name;
  }

  /** A stop on gdb thread `threadId` is shown: what VS Code asks next is asked of gdb now; resolves with the thread to show as stopped. */
  prefetch(threadId: number): Promise<number> {
    this.provider.prefetch(threadId);
    return this.provider.stopThread ? this.provider.stopThread(threadId).catch(() => threadId) : Promise.resolve(threadId);
  }

  /** Where a thread's frames are asked of gdb (see ThreadProvider.frameContext). */
  frameContext(threadId: number): Promise<{ threadId: number; guest?: number }> {
    return this.provider.frameContext ? this.provider.frameContext(threadId) : Promise.resolve({ threadId });
  }

  /** The gdb thread a step of thread `threadId` acts on; rejects with why when it cannot be stepped. */
  stepThread(threadId: number): Promise<number> {
    return this.provider.stepThread ? this.provider.stepThread(threadId) : Promise.resolve(threadId);
  }

  /**
   * Runs `fn` in the frame's thread: a switched-out guest thread's saved registers are in the vCPU
   * meanwhile. Whatever must see the vCPU's own registers (running the guest) passes no frame.
   */
  within<T>(at: FrameRef | undefined, fn: () => Promise<T>): Promise<T> {
    return this.provider.withThreadContext ? this.provider.withThreadContext(at?.synthetic ? undefined : at?.guest, fn) : fn();
  }

  /** Frame ids of the last stop are void. */
  forget(): void {
    this.refs.clear();
    this.rebuilt = undefined;
    this.provider.forget();
  }

  frame(id: number): FrameRef | undefined {
    return this.refs.get(id);
  }

  /** The threads while the guest is stopped; while it runs, the last list (gdb cannot be asked). */
  async threads(): Promise<DebugProtocol.Thread[]> {
    if (this.run.state === 'stopped') {
      try {
        const threads = await this.provider.threads();
        if (threads.length > 0) this.lastThreads = threads;
      } catch {
        /* keep the last known list */
      }
    }
    return this.lastThreads;
  }

  /** A page of a thread's stack; `trap`: frames rebuilt from the trap the thread is stopped at, which come first. */
  async stackTrace(args: DebugProtocol.StackTraceArguments, trap: RebuiltFrames | undefined): Promise<DebugProtocol.StackTraceResponse['body']> {
    const start = args.startFrame ?? 0;
    const levels = args.levels && args.levels > 0 ? args.levels : DEFAULT_STACK_LEVELS;
    const rebuilt = trap ? this.rebuiltFrames(trap) : [];
    const fromRebuilt = rebuilt.slice(start, start + levels);
    const gdbStart = Math.max(0, start - rebuilt.length);
    const gdbLevels = levels - fromRebuilt.length;
    // One more than asked tells whether more frames exist without walking the whole stack.
    const frames = gdbLevels <= 0 ? [] : await this.provider.frames(args.threadId, gdbStart, gdbStart + gdbLevels);
    const shown = frames.slice(0, gdbLevels);
    const more = gdbLevels <= 0 || frames.length > gdbLevels;
    const at = shown.length ? await this.frameContext(args.threadId) : { threadId: args.threadId };
    return {
      stackFrames: [...fromRebuilt, ...shown.map((f) => this.toStackFrame(at, f))],
      totalFrames: start + fromRebuilt.length + shown.length + (more ? 1 : 0),
    };
  }

  private toStackFrame(at: { threadId: number; guest?: number }, f: MiFrame): DebugProtocol.StackFrame {
    const id = this.refs.add({ threadId: at.threadId, level: f.level, func: f.func, ...(at.guest !== undefined ? { guest: at.guest } : {}) });
    const name = f.func ? this.functionName(f.func) : f.from ? `${f.addr} in ${basename(f.from)}` : f.addr;
    const path = this.sources.displayFrame(f);
    const frame: DebugProtocol.StackFrame = new StackFrame(id, name, path ? new Source(basename(path), path) : undefined, f.line ?? 0, 1);
    frame.instructionPointerReference = f.addr;
    if (!path || !f.line) frame.presentationHint = 'subtle';
    return frame;
  }

  private rebuiltFrames(trap: RebuiltFrames): DebugProtocol.StackFrame[] {
    if (this.rebuilt?.from !== trap) {
      const frames = trap.frames.map((f, i) => this.syntheticFrame(trap.threadId, f, i === 0 ? trap.savedRegisters : undefined));
      // A separator row in the Call Stack view between the rebuilt frames and the handler's own.
      const label: DebugProtocol.StackFrame = new StackFrame(this.refs.add({ threadId: 0, level: 0, synthetic: true }), trap.label);
      label.presentationHint = 'label';
      this.rebuilt = { from: trap, frames: [...frames, label] };
    }
    return this.rebuilt.frames;
  }

  private syntheticFrame(threadId: number, f: CrashFrame, trapFrame: string | undefined): DebugProtocol.StackFrame {
    const id = this.refs.add({ threadId, level: 0, synthetic: true, trapFrame });
    const frame: DebugProtocol.StackFrame = new StackFrame(id, f.function ?? f.address, f.file ? new Source(basename(f.file), f.file) : undefined, f.line ?? 0, 1);
    frame.instructionPointerReference = f.address;
    if (!f.file) frame.presentationHint = 'subtle';
    return frame;
  }
}

function keep<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
