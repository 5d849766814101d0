/**
 * Guest threads: the unikernel's own scheduler threads (Rumprun's `bmk_thread`, Unikraft's
 * `uk_thread`) as the threads VS Code shows, read at each stop by the platform profile's reader
 * (src/qemu/profiles/threads/). The thread on a CPU has that vCPU's registers: its frames are gdb's.
 * A thread that is switched out is unwound from its saved context: the vCPU's registers are set to
 * the saved ones, gdb is asked, and the vCPU's own registers are put back (`withThreadContext`,
 * one at a time). Before the scheduler runs (or in an image without one) the vCPUs are the threads.
 *
 * Ids: vCPUs keep gdb's thread ids (1, 2, …); guest threads are numbered from GUEST_ID_BASE, one
 * number per thread structure and name for the whole session, so a thread keeps its id across stops.
 */
import { Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as mi from '../mi/commands';
import type { MiFrame } from '../mi/commands';
import { openGuestThreads, type GuestThread, type GuestThreadReader, type SchedulerLayout } from '../qemu/profiles/threads';
import type { GdbHost } from './gdbHost';
import type { ThreadProvider, VcpuThreads } from './stack';

/** Guest thread ids start here; below it are gdb's (the vCPUs'). */
export const GUEST_ID_BASE = 100;
/** Frames of a switched-out thread read at once (its whole stack, in practice). */
const SAVED_STACK_FRAMES = 64;
const REGISTERS = ['rip', 'rsp', 'rbp', 'rbx', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi'] as const;

/** `5000000000` ns → `5.000 s`. */
export function guestSeconds(ns: bigint): string {
  const ms = ns / 1_000_000n;
  return `${ms / 1000n}.${(ms % 1000n).toString().padStart(3, '0')} s`;
}

/** What the Call Stack view says of a guest thread: its name, and its state unless it runs on CPU 0. */
export function guestThreadName(t: GuestThread): string {
  switch (t.state) {
    case 'running':
      return t.cpu ? `${t.name} (CPU ${t.cpu})` : t.name;
    case 'runnable':
      return `${t.name} (runnable${t.entry !== undefined ? ', not started' : ''})`;
    case 'sleeping':
      return t.wakeup !== undefined ? `${t.name} (sleeping until ${guestSeconds(t.wakeup)})` : `${t.name} (sleeping)`;
    default:
      return `${t.name} (${t.state})`;
  }
}

interface Snapshot {
  /** In list order; empty: the vCPUs are shown. */
  threads: { id: number; thread: GuestThread }[];
}

export class GuestThreads implements ThreadProvider {
  private reader: Promise<GuestThreadReader | undefined> | undefined;
  /** No scheduler in this image: only vCPUs, and nothing is asked again. */
  private absent = false;
  private readonly ids = new Map<string, number>();
  private nextId = GUEST_ID_BASE + 1;
  /** This stop's threads, read once. */
  private snapshot: Promise<Snapshot> | undefined;
  /** The gdb thread (vCPU) the stop is on: the one whose registers a switched-out thread borrows. */
  private cpuThread = 1;
  /** The vCPU's own registers, read at a switch and kept until something else may have changed them. */
  private own: Promise<Map<string, bigint>> | undefined;
  private savedFrames = new Map<number, Promise<MiFrame[]>>();
  /**
   * Register switches run one at a time, each alone: after the requests running in the vCPU's own
   * context, before those that come after it.
   */
  private switches: Promise<unknown> = Promise.resolve();
  private switchesQueued = 0;
  private readonly ownRuns = new Set<Promise<unknown>>();

  constructor(
    private readonly host: GdbHost,
    private readonly vcpus: VcpuThreads,
    /** The platform's scheduler, when the image's platform has one. */
    private readonly scheduler: () => SchedulerLayout | undefined,
    /** Said after every thread's name (` · replay` in a replay). */
    private readonly suffix: () => string,
  ) {}

  prefetch(threadId: number): void {
    this.forget();
    this.cpuThread = threadId;
    this.vcpus.prefetch(threadId);
    this.snapshot = this.read();
    this.snapshot.catch(() => undefined);
  }

  forget(): void {
    this.snapshot = undefined;
    this.own = undefined;
    this.savedFrames = new Map();
    this.vcpus.forget();
  }

  /** The DAP thread shown for a stop on gdb thread `gdbThreadId`: the guest thread running there. */
  async stopThread(gdbThreadId: number): Promise<number> {
    const snap = await this.current();
    const cpu = gdbThreadId - 1;
    return snap.threads.find((t) => t.thread.state === 'running' && (t.thread.cpu ?? 0) === cpu)?.id ?? gdbThreadId;
  }

  async threads(): Promise<DebugProtocol.Thread[]> {
    const snap = await this.current();
    if (snap.threads.length === 0) return this.vcpus.threads();
    const suffix = this.suffix();
    return snap.threads.map((t) => new Thread(t.id, `${guestThreadName(t.thread)}${suffix}`));
  }

  /**
   * Where a DAP thread's frames are asked of gdb: the gdb thread, and the guest thread whose saved
   * registers must be in (absent for a thread on a CPU, whose frames are gdb's own).
   */
  async frameContext(threadId: number): Promise<{ threadId: number; guest?: number }> {
    if (threadId < GUEST_ID_BASE) return { threadId };
    const t = (await this.current()).threads.find((g) => g.id === threadId)?.thread;
    if (!t) throw new Error('That thread is gone: the guest ran since it was listed.');
    if (t.state === 'running') return { threadId: (t.cpu ?? 0) + 1 };
    return { threadId: this.cpuThread, guest: threadId };
  }

  /** The gdb thread to step for DAP thread `threadId`; a thread that is not on a CPU cannot be stepped. */
  async stepThread(threadId: number): Promise<number> {
    if (threadId < GUEST_ID_BASE) return threadId;
    const t = (await this.current()).threads.find((g) => g.id === threadId)?.thread;
    if (!t) throw new Error('That thread is gone: the guest ran since it was listed.');
    if (t.state === 'running') return (t.cpu ?? 0) + 1;
    const why = t.state === 'sleeping' && t.wakeup !== undefined ? `sleeping until ${guestSeconds(t.wakeup)}` : t.state === 'runnable' && t.entry !== undefined ? 'runnable, not started' : t.state;
    if (t.state === 'exited') throw new Error(`${t.name} has exited: there is nothing to step.`);
    throw new Error(`${t.name} is not running on a CPU (${why}): step the running thread, or continue and let the scheduler run it.`);
  }

  async frames(threadId: number, low: number, high: number): Promise<MiFrame[]> {
    const at = await this.frameContext(threadId);
    if (at.guest === undefined) return this.withThreadContext(undefined, () => this.vcpus.frames(at.threadId, low, high));
    let all = this.savedFrames.get(at.guest);
    if (!all) {
      all = this.savedStack(at.guest, at.threadId);
      this.savedFrames.set(at.guest, all);
    }
    return (await all).slice(low, high + 1);
  }

  /**
   * Runs `fn` with guest thread `guest`'s saved registers in the vCPU (gdb then unwinds, shows
   * locals and evaluates in that thread), and the vCPU's own registers back after, whatever happens.
   * Without a guest thread (or one on a CPU), `fn` runs with the vCPU's own registers, never during
   * another thread's switch.
   */
  withThreadContext<T>(guest: number | undefined, fn: () => Promise<T>): Promise<T> {
    if (guest === undefined) return this.inOwnContext(fn);
    this.switchesQueued++;
    // Requests already running in the vCPU's own context finish first (later ones wait for this).
    const before = [...this.ownRuns];
    const run = this.switches.then(async () => {
      try {
        await Promise.allSettled(before);
        const t = (await this.current()).threads.find((g) => g.id === guest)?.thread;
        const saved = t && t.state !== 'running' ? t.saved : undefined;
        if (!saved) {
          this.own = undefined;
          return await fn();
        }
        const gdb = this.host.require();
        const cpu = this.cpuThread;
        this.own ??= mi.readRegisters(gdb, cpu, REGISTERS);
        const own = await this.own;
        const theirs = new Map<string, bigint>([
          ['rip', saved.ip], ['rsp', saved.sp], ['rbp', saved.rbp], ['rbx', saved.rbx], ['r12', saved.r12],
          ['r13', saved.r13], ['r14', saved.r14], ['r15', saved.r15],
        ]);
        if (saved.rdi !== undefined) theirs.set('rdi', saved.rdi);
        if (saved.rsi !== undefined) theirs.set('rsi', saved.rsi);
        try {
          await mi.writeRegisters(gdb, cpu, theirs);
          return await fn();
        } finally {
          await mi.writeRegisters(gdb, cpu, new Map([...theirs.keys()].map((r) => [r, own.get(r)!])));
        }
      } finally {
        this.switchesQueued--;
      }
    });
    this.switches = run.catch(() => undefined);
    return run;
  }

  /**
   * `fn` with the vCPU's own registers: at once, alongside other such requests (gdb answers them in
   * order; a watch list's 50 evaluations go out together), or after the switches already queued.
   */
  private inOwnContext<T>(fn: () => Promise<T>): Promise<T> {
    const go = (): Promise<T> => {
      // (It may change the vCPU's registers: the Registers view, `set $rax` in the Debug Console.)
      this.own = undefined;
      return fn();
    };
    const run = this.switchesQueued > 0 ? this.switches.then(go) : go();
    this.ownRuns.add(run);
    const done = (): void => void this.ownRuns.delete(run);
    run.then(done, done);
    return run;
  }

  /** A switched-out thread's frames, down to its start function (the start stub and a 0 frame after it are dropped). */
  private async savedStack(guest: number, cpu: number): Promise<MiFrame[]> {
    const t = (await this.current()).threads.find((g) => g.id === guest)?.thread;
    if (!t?.saved || t.state === 'exited') return [];
    const frames = await this.withThreadContext(guest, () =>
      mi.stackListFrames(this.host.require(), cpu, 0, SAVED_STACK_FRAMES - 1).catch((e: unknown) => {
        if (e instanceof Error && /Not enough frames/.test(e.message)) return [];
        throw e;
      }),
    );
    const stubs = new Set(this.scheduler()?.trampolines.map((s) => s.symbol));
    const end = frames.findIndex((f, i) => i > 0 && (BigInt(f.addr) === 0n || (f.func !== undefined && stubs.has(f.func))));
    return end < 0 ? frames : frames.slice(0, end);
  }

  private current(): Promise<Snapshot> {
    this.snapshot ??= this.read();
    return this.snapshot;
  }

  /** The guest's threads now: none when there is no scheduler, or it has not started. */
  private async read(): Promise<Snapshot> {
    const reader = await this.open();
    if (!reader) return { threads: [] };
    const snap = await reader.read().catch(() => undefined);
    if (!snap) return { threads: [] };
    return {
      threads: snap.threads.map((thread) => {
        const key = `${thread.id}:${thread.name}`;
        let id = this.ids.get(key);
        if (id === undefined) this.ids.set(key, (id = this.nextId++));
        return { id, thread };
      }),
    };
  }

  private async open(): Promise<GuestThreadReader | undefined> {
    if (this.absent) return undefined;
    const layout = this.scheduler();
    const gdb = this.host.gdb;
    if (!layout || !gdb?.isAlive) return undefined;
    this.reader ??= openGuestThreads(layout, {
      evaluate: (e) => mi.dataEvaluateExpression(gdb, e),
      console: async (c) => (await mi.cliCommand(gdb, c)).console,
    }).then(
      (r) => {
        if (!r) this.absent = true;
        return r;
      },
      () => {
        // gdb could not be asked (not stopped): asked again at the next stop.
        this.reader = undefined;
        return undefined;
      },
    );
    return this.reader;
  }
}
