/**
 * The gdb host: starts gdb (a default one already at `initialize`, because gdb takes ~100 ms to
 * start and VS Code takes about as long to send the launch), loads the symbols with the settings a
 * unikernel needs, connects to the GDB stub, and ends gdb. What gdb says unasked (exec records, its
 * warnings, the stub's output, its death) comes out as events.
 */
import { EventEmitter } from 'node:events';
import { Gdb, type MiAsync } from '../mi/gdb';
import * as mi from '../mi/commands';
import { ConfigError, type CommonArguments } from './config';
import type { ProcessGuard } from './reaper';

export interface GdbHostEvents {
  exec: [MiAsync];
  /** Text for the Debug Console: gdb's own warnings (`console`), the stub's output (`stdout`). */
  output: [text: string, category: 'console' | 'stdout'];
  /** gdb is gone; the sentence says how. */
  exit: [reason: string];
}

export interface GdbHostOptions {
  timeoutScale: number;
  /** Every MI command and line of output is appended here (UNIKERNEL_DEBUG_MI_TRACE). */
  traceFile?: string;
  processes: ProcessGuard;
}

/** gdb's `Remote connection closed`: the stub went away (its QEMU ended). */
const REMOTE_CLOSED = /^Remote connection closed\.?\n?$/;

/** gdb's `26\tfile.c: No such file or directory.` after a stop in a file it cannot open. */
const SOURCE_LINE_MISSING = /^\d+\t[^\n]*: No such file or directory\.\n?$/;

export class GdbHost extends EventEmitter<GdbHostEvents> {
  private current: Gdb | undefined;
  private early: Promise<Gdb> | undefined;
  /** The stub is a QEMU this session started: its exit, decoded, says why the connection closed. */
  private ownStub = false;
  private target: string | undefined;

  constructor(private readonly opts: GdbHostOptions) {
    super();
  }

  /** The gdb of the session, once started (alive or not). */
  get gdb(): Gdb | undefined {
    return this.current;
  }

  get alive(): boolean {
    return !!this.current?.isAlive;
  }

  /** The live gdb; a request that needs one fails with this sentence once the session is over. */
  require(): Gdb {
    if (!this.current?.isAlive) throw new Error('The debug session has ended.');
    return this.current;
  }

  /** Starts a default gdb now, to have it ready when the configuration comes. */
  prestart(): void {
    this.early = this.spawn({});
    this.early.catch(() => undefined);
  }

  /** A run without the debugger needs no gdb: the one started early goes. */
  async dropEarly(): Promise<void> {
    const early = this.early;
    this.early = undefined;
    await early?.then((g) => g.dispose(), () => undefined);
  }

  /** A gdb for the configuration, with `symbols` loaded and set up for a `guestBits` guest. */
  async start(args: CommonArguments, symbols: string | undefined, guestBits: 32 | 64 = 64): Promise<void> {
    const gdb = await this.take(args);
    this.current = gdb;
    if (args.cwd) await mi.environmentCd(gdb, args.cwd);
    gdb.on('exec', (rec) => this.emit('exec', rec));
    // Console text no command asked for is gdb narrating stops ("Breakpoint 2, compute (…)"), which
    // VS Code shows better itself; warnings and errors come on the log stream. gdb failing to print
    // a stop's source line is not news either: the editor shows the line (or says why not).
    // gdb's `Remote connection closed` says less than what follows it: a QEMU of ours ending is
    // told with its exit decoded (`The guest exited with status 0 (solo5_exit(0)).`); a stub we
    // attached to is named.
    gdb.on('log', (text) => {
      if (REMOTE_CLOSED.test(text)) {
        if (!this.ownStub) this.emit('output', `The GDB stub at ${this.target ?? 'the target'} closed the connection: the guest is gone.\n`, 'console');
      } else if (!SOURCE_LINE_MISSING.test(text)) this.emit('output', text, 'console');
    });
    gdb.on('target', (text) => this.emit('output', text, 'stdout'));
    gdb.on('exit', (reason) => this.emit('exit', reason));
    // Written together (gdb runs them in order); the first failure is the one said.
    await Promise.all([
      symbols ? mi.fileExecAndSymbols(gdb, symbols) : undefined,
      // Code comes from the ELF, not the target: at -S a multiboot image is not in guest memory yet,
      // and gdb would otherwise place function breakpoints before the prologue, with garbage arguments.
      mi.gdbSet(gdb, 'trust-readonly-sections', 'on'),
      // A unikernel's main has the boot code below it: show it, it is part of the story.
      mi.gdbSet(gdb, 'backtrace past-main', 'on'),
      // Each vCPU is a gdb thread; printing the guest's own arch keeps 64-bit registers after the 32-bit boot code.
      guestBits === 64 ? mi.gdbSet(gdb, 'architecture', 'i386:x86-64') : undefined,
      ...(args.setupCommands ?? []).map((cmd) => mi.cliCommand(gdb, cmd)),
    ]);
  }

  /** Connects to the GDB stub at `target` (a Unix socket path or host:port); `own`: of a QEMU this session started. */
  async connect(target: string, own = false): Promise<void> {
    const gdb = this.require();
    this.ownStub = own;
    this.target = target;
    // Nobody listening is an answer: say it now, not after gdb's 15 s of retrying.
    const noRetry = mi.gdbSet(gdb, 'tcp auto-retry', 'off').catch(() => undefined);
    const connected = mi.targetSelectRemote(gdb, target);
    // Stepping one vCPU leaves the others where they are (a setting of the connected target, run after it).
    const locking = mi.gdbSet(gdb, 'scheduler-locking', 'step').catch(() => undefined);
    try {
      await connected;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ConfigError(`gdb could not connect to the GDB stub at ${target}: ${msg}`);
    }
    await Promise.all([noRetry, locking]);
  }

  /** Leaves the stub alone (its QEMU is about to be replaced). */
  async disconnect(): Promise<void> {
    if (this.current?.isAlive) await mi.targetDisconnect(this.current).catch(() => undefined);
  }

  /** An attached guest: detach (gdb resumes it) or kill it. */
  async leaveTarget(kill: boolean): Promise<void> {
    const gdb = this.require();
    await (kill ? mi.killTarget(gdb, 3_000) : mi.targetDetach(gdb));
  }

  /** Resets an attached guest through the stub's monitor; gdb's caches of it are stale then. */
  async resetByMonitor(): Promise<void> {
    const gdb = this.require();
    await mi.monitor(gdb, 'system_reset', 5_000);
    await mi.flushCaches(gdb);
  }

  /** A line typed in the Debug Console, run by gdb's command line (and `monitor …` by QEMU's). */
  async cli(text: string): Promise<string> {
    const r = await mi.cliCommand(this.require(), text, 30_000);
    return r.console.replace(/\n$/, '');
  }

  /** gdb's completions of a command line; each replaces the whole line. */
  complete(text: string): Promise<string[]> {
    return mi.complete(this.require(), text);
  }

  async currentThreadId(): Promise<number> {
    const { currentThreadId } = await mi.threadInfo(this.require());
    return currentThreadId ?? 1;
  }

  /** Ends gdb (and an early one nobody took). */
  async dispose(): Promise<void> {
    await this.dropEarly();
    const gdb = this.current;
    this.current = undefined;
    await gdb?.dispose();
    if (gdb?.pid !== undefined) this.opts.processes.release(gdb.pid);
  }

  private spawn(args: CommonArguments): Promise<Gdb> {
    return Gdb.start({
      timeoutScale: this.opts.timeoutScale,
      traceFile: this.opts.traceFile,
      gdbPath: args.gdbPath,
      useInitFiles: args.gdbInitFiles,
      onSpawn: (pid) => this.opts.processes.guard(pid),
    });
  }

  /** The gdb started early serves when the configuration asks for the default one. */
  private async take(args: CommonArguments): Promise<Gdb> {
    const early = this.early;
    this.early = undefined;
    const wantsDefault = !args.gdbPath && !args.gdbInitFiles;
    if (early && wantsDefault) {
      const gdb = await early.catch(() => undefined);
      if (gdb?.isAlive) return gdb;
    } else if (early) {
      // Not the gdb this configuration wants: it goes before the other one comes.
      await early.then((g) => g.dispose(), () => undefined);
    }
    return this.spawn(args);
  }
}
