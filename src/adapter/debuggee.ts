/**
 * The debuggee's lifecycle: a guest launched under QEMU from the launch plan (recorded when asked,
 * with its replay), or a GDB stub someone else started; what configurationDone starts; Restart;
 * leaving an attached guest; and the end, when the guest exits (its status decoded) or the session
 * ends (every process we started goes).
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_MAX_CHECKPOINTS } from '../qemu/checkpoints';
import { AttachedMachine } from './attachedMachine';
import type { SchedulerLayout } from '../qemu/profiles/threads';
import type { Breakpoints } from './breakpoints';
import type { AttachArguments, LaunchArguments } from './config';
import type { GuestConsole } from './console';
import type { Crashes } from './crashes';
import type { GdbHost } from './gdbHost';
import type { FastRead } from './memory';
import { Guest, type GuestEnd } from './guest';
import { planAttach, planLaunch, type Say } from './launchPlan';
import type { ProcessGuard } from './reaper';
import { Replay } from './replay';
import type { RunControl, StopFacts } from './runControl';
import type { SourcePaths } from './sourcePaths';

export interface DebuggeeEvents {
  /** The guest ended by itself, its last console lines and crashes read. */
  exit: [GuestEnd];
  /** A replay stopped answering: the session cannot go on. */
  hung: [];
}

export interface DebuggeeParts {
  host: GdbHost;
  run: RunControl;
  console: GuestConsole;
  crashes: Crashes;
  breakpoints: Breakpoints;
  sources: SourcePaths;
  processes: ProcessGuard;
  timeoutScale: number;
}

/** What configurationDone starts: the guest running, or (attached, `stopAtEntry: true`) a stop where it was caught. */
export type Start = { run: () => Promise<void> } | { entryStop: number };

export class Debuggee extends EventEmitter<DebuggeeEvents> {
  /** A launched guest's QEMU (none when attached). */
  guest: Guest | undefined;
  /** An attached guest's QEMU, reached through the QMP socket the user named. */
  private machine: AttachedMachine | undefined;
  /** A recorded launch's way back in time. */
  replay: Replay | undefined;
  private args: LaunchArguments | AttachArguments | undefined;
  private attached = false;
  private ended = false;
  /** The launched platform's thread scheduler (none when attached, or the platform has none). */
  private schedulerLayout: SchedulerLayout | undefined;

  constructor(private readonly parts: DebuggeeParts) {
    super();
  }

  get isAttach(): boolean {
    return this.attached;
  }

  /** The scheduler whose threads are the guest's threads (the platform profile's). */
  get scheduler(): SchedulerLayout | undefined {
    return this.schedulerLayout;
  }

  /** Plans the launch, starts QEMU and gdb side by side, and connects them. True for a recorded run. */
  async launch(args: LaunchArguments, say: Say): Promise<boolean> {
    const { host, console, crashes, breakpoints } = this.parts;
    this.configure(args);
    if (args.consoleRateLimit) console.setRateLimit(args.consoleRateLimit);
    const plan = await planLaunch(args, say);
    crashes.configure(plan.profile.name, plan.symbols);
    this.schedulerLayout = plan.profile.scheduler;
    breakpoints.setEntryPoints({ symbols: plan.profile.entrySymbols, kernelEntry: plan.kernelEntry });
    const guest = new Guest(
      { machine: plan.machine, profile: plan.profile, kernelEntry: plan.kernelEntry, consoleLog: args.consoleLog, netdevs: plan.netdevs, processes: this.parts.processes },
      host,
      this.parts.run,
    );
    guest.on('console', (chunk) => console.push(chunk));
    guest.on('exit', (reason, code) => void this.onExit(guest, reason, code));
    this.guest = guest;
    if (args.noDebug) {
      // Ctrl+F5: the guest runs once configuration is done; the console and crash trace still work.
      await host.dropEarly();
      await guest.start('live');
    } else {
      // QEMU and gdb start in parallel; gdb reads the symbols while QEMU comes up.
      const [qemu, gdb] = await Promise.allSettled([guest.start(args.record ? 'record' : 'live'), host.start(args, plan.symbols, plan.guestBits)]);
      if (qemu.status === 'rejected') throw qemu.reason;
      if (gdb.status === 'rejected') throw gdb.reason;
      await host.connect(guest.gdbSocket, true);
      void this.parts.breakpoints.knownSources();
      if (args.record) {
        this.replay = new Replay(guest, host, this.parts.run, { maxCheckpoints: args.replayCheckpoints ?? DEFAULT_MAX_CHECKPOINTS, timeoutScale: this.parts.timeoutScale });
        this.replay.on('hung', () => this.emit('hung'));
      }
    }
    this.parts.run.connected();
    return !!this.replay;
  }

  /** Checks the target and the symbols, reads the console if one is named, and connects gdb. */
  async attach(args: AttachArguments, say: Say): Promise<void> {
    this.configure(args);
    this.attached = true;
    const { target } = await planAttach(args, say);
    this.parts.crashes.configure(undefined, args.symbols);
    // QMP is only a faster way to read memory: it is reached meanwhile, and without it gdb reads.
    const machine = args.qmp ? AttachedMachine.open(args.qmp, this.parts.processes) : undefined;
    machine?.catch(() => undefined);
    if (args.console) await this.parts.console.open(args.console);
    await this.parts.host.start(args, args.symbols);
    await this.parts.host.connect(target);
    void this.parts.breakpoints.knownSources();
    this.machine = await machine?.catch((e: Error) => void say(`${e.message}\n`, 'important'));
    if (this.ended) await this.machine?.dispose();
    this.parts.run.connected();
  }

  /** Large memory reads straight from QEMU: a launched guest's, or an attached one's given its QMP socket. */
  fastRead(): FastRead | undefined {
    const source = this.guest ?? this.machine;
    return source && ((address, count) => source.readMemory(address, count));
  }

  /** Crash paths for the default filters unless VS Code chose others, the entry breakpoint, and the start. */
  async configurationDone(): Promise<Start> {
    const { host, run, crashes, breakpoints } = this.parts;
    run.configurationDone();
    const guest = this.guest;
    if (this.args && 'noDebug' in this.args && this.args.noDebug && guest) {
      return {
        run: async () => {
          run.runningWithoutGdb();
          await guest.cont();
        },
      };
    }
    if (!host.gdb) throw new Error('The session has no gdb.');
    if (!crashes.filtersChosen) await crashes.setFilters(undefined);
    const stopAt = this.args?.stopAtEntry;
    if (this.attached && stopAt === true) return { entryStop: await host.currentThreadId() };
    const entry = await breakpoints.entryLocation(stopAt);
    if (entry) await breakpoints.insertEntry(entry);
    return { run: () => run.move('continue') };
  }

  /**
   * Restart: the machine is reset in place (gdb stays, with every breakpoint) and runs to the first
   * breakpoint again. A replay cannot be reset without leaving its recording: it ends, and a new
   * recording of a fresh boot starts. Returns what to tell the user, and how to go on.
   */
  async restart(): Promise<{ text: string; important: boolean; run: () => Promise<void> }> {
    const { host, run, console, crashes, breakpoints } = this.parts;
    host.require();
    await run.pauseSilently();
    const entry = await breakpoints.entryLocation(this.args?.stopAtEntry);
    const rerecord = !!this.replay?.replaying;
    let stopsAtGuard = false;
    if (this.replay && rerecord) {
      await this.replay.recordAgain();
      console.newRun();
    } else {
      if (this.guest) stopsAtGuard = await this.guest.reset(entry);
      else await host.resetByMonitor();
      console.flushCrashes();
    }
    crashes.forget();
    if (entry && !stopsAtGuard) await breakpoints.insertEntry(entry);
    return rerecord
      ? { text: 'Restarted: the replay has ended, and a new recording of a fresh boot begins.\n', important: true, run: () => run.move('continue') }
      : { text: 'The guest was reset.\n', important: false, run: () => run.move('continue') };
  }

  /** An attached guest is left: detached (it runs on, gdb's detach resumes it) or killed. */
  async leave(kill: boolean): Promise<void> {
    if (!this.attached || !this.parts.host.alive) return;
    try {
      await this.parts.run.pauseSilently();
      await this.parts.host.leaveTarget(kill);
    } catch {
      /* the stub may already be gone */
    }
  }

  /** What the debuggee contributes to a stop's classification. */
  stopFacts(): Pick<StopFacts, 'restartGuard' | 'machine' | 'replay'> {
    return { restartGuard: this.guest?.restartGuard, machine: !!this.guest?.qmp, replay: this.guest?.mode === 'replay' };
  }

  /** Ends gdb and QEMU and removes what the session made for them. */
  async dispose(): Promise<void> {
    this.ended = true;
    this.parts.run.ended();
    this.replay?.dispose();
    await Promise.all([this.parts.host.dispose(), this.guest?.dispose(), this.machine?.dispose()]);
  }

  private configure(args: LaunchArguments | AttachArguments): void {
    this.args = args;
    this.parts.sources.configure({ sourceMap: args.sourceMap, roots: [args.cwd ?? process.cwd()] });
  }

  /** The guest is gone: its last console lines and crashes are read, then its status decoded. */
  private async onExit(guest: Guest, reason: string, code: number | null): Promise<void> {
    if (this.ended) return;
    await this.parts.console.end();
    if (!this.ended) this.emit('exit', guest.describeExit(reason, code, this.parts.console.recentLines()));
  }
}
