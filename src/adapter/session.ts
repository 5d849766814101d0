/**
 * The unikernel debug session: DAP requests become MI commands, gdb's async records and QEMU's
 * console become DAP events.
 */
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import {
  CapabilitiesEvent,
  ContinuedEvent,
  DebugSession,
  Event,
  ExitedEvent,
  InitializedEvent,
  InvalidatedEvent,
  MemoryEvent,
  OutputEvent,
  ProgressEndEvent,
  ProgressStartEvent,
  ProgressUpdateEvent,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Gdb, GdbCommandError, type MiAsync } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext, MiFrame } from '../mi/commands';
import { readBootImage, symbolsProblem, bootProblem, mismatchProblem, ImageError, isThirtyTwoBitGuest, type BootImage } from '../qemu/bootImage';
import { NETDEV_ID, PROFILES, debugFileFor, detectPlatform, imageFacts, type PlatformProfile } from '../qemu/profiles';
import { QemuInstance, QemuError, makePrivateDir, type QemuStartOptions } from '../qemu/instance';
import { prepareRecording, recordReplayArgs, type Recording } from '../qemu/recording';
import { DEFAULT_MAX_CHECKPOINTS } from '../qemu/checkpoints';
import { watchLiveness } from '../qemu/liveness';
import { startReplay } from './replaySwitch';
import * as moves from './reverseMoves';
import { ConsoleSource } from '../qemu/consoleSource';
import {
  ConfigError,
  normalizeTarget,
  validateAttach,
  validateLaunch,
  type AttachArguments,
  type CommonArguments,
  type LaunchArguments,
} from './config';
import { Reaper } from './reaper';
import { OutputThrottle } from './outputThrottle';
import { CrashWatcher } from '../crash/crashWatcher';
import { Symbolizer, symbolizeReport } from '../crash/symbolizer';
import type { CrashFrame, CrashReport } from '../crash/report';
import { CRASH_PATHS, EXCEPTION_FILTERS, formatTrace, type CrashPath } from './crashPaths';
import type { Platform as ReportPlatform } from '../crash/report';
import { rebuildTrapFrames } from './trapFrame';
import { SourcePaths, type SourceFileName } from './sourcePaths';
import { parseMemoryReference, readMemory, writeMemory } from './memory';
import { disassemble } from './disassembly';
import { decodeEflags } from './registers';
import { RefTable } from './variables';
import { VariablesView, hexValue } from './variablesView';

type StopReason = 'step' | 'breakpoint' | 'exception' | 'pause' | 'entry' | 'goto' | 'function breakpoint' | 'data breakpoint' | 'instruction breakpoint';

interface WantedBreakpoint {
  location: string;
  line?: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  mode?: string;
}

const BREAKPOINT_MODES: DebugProtocol.BreakpointMode[] = [
  { mode: 'software', label: 'Software', description: 'A breakpoint kept by the GDB stub; any number of them.', appliesTo: ['source', 'function', 'instruction'] },
  {
    mode: 'hardware',
    label: 'Hardware',
    description: 'Uses one of the CPU\'s four debug registers; works on code that is not in memory yet (early boot).',
    appliesTo: ['source', 'function', 'instruction'],
  },
];

/** gdb counts hits to ignore: `5` or `>= 5` stops from the 5th hit on, `> 5` from the 6th. */
function hitConditionToIgnoreCount(hit: string | undefined): number | undefined {
  if (!hit?.trim()) return undefined;
  const m = /^\s*(>=|>|==|=)?\s*(\d+)\s*$/.exec(hit);
  if (!m) throw new Error(`Hit count "${hit}" is not understood: use a number, ">= N" or "> N".`);
  const n = Number(m[2]);
  return m[1] === '>' ? n : Math.max(0, n - 1);
}

/** What the session is doing with the guest right now. */
type RunState = 'starting' | 'stopped' | 'running' | 'ended';

const DEFAULT_STACK_LEVELS = 20;
/** gdb's `26\tfile.c: No such file or directory.` after a stop in a file it cannot open. */
const SOURCE_LINE_MISSING = /^\d+\t[^\n]*: No such file or directory\.\n?$/;
/** Frames fetched at every stop before VS Code asks (it asks for 1, then 20). */
const PREFETCH_FRAMES = 20;

/** A frame as DAP sees it: a gdb frame, or one rebuilt from a trap frame (gdb cannot select it). */
interface FrameRef extends FrameContext {
  synthetic?: boolean;
  /** For the rebuilt faulting frame: the handler argument holding the saved registers. */
  trapFrame?: string;
}

export class UnikernelDebugSession extends DebugSession {
  private gdb: Gdb | undefined;
  /** A gdb started before the configuration is known, to have it ready sooner. */
  private earlyGdb: Promise<Gdb> | undefined;
  private qemu: QemuInstance | undefined;
  private reaper: Reaper | undefined;
  private isAttach = false;
  private args: (LaunchArguments | AttachArguments) | undefined;
  private runState: RunState = 'starting';
  private entryBreakpoint: string | undefined;
  /** After a restart, the temporary breakpoint at the entry point that ends the firmware's boot. */
  private restartGuard: string | undefined;
  private guestBits: 32 | 64 = 64;
  /** The image's entry point as a gdb location, read once at launch. */
  private kernelEntry: string | undefined;
  /** After a restart, the stop at entry is the guard's own stop. */
  private stopAtGuard = false;
  private profile: PlatformProfile | undefined;
  /** How QEMU was started, to start the same machine again for a replay. */
  private machine: QemuStartOptions | undefined;
  /** The run is recorded (launch attribute `record`); in replay once the user steps back. */
  private recording: Recording | undefined;
  /** The old QEMU of a switch to replay ends without ending the session. */
  private replacing: QemuInstance | undefined;
  /** A reverse step by line is under way: its stop may need to go on to the line's start. */
  private reverseLine = false;
  /** A reverse continue with data breakpoints set is under way. */
  private reverseWatch = false;
  /** Switching to replay: stops on the way are not the user's. */
  private replaying = false;
  /** An attached guest's console, when the configuration names one. */
  private consoleSource: ConsoleSource | undefined;
  private pendingReason: StopReason | undefined;
  /** A stop we caused ourselves (to insert breakpoints while running) is not shown to the user. */
  private silentStop: { resolve: () => void } | undefined;
  /** gdb breakpoint numbers per family: `source:<path>`, `function`, `instruction`, `data`. */
  private readonly breakpoints = new Map<string, string[]>();
  /** Logpoint messages by gdb breakpoint number. */
  private readonly logpoints = new Map<string, string>();
  private readonly frames = new RefTable<FrameRef>();
  private readonly view = new VariablesView((at) => this.stopCache.locals.get(`${at.threadId}:${at.level}`));
  /** Requests VS Code cancelled (long memory reads look here between chunks). */
  private readonly cancelled = new Set<number>();
  private lastThreads: DebugProtocol.Thread[] = [new Thread(1, 'CPU 0')];
  private readonly consoleDecoder = new StringDecoder('utf8');
  private ending = false;
  private configurationDone = false;
  /** Exception filters VS Code asked for; undefined until it says (then the defaults apply). */
  private exceptionFilters: Set<string> | undefined;
  private readonly crashBreakpoints = new Map<string, CrashPath>();
  private crashWatcher: CrashWatcher | undefined;
  private symbolizer: Promise<Symbolizer | undefined> | undefined;
  private symbolsPath: string | undefined;
  /** The crash the guest is stopped at (for exceptionInfo and the rebuilt trap frame). */
  private crash: { report: CrashReport; threadId: number; path?: CrashPath; trapFrames?: DebugProtocol.StackFrame[] } | undefined;
  /** After a crash stop, the console's account of the same crash updates the trace but does not stop again. */
  private crashEpisode = false;
  /** Between gdb's source names and the editor's files. */
  private sources = new SourcePaths({ roots: [process.cwd()] });
  /** The source files the debug information names, asked of gdb once. */
  private sourceFiles: Promise<readonly SourceFileName[]> | undefined;

  // ---- lifecycle --------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, client: DebugProtocol.InitializeRequestArguments): void {
    this.supportsProgress = client?.supportsProgressReporting === true;
    // gdb takes ~100 ms to start: start a default one now, while VS Code prepares the launch.
    this.reaper ??= Reaper.start();
    this.earlyGdb = this.spawnGdb({});
    this.earlyGdb.catch(() => undefined);
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsSetVariable: true,
      supportsSetExpression: false,
      supportsTerminateRequest: true,
      supportsDelayedStackTraceLoading: true,
      supportTerminateDebuggee: true,
      supportsSteppingGranularity: true,
      supportsExceptionInfoRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsInstructionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      breakpointModes: BREAKPOINT_MODES,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsCancelRequest: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: [' ', '.', '$'],
      supportsValueFormattingOptions: true,
      supportsRestartRequest: true,
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, raw: DebugProtocol.LaunchRequestArguments): Promise<void> {
    try {
      const args = validateLaunch((raw ?? {}) as Record<string, unknown>);
      this.args = args;
      this.sources = new SourcePaths({ sourceMap: args.sourceMap, roots: [args.cwd ?? process.cwd()] });
      if (args.consoleRateLimit) {
        this.consoleOut = new OutputThrottle((text) => this.sendEvent(new OutputEvent(text, 'stdout')), { maxBytesPerSecond: args.consoleRateLimit });
      }
      const kernelInfo = await readBootImage(args.kernel, 'image');
      this.kernelEntry = `*0x${kernelInfo.entry.toString(16)}`;
      const problem = bootProblem(kernelInfo);
      if (problem) throw new ImageError(problem);
      // A 32-bit image with its own DWARF is a 32-bit guest; without, it boots a 64-bit kernel (Unikraft).
      this.guestBits = isThirtyTwoBitGuest(kernelInfo) && !args.symbols && !debugFileFor(args.kernel) ? 32 : 64;
      const symbols = args.symbols ?? (kernelInfo.bits === 32 && this.guestBits === 64 ? (debugFileFor(args.kernel) ?? `${args.kernel}.dbg`) : args.kernel);
      await this.checkSymbols(symbols, kernelInfo.bits === 32 && this.guestBits === 64 && !args.symbols, kernelInfo);
      this.symbolsPath = symbols;
      const facts = await imageFacts(args.kernel, kernelInfo, symbols);
      const profile = args.platform ? PROFILES[args.platform] : detectPlatform(facts);
      this.profile = profile;
      const platformProblem = profile.launchProblem?.(facts);
      if (platformProblem) throw new ImageError(platformProblem);
      if (args.consoleLog) await writeConsoleLogMeta(args.consoleLog, { symbols, kernel: args.kernel, platform: profile.name });
      this.sendEvent(new OutputEvent(`${profile.label}${args.platform ? '' : ' (detected)'}: booting ${args.kernel}${args.noDebug ? ' without the debugger' : ''}\n`, 'console'));

      this.reaper ??= Reaper.start();
      const guest = { kernel: args.kernel, cmdline: args.cmdline, net: args.net, disks: args.disks, recorded: !!args.record && !args.noDebug };
      const qemuPath = args.qemuPath ?? (this.guestBits === 32 ? 'qemu-system-i386' : 'qemu-system-x86_64');
      if (args.record && !args.noDebug) {
        const dir = await makePrivateDir('unikernel-rr-');
        this.reaper.guardDir(dir);
        this.recording = await prepareRecording(dir, qemuPath, args.net ? [NETDEV_ID] : []);
      }
      // What starts QEMU again, identically, for a replay.
      this.machine = {
        kernel: args.kernel,
        cmdline: profile.guestCommandLine(guest),
        memoryMiB: args.memory,
        cpus: args.cpus,
        qemuPath,
        extraArgs: [...profile.qemuArgs(guest), ...(args.qemuArgs ?? [])],
        exitPorts: profile.exitPorts,
        cwd: args.cwd,
        onSpawn: (pid) => this.reaper?.guard(pid),
        onPrivateDir: (dir) => this.reaper?.guardDir(dir),
      };
      const startQemu = QemuInstance.start({
        ...this.machine,
        extraArgs: [...this.machine.extraArgs!, ...(this.recording ? recordReplayArgs(this.recording, 'record') : [])],
        consoleLog: args.consoleLog,
        consoleFile: !!this.recording,
      });
      if (args.noDebug) {
        // Ctrl+F5: the guest runs once configuration is done; the console and crash trace still work.
        await this.earlyGdb?.then((g) => g.dispose(), () => undefined);
        this.earlyGdb = undefined;
        this.attachQemu(await startQemu);
        this.runState = 'stopped';
        this.sendResponse(response);
        this.sendEvent(new InitializedEvent());
        return;
      }
      // QEMU and gdb start in parallel; gdb reads the symbols while QEMU comes up.
      const [qemuResult, gdbResult] = await Promise.allSettled([startQemu, this.startGdb(args, symbols)]);
      if (qemuResult.status === 'fulfilled') this.attachQemu(qemuResult.value);
      if (qemuResult.status === 'rejected') throw qemuResult.reason;
      if (gdbResult.status === 'rejected') throw gdbResult.reason;
      const gdb = gdbResult.value;
      await this.connect(gdb, qemuResult.value.plan.gdbSocket);
      this.sendResponse(response);
      // Step Back and Reverse Continue appear once VS Code knows this run is recorded.
      if (this.recording) this.sendEvent(new CapabilitiesEvent({ supportsStepBack: true }));
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, raw: DebugProtocol.AttachRequestArguments): Promise<void> {
    try {
      const args = validateAttach((raw ?? {}) as Record<string, unknown>);
      this.args = args;
      this.sources = new SourcePaths({ sourceMap: args.sourceMap, roots: [args.cwd ?? process.cwd()] });
      this.isAttach = true;
      const target = normalizeTarget(args.target, args.cwd ?? process.cwd());
      if (!target.includes(':') || target.startsWith('/')) {
        if (!existsSync(target)) throw new ConfigError(`Nothing is listening at ${target}: the socket does not exist. Start the guest with its GDB stub first.`);
      }
      if (args.symbols) await this.checkSymbols(args.symbols, false);
      this.symbolsPath = args.symbols;
      if (args.console) {
        const source = await ConsoleSource.open(args.console);
        this.consoleSource = source;
        this.watchConsole();
        source.on('data', (chunk) => this.onConsoleBytes(chunk));
      }
      this.reaper ??= Reaper.start();
      const gdb = await this.startGdb(args, args.symbols);
      await this.connect(gdb, target);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  private async checkSymbols(path: string, guessed: boolean, image?: BootImage): Promise<void> {
    if (guessed && !existsSync(path)) {
      throw new ImageError(
        `The image is a 32-bit boot image and no 64-bit debug file was found next to it (looked for ${path}); set "symbols" to the ELF with debug info.`,
      );
    }
    const info = await readBootImage(path, 'symbols file');
    const problem = symbolsProblem(info, this.guestBits) ?? (image ? mismatchProblem(image, info) : undefined);
    if (problem) throw new ImageError(problem);
    if (!info.hasDebugInfo) {
      this.sendEvent(new OutputEvent(`${path} has no debug information: breakpoints by line and variables will not work. Build with -g.\n`, 'important'));
    }
  }

  private spawnGdb(args: CommonArguments): Promise<Gdb> {
    return Gdb.start({
      timeoutScale: timeoutScale(),
      traceFile: process.env.UNIKERNEL_DEBUG_MI_TRACE || undefined,
      gdbPath: args.gdbPath,
      useInitFiles: args.gdbInitFiles,
      onSpawn: (pid) => this.reaper?.guard(pid),
    });
  }

  /** The gdb started at initialize serves when the configuration asks for the default one. */
  private async takeGdb(args: CommonArguments): Promise<Gdb> {
    const early = this.earlyGdb;
    this.earlyGdb = undefined;
    const wantsDefault = !args.gdbPath && !args.gdbInitFiles;
    if (early && wantsDefault) {
      const gdb = await early.catch(() => undefined);
      if (gdb?.isAlive) return gdb;
    } else if (early) {
      // Not the gdb this configuration wants: it goes before the other one comes.
      await early.then((g) => g.dispose(), () => undefined);
    }
    return this.spawnGdb(args);
  }

  private async startGdb(args: CommonArguments, symbols: string | undefined): Promise<Gdb> {
    const gdb = await this.takeGdb(args);
    this.gdb = gdb;
    if (args.cwd) await mi.environmentCd(gdb, args.cwd);
    gdb.on('exec', (rec) => this.onExec(rec));
    // Console text no command asked for is gdb narrating stops ("Breakpoint 2, compute (…)"), which
    // VS Code shows better itself; warnings and errors come on the log stream.
    gdb.on('log', (text) => {
      // gdb failing to print a stop's source line is not news: the editor shows the line (or says why not).
      if (!SOURCE_LINE_MISSING.test(text)) this.sendEvent(new OutputEvent(text, 'console'));
    });
    gdb.on('target', (text) => this.sendEvent(new OutputEvent(text, 'stdout')));
    gdb.on('exit', (reason) => {
      if (!this.ending) {
        this.sendEvent(new OutputEvent(`${reason} The debug session ends.\n`, 'important'));
        void this.endSession();
      }
    });
    if (symbols) await mi.fileExecAndSymbols(gdb, symbols);
    // Code comes from the ELF, not the target: at -S a multiboot image is not in guest memory yet,
    // and gdb would otherwise place function breakpoints before the prologue, with garbage arguments.
    await mi.gdbSet(gdb, 'trust-readonly-sections', 'on');
    // A unikernel's main has the boot code below it: show it, it is part of the story.
    await mi.gdbSet(gdb, 'backtrace past-main', 'on');
    // Each vCPU is a gdb thread; printing the guest's own arch keeps 64-bit registers after the 32-bit boot code.
    if (this.guestBits === 64) await mi.gdbSet(gdb, 'architecture', 'i386:x86-64');
    for (const cmd of args.setupCommands ?? []) await mi.cliCommand(gdb, cmd);
    return gdb;
  }

  /** The guest console, wherever it comes from, goes to the Debug Console and the crash collector. */
  private watchConsole(): void {
    this.crashWatcher = new CrashWatcher({
      onCrash: (report) => {
        const handled = this.onConsoleCrash(report).catch(() => undefined);
        this.consoleCrashes.add(handled);
        void handled.finally(() => this.consoleCrashes.delete(handled));
      },
    });
  }

  private onConsoleBytes(chunk: Buffer): void {
    const text = this.consoleDecoder.write(chunk).replace(/\r\n/g, '\n').replace(/\0/g, '');
    if (text) this.consoleOut.push(text);
    this.crashWatcher?.push(chunk);
  }

  private consoleOut = new OutputThrottle((text) => this.sendEvent(new OutputEvent(text, 'stdout')));

  private attachQemu(qemu: QemuInstance): void {
    this.qemu = qemu;
    this.watchConsole();
    qemu.on('console', (chunk) => this.onConsoleBytes(chunk));
    qemu.on('exit', (reason, code) => void this.onQemuExit(qemu, reason, code));
  }

  /** The guest is gone: read its last console bytes and crashes, then end the session. */
  private async onQemuExit(qemu: QemuInstance, reason: string, code: number | null): Promise<void> {
    if (qemu.pid !== undefined) this.reaper?.release(qemu.pid);
    if (this.ending || qemu === this.replacing) return;
    await qemu.consoleDrained(2_000);
    this.consoleOut.dispose();
    this.crashWatcher?.end();
    await Promise.all(this.consoleCrashes);
    if (this.ending) return;
    // An exit status is the guest's own doing; a signal is not, and a person should hear of it.
    if (code === null || !this.profile) {
      this.sendEvent(new OutputEvent(`${reason}${code === null ? ' The debug session ends.' : ''}\n`, code === null ? 'important' : 'console'));
      this.sendEvent(new ExitedEvent(code ?? 0));
    } else {
      // QEMU's code is what the exit device made of the guest's write; the platform says what the guest meant.
      const lines = this.crashWatcher?.reader.recentLines().map((l) => l.text) ?? [];
      const exit = this.profile.exitStatus(code, lines);
      // QEMU's own complaint on stderr, if it made one, comes with it.
      const complaint = /^QEMU exited with code \d+: /.test(reason) ? ` ${reason}` : '';
      this.sendEvent(new OutputEvent(`${exit.text}${complaint}\n`, 'console'));
      this.sendEvent(new ExitedEvent(exit.status));
    }
    await this.endSession();
  }

  private async connect(gdb: Gdb, target: string): Promise<void> {
    // Nobody listening is an answer: say it now, not after gdb's 15 s of retrying.
    await mi.gdbSet(gdb, 'tcp auto-retry', 'off').catch(() => undefined);
    try {
      await mi.targetSelectRemote(gdb, target);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ConfigError(`gdb could not connect to the GDB stub at ${target}: ${msg}`);
    }
    // Stepping one vCPU leaves the others where they are (a setting of the connected target).
    await mi.gdbSet(gdb, 'scheduler-locking', 'step').catch(() => undefined);
    this.runState = 'stopped';
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.configurationDone = true;
    const gdb = this.gdb;
    const noDebugQmp = (this.args as LaunchArguments | undefined)?.noDebug ? this.qemu?.qmp : undefined;
    if (noDebugQmp) {
      this.sendResponse(response);
      this.runState = 'running';
      await noDebugQmp.cont().catch(() => undefined);
      return;
    }
    if (!gdb) return this.fail(response, new Error('The session has no gdb.'));
    try {
      if (this.exceptionFilters === undefined) {
        this.exceptionFilters = new Set(EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));
        await this.insertCrashBreakpoints(gdb);
      }
      const stopAt = this.args?.stopAtEntry;
      if (this.isAttach && stopAt === true) {
        this.sendResponse(response);
        this.reportStop('entry', await this.currentThreadId());
        return;
      }
      if (stopAt) {
        const location = typeof stopAt === 'string' ? stopAt : await this.entryLocation();
        // Hardware: at this point the image may not be in guest memory yet.
        if (location) this.entryBreakpoint = (await mi.breakInsert(gdb, location, { temporary: true, hardware: true })).number;
      }
      this.sendResponse(response);
      await this.resume(() => mi.execContinue(gdb));
    } catch (e) {
      this.fail(response, e);
    }
  }

  /**
   * Restart: reset the machine in place and run to the first breakpoint again. gdb stays connected
   * and keeps every breakpoint; its caches are flushed because the machine changed behind its back.
   */
  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    try {
      const gdb = this.requireGdb();
      if (this.runState === 'running') await this.stopSilently();
      if (this.recording?.mode === 'replay') {
        await this.recordAgain(gdb, this.recording);
        this.sendResponse(response);
        return;
      }
      const qmp = this.qemu?.qmp;
      let guardLocation: string | undefined;
      if (qmp && this.kernelEntry) {
        // Our machines turn a reset into a pause (to catch triple faults). This reset is wanted, and
        // so are the ones the firmware does while it boots again: resets stay resets until the
        // image's entry point is reached.
        await qmp.setRebootAction('reset');
        await qmp.systemReset();
        await qmp.queryStatus();
        guardLocation = this.kernelEntry;
        this.restartGuard = (await mi.breakInsert(gdb, guardLocation, { temporary: true, hardware: true })).number;
      } else {
        await mi.monitor(gdb, 'system_reset', 5_000);
      }
      await mi.flushCaches(gdb);
      this.crash = undefined;
      this.crashEpisode = false;
      this.crashWatcher?.collector.flush();
      const stopAt = this.args?.stopAtEntry;
      const location = typeof stopAt === 'string' ? stopAt : stopAt ? await this.entryLocation() : undefined;
      // The image's entry point itself is where the guard stops; anything else gets its own breakpoint.
      this.stopAtGuard = location !== undefined && location === guardLocation;
      if (location && !this.stopAtGuard) this.entryBreakpoint = (await mi.breakInsert(gdb, location, { temporary: true, hardware: true })).number;
      this.sendResponse(response);
      this.sendEvent(new OutputEvent('The guest was reset.\n', 'console'));
      await this.resume(() => mi.execContinue(gdb));
    } catch (e) {
      this.fail(response, e);
    }
  }

  /**
   * Restart from a replay: a reset would make the replay leave its recording, so the replay ends and
   * a new recording of a fresh boot starts (its snapshot drive made anew: the old checkpoints belong
   * to the old recording).
   */
  private async recordAgain(gdb: Gdb, recording: Recording): Promise<void> {
    const old = this.qemu;
    const machine = this.machine;
    if (!old || !machine) throw new Error('The replay QEMU is gone.');
    this.stopLiveness?.();
    this.stopLiveness = undefined;
    this.replacing = old;
    // The stop gdb reports when it connects is not the user's.
    this.replaying = true;
    await mi.targetDisconnect(gdb).catch(() => undefined);
    await old.dispose();
    this.reaper?.releaseDir(old.privateDir);
    this.replacing = undefined;
    const fresh = await prepareRecording(recording.dir, machine.qemuPath ?? 'qemu-system-x86_64', recording.netdevs);
    recording.mode = fresh.mode;
    recording.end = undefined;
    const args = this.args && 'kernel' in this.args ? this.args : undefined;
    const qemu = await QemuInstance.start({
      ...machine,
      extraArgs: [...(machine.extraArgs ?? []), ...recordReplayArgs(recording, 'record')],
      consoleLog: args?.consoleLog,
      consoleLogAppend: true,
      consoleFile: true,
    });
    this.crashWatcher?.end();
    this.attachQemu(qemu);
    try {
      await this.connect(gdb, qemu.plan.gdbSocket);
    } finally {
      this.replaying = false;
    }
    this.crash = undefined;
    this.crashEpisode = false;
    const stopAt = this.args?.stopAtEntry;
    const location = typeof stopAt === 'string' ? stopAt : stopAt ? await this.entryLocation() : undefined;
    if (location) this.entryBreakpoint = (await mi.breakInsert(gdb, location, { temporary: true, hardware: true })).number;
    this.sendEvent(new OutputEvent('Restarted: the replay has ended, and a new recording of a fresh boot begins.\n', 'important'));
    await this.resume(() => mi.execContinue(gdb));
  }

  /** The restarted guest reached its entry: resets are crashes again; go on (or stop, if asked). */
  private async afterRestartEntry(threadId: number): Promise<void> {
    this.restartGuard = undefined;
    await this.qemu?.qmp?.setRebootAction('shutdown').catch(() => undefined);
    const gdb = this.gdb;
    if (!gdb) return;
    if (this.stopAtGuard) {
      this.reportStop('entry', threadId);
      return;
    }
    await this.resume(() => mi.execContinue(gdb)).catch(() => undefined);
  }

  /** Where `stopAtEntry: true` stops: the platform's application entry, else the image's entry point. */
  private async entryLocation(): Promise<string | undefined> {
    if (this.isAttach) return undefined;
    const gdb = this.gdb;
    // gdb knows functions by DWARF too: a `main` that rumprun-bake renamed in the symbol table is still `main`.
    for (const symbol of this.profile?.entrySymbols ?? []) {
      const found = gdb ? await mi.symbolInfoFunctions(gdb, `^${symbol}$`).catch(() => []) : [];
      if (found.some((f) => f.name === symbol)) return symbol;
    }
    return this.kernelEntry;
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments | undefined): Promise<void> {
    const terminate = args?.terminateDebuggee ?? !this.isAttach;
    if (this.isAttach && !terminate && this.gdb?.isAlive) {
      // Leave the guest running: gdb's detach resumes it.
      try {
        if (this.runState === 'running') await this.stopSilently();
        await mi.targetDetach(this.gdb);
      } catch {
        /* the stub may already be gone */
      }
    } else if (this.isAttach && terminate && this.gdb?.isAlive) {
      try {
        if (this.runState === 'running') await this.stopSilently();
        await mi.killTarget(this.gdb, 3_000);
      } catch {
        /* the stub may already be gone */
      }
    }
    await this.stopChildren();
    this.sendResponse(response);
    this.shutdown();
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    if (this.isAttach) {
      try {
        if (this.gdb?.isAlive) {
          if (this.runState === 'running') await this.stopSilently();
          await mi.killTarget(this.gdb, 3_000);
        }
      } catch {
        /* gone already */
      }
    }
    this.sendResponse(response);
    await this.endSession();
  }

  /** Ends everything once and tells VS Code. */
  private async endSession(): Promise<void> {
    if (this.ending) return;
    await this.stopChildren();
    this.sendEvent(new TerminatedEvent());
  }

  /** The client went away (or asked to end): nothing we started may outlive the adapter. */
  override shutdown(): void {
    void this.stopChildren().finally(() => super.shutdown());
  }

  /** Kills what we started and forgets it; safe to call more than once. */
  private stopChildren(): Promise<void> {
    // Every caller waits for the same teardown, so the process never exits halfway through it.
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private stopping: Promise<void> | undefined;

  private async teardown(): Promise<void> {
    this.ending = true;
    this.runState = 'ended';
    this.stopLiveness?.();
    const early = this.earlyGdb;
    this.earlyGdb = undefined;
    await early?.then((g) => g.dispose(), () => undefined);
    const gdb = this.gdb;
    const qemu = this.qemu;
    this.gdb = undefined;
    this.qemu = undefined;
    await Promise.all([
      gdb?.dispose().then(() => gdb.pid !== undefined && this.reaper?.release(gdb.pid)),
      qemu?.dispose().then(() => {
        if (qemu.pid !== undefined) this.reaper?.release(qemu.pid);
        this.reaper?.releaseDir(qemu.privateDir);
      }),
    ]);
    const recording = this.recording;
    this.recording = undefined;
    if (recording) {
      await rm(recording.dir, { recursive: true, force: true });
      this.reaper?.releaseDir(recording.dir);
    }
    this.reaper?.close();
    this.reaper = undefined;
    this.consoleSource?.close();
    this.consoleSource = undefined;
    this.consoleOut.dispose();
    this.crashWatcher?.end();
    this.crashWatcher = undefined;
    const symbolizer = this.symbolizer;
    this.symbolizer = undefined;
    (await symbolizer?.catch(() => undefined))?.dispose();
  }

  // ---- execution --------------------------------------------------------------------------------

  private onExec(rec: MiAsync): void {
    if (rec.asyncClass === 'running') {
      this.runState = 'running';
      return;
    }
    if (rec.asyncClass !== 'stopped') return;
    const reason = typeof rec.results.reason === 'string' ? rec.results.reason : '';
    if (reason.startsWith('exited')) {
      this.runState = 'ended';
      if (!this.ending) void this.endSession();
      return;
    }
    this.runState = 'stopped';
    if (this.silentStop) {
      const s = this.silentStop;
      this.silentStop = undefined;
      s.resolve();
      return;
    }
    // Stops while connecting (to a replay) belong to the switch, not to the user.
    if (!this.configurationDone || this.replaying) return;
    const threadId = Number.parseInt(typeof rec.results['thread-id'] === 'string' ? rec.results['thread-id'] : '1', 10) || 1;
    const bkpt = rec.results.bkptno;
    if (reason === 'breakpoint-hit' && bkpt !== undefined && bkpt === this.restartGuard) {
      void this.afterRestartEntry(threadId);
      return;
    }
    const crashPath = reason === 'breakpoint-hit' && typeof bkpt === 'string' ? this.crashBreakpoints.get(bkpt) : undefined;
    if (crashPath) {
      this.pendingReason = undefined;
      void this.onCrashStop(crashPath, threadId);
      return;
    }
    const reverseLine = this.reverseLine;
    this.reverseLine = false;
    const addr = stopAddress(rec);
    if (reverseLine && reason === 'end-stepping-range' && addr) {
      void this.finishLineBackwards(threadId, addr);
      return;
    }
    if (this.reverseWatch) {
      this.reverseWatch = false;
      const sig = rec.results['signal-name'];
      if (/watchpoint-trigger$/.test(reason) || (reason === 'signal-received' && sig === 'SIGTRAP')) {
        void this.backOntoWrite(threadId);
        return;
      }
    }
    const logMessage = reason === 'breakpoint-hit' && typeof bkpt === 'string' ? this.logpoints.get(bkpt) : undefined;
    if (logMessage !== undefined) {
      void this.onLogpoint(logMessage, threadId);
      return;
    }
    if (reason === 'signal-received' && rec.results['signal-name'] === 'SIGQUIT' && this.qemu?.qmp) {
      void this.onMachineStopped(threadId);
      return;
    }
    if (this.pendingCrash) {
      const report = this.pendingCrash;
      this.pendingCrash = undefined;
      this.pendingReason = undefined;
      this.crashEpisode = true;
      this.crash = { report, threadId };
      this.reportStop('exception', threadId, `${report.kind}: ${report.message}`);
      this.sendCrashEvent(report);
      return;
    }
    this.crashEpisode = false;
    this.reportStop(this.stopReason(rec, reason), threadId);
  }

  private stopReason(rec: MiAsync, reason: string): StopReason {
    const pending = this.pendingReason;
    this.pendingReason = undefined;
    if (reason === 'breakpoint-hit') {
      const bkpt = rec.results.bkptno;
      if (this.entryBreakpoint !== undefined && bkpt === this.entryBreakpoint) {
        this.entryBreakpoint = undefined;
        return 'entry';
      }
      if (typeof bkpt === 'string' && this.breakpoints.get('function')?.includes(bkpt)) return 'function breakpoint';
      if (typeof bkpt === 'string' && this.breakpoints.get('instruction')?.includes(bkpt)) return 'instruction breakpoint';
      return 'breakpoint';
    }
    if (reason === 'end-stepping-range' || reason === 'function-finished' || reason === 'location-reached') return 'step';
    if (reason === 'no-history') {
      this.sendEvent(new OutputEvent('The start of the recording: there is no history before this point.\n', 'console'));
      return 'step';
    }
    if (reason === 'watchpoint-trigger' || reason === 'access-watchpoint-trigger' || reason === 'read-watchpoint-trigger') return 'data breakpoint';
    if (reason === 'signal-received') {
      const sig = rec.results['signal-name'];
      // QEMU reports the start of its history as a trap at the reset vector.
      if (sig === 'SIGTRAP' && this.recording?.mode === 'replay' && /^0x0*fff0$/i.test(stopAddress(rec) ?? '')) {
        this.sendEvent(new OutputEvent('The start of the recording: there is no history before this point.\n', 'console'));
        return 'step';
      }
      if (sig === 'SIGINT' && pending !== 'pause' && this.recording?.mode === 'replay') {
        this.sendEvent(new OutputEvent('The end of the recording: go back, or restart to run live again.\n', 'console'));
        return 'step';
      }
      if (sig === 'SIGINT' || pending === 'pause') return 'pause';
      if (sig === 'SIGTRAP' && pending) return pending;
      return 'exception';
    }
    return pending ?? 'pause';
  }

  /** Stopped events sent so far (a continued event must never follow the stop it precedes). */
  private stopsReported = 0;

  private reportStop(reason: StopReason, threadId: number, text?: string, keepRefs = false): void {
    this.stopsReported++;
    if (!keepRefs) {
      this.frames.clear();
      this.dropVarobjs(this.view.reset());
    }
    if (reason !== 'exception') this.crash = undefined;
    this.prefetch(threadId);
    // What the guest printed before it stopped comes before the stop.
    this.consoleOut.flush();
    const ev = new StoppedEvent(reason, threadId, text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (reason === 'exception') ev.body.description = 'Unikernel crash';
    this.sendEvent(ev);
  }

  /**
   * What VS Code asks for after every stop (threads, the top of the stack, the top frame's locals)
   * is asked of gdb at once, in one pipelined burst, and kept until the guest runs again.
   */
  private prefetch(threadId: number): void {
    const gdb = this.gdb;
    this.stopCache = { frames: new Map(), locals: new Map() };
    if (!gdb) return;
    const keep = <T>(p: Promise<T>): Promise<T> => {
      p.catch(() => undefined);
      return p;
    };
    this.stopCache.threads = keep(mi.threadInfo(gdb));
    this.stopCache.frames.set(threadId, keep(mi.stackListFrames(gdb, threadId, 0, PREFETCH_FRAMES)));
    this.stopCache.locals.set(`${threadId}:0`, keep(mi.stackListVariables(gdb, { threadId, level: 0 })));
  }

  private stopCache: {
    threads?: Promise<{ threads: mi.MiThread[] }>;
    /** Frames 0..PREFETCH_FRAMES of a thread. */
    frames: Map<number, Promise<MiFrame[]>>;
    locals: Map<string, Promise<mi.MiVariable[]>>;
  } = { frames: new Map(), locals: new Map() };

  // ---- crashes ----------------------------------------------------------------------------------

  /** Console crashes still being symbolized; the session waits for them before it ends. */
  private readonly consoleCrashes = new Set<Promise<void>>();

  /** A console crash waiting for the pause we asked for. */
  private pendingCrash: CrashReport | undefined;

  protected override async setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): Promise<void> {
    try {
      this.exceptionFilters = new Set(args.filters);
      await this.whileStopped((gdb) => this.insertCrashBreakpoints(gdb));
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  /** Puts breakpoints on the crash paths that exist in this image, for the enabled filters. */
  private async insertCrashBreakpoints(gdb: Gdb): Promise<void> {
    await mi.breakDelete(gdb, [...this.crashBreakpoints.keys()]);
    this.crashBreakpoints.clear();
    const platform = this.profile?.name;
    const wanted = CRASH_PATHS.filter((p) => this.exceptionFilters?.has(p.filter) && !(platform && p.notOn?.includes(platform)));
    // Without -f: a function this image does not have is simply not there.
    const results = await Promise.allSettled(
      wanted.map((p) => mi.breakInsert(gdb, p.atEntry ? `*${p.symbol}` : p.symbol, { condition: p.condition, pending: false })),
    );
    results.forEach((r, i) => {
      const path = wanted[i];
      if (r.status === 'fulfilled' && path) this.crashBreakpoints.set(r.value.number, path);
    });
  }

  /** The guest stopped on a crash path: build the report from the live state, then tell VS Code. */
  private async onCrashStop(path: CrashPath, threadId: number): Promise<void> {
    const gdb = this.gdb;
    if (!gdb) return;
    if (this.crashEpisode) {
      // The crash already shown goes on down its platform's path (abort → solo5_abort → exit): one crash, one stop.
      await this.resume(() => mi.execContinue(gdb)).catch(() => undefined);
      return;
    }
    this.crashEpisode = true;
    // References made while building the report (the rebuilt frames) must survive the stop event.
    this.frames.clear();
    this.dropVarobjs(this.view.reset());
    const at = { threadId, level: 0 };
    let registers: Record<string, string> = {};
    let trapFrames: DebugProtocol.StackFrame[] | undefined;
    let frames: CrashFrame[] = [];
    let kind = path.kind;
    let trapName: string | undefined;
    try {
      const live = await mi.stackListFrames(gdb, threadId, 0, 63);
      frames = live.map((f) => ({ address: hexAddress(f.addr), function: f.func, file: this.sourcePath(f), line: f.line }));
      // A trap handler at the top, or below the crash function, holds the registers of the faulting code.
      const rebuilt = await rebuildTrapFrames(gdb, threadId, live, await this.getSymbolizer());
      if (rebuilt) {
        const mapped = rebuilt.frames.map((f) => ({ ...f, file: f.file ? this.sources.display({ file: f.file }) : undefined }));
        registers = rebuilt.registers;
        frames = [...mapped, ...frames];
        if (rebuilt.trap) {
          kind = rebuilt.trap.kind;
          trapName = rebuilt.trap.name;
        }
        trapFrames = mapped.map((f, i) => this.syntheticFrame(threadId, f, i === 0 ? rebuilt.savedRegisters : undefined));
        trapFrames.push(this.labelFrame(`${trapName ?? 'trap'}: handled by ${rebuilt.handler}`));
      }
      if (!registers.rip) {
        const rip = await mi.dataEvaluateExpression(gdb, '$pc', at).catch(() => '');
        const rsp = await mi.dataEvaluateExpression(gdb, '$sp', at).catch(() => '');
        registers = { rip: hexAddress(rip.split(' ')[0] ?? ''), rsp: hexAddress(rsp.split(' ')[0] ?? ''), ...registers };
      }
    } catch {
      /* a report with less detail is still a report */
    }
    const faulting = trapFrames ? frames[0] : undefined;
    const where = faulting?.function ? ` in ${faulting.function}${faulting.file ? ` (${basename(faulting.file)}${faulting.line ? `:${faulting.line}` : ''})` : ''}` : '';
    const trapMessage = trapName
      ? `${trapName}${kind === 'page-fault' && registers.cr2 ? ` accessing ${registers.cr2}` : ''} at ${registers.rip}${where}`
      : undefined;
    const message = trapMessage ?? this.recentCrashMessage() ?? path.label;
    // What the guest printed just before its crash function tells the kind more precisely.
    if (kind === 'abort' && /assert/i.test(message)) kind = 'assertion';
    else if (kind === 'abort' && /stack corruption|stack smash/i.test(message)) kind = 'stack-smash';
    const report: CrashReport = {
      platform: this.reportPlatform(path),
      kind,
      message,
      line: this.crashWatcher?.reader.lines ?? 0,
      registers,
      frames,
    };
    this.crash = { report, threadId, path, trapFrames };
    this.reportStop('exception', threadId, `${report.kind}: ${report.message}`, true);
    this.sendCrashEvent(report);
  }

  /** A generic crash path reports the image's own platform. */
  private reportPlatform(path: CrashPath): ReportPlatform {
    if (path.platform !== 'generic') return path.platform;
    const byProfile: Record<string, ReportPlatform> = { mirage: 'solo5', rumprun: 'rumprun', unikraft: 'unikraft', generic: 'generic' };
    return byProfile[this.profile?.name ?? 'generic'] ?? 'generic';
  }

  /** The editor's path for a gdb frame's source. */
  private sourcePath(f: { file?: string; fullname?: string }): string | undefined {
    return f.file || f.fullname ? this.sources.display({ file: f.file ?? f.fullname ?? '', fullname: f.fullname }) : undefined;
  }

  /** The source files the debug information names, asked of gdb once per session. */
  private knownSources(): Promise<readonly SourceFileName[]> {
    const gdb = this.gdb;
    if (!gdb) return Promise.resolve([]);
    this.sourceFiles ??= mi.fileListExecSourceFiles(gdb).catch(() => []);
    return this.sourceFiles;
  }

  /**
   * The machine paused on a reset or a power-off (see the QEMU plan). A reset the guest did not ask
   * for is a triple fault: stop there, at the faulting instruction. A power-off ends QEMU as usual.
   */
  private async onMachineStopped(threadId: number): Promise<void> {
    const qmp = this.qemu?.qmp;
    const gdb = this.gdb;
    if (!qmp || !gdb) return;
    const shutdown = await qmp.waitForShutdown(2_000);
    const cause = typeof shutdown?.data.reason === 'string' ? shutdown.data.reason : undefined;
    if (cause !== 'guest-reset') {
      this.pendingReason = undefined;
      await qmp.quit().catch(() => undefined);
      return;
    }
    this.frames.clear();
    this.dropVarobjs(this.view.reset());
    const live = await mi.stackListFrames(gdb, threadId, 0, 63).catch(() => []);
    const top = live[0];
    const rip = hexAddress(top?.addr ?? '');
    const rsp = hexAddress((await mi.dataEvaluateExpression(gdb, '$sp', { threadId, level: 0 }).catch(() => '')).split(' ')[0] ?? '');
    const report: CrashReport = {
      platform: 'generic',
      kind: 'triple-fault',
      message: `The guest reset itself at ${rip}${top?.func ? ` in ${top.func}` : ''}: a triple fault (an exception with no working handler) or a reset it asked for`,
      line: this.crashWatcher?.reader.lines ?? 0,
      registers: { rip, rsp },
      frames: live.map((f) => ({ address: hexAddress(f.addr), function: f.func, file: this.sourcePath(f), line: f.line })),
    };
    this.sendCrashEvent(report);
    if (!this.exceptionFilters?.has('crash')) {
      await qmp.quit().catch(() => undefined);
      return;
    }
    this.pendingReason = undefined;
    this.crashEpisode = true;
    this.crash = { report, threadId };
    this.reportStop('exception', threadId, report.message, true);
  }

  /** The last crash-looking console line, which usually says what went wrong before the crash function ran. */
  private recentCrashMessage(): string | undefined {
    const lines = this.crashWatcher?.reader.recentLines().slice(-20) ?? [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const text = lines[i]?.text.trim() ?? '';
      if (/ABORT|PANIC|panic|FATAL|Fatal error|CRIT|[Aa]ssert|trap|Stack corruption/.test(text)) return text;
    }
    return undefined;
  }

  private syntheticFrame(threadId: number, f: CrashFrame, trapFrame: string | undefined): DebugProtocol.StackFrame {
    const id = this.frames.add({ threadId, level: 0, synthetic: true, trapFrame });
    const frame: DebugProtocol.StackFrame = new StackFrame(
      id,
      f.function ?? f.address,
      f.file ? new Source(basename(f.file), f.file) : undefined,
      f.line ?? 0,
      1,
    );
    frame.instructionPointerReference = f.address;
    if (!f.file) frame.presentationHint = 'subtle';
    return frame;
  }

  /** A separator row in the Call Stack view between the rebuilt frames and the handler's own. */
  private labelFrame(text: string): DebugProtocol.StackFrame {
    const frame: DebugProtocol.StackFrame = new StackFrame(this.frames.add({ threadId: 0, level: 0, synthetic: true }), text);
    frame.presentationHint = 'label';
    return frame;
  }

  private getSymbolizer(): Promise<Symbolizer | undefined> {
    const path = this.symbolsPath;
    if (!path) return Promise.resolve(undefined);
    this.symbolizer ??= Symbolizer.open(path).catch(() => undefined);
    return this.symbolizer;
  }

  /** The console showed a crash: symbolize it; stop the guest unless a crash breakpoint already did. */
  private async onConsoleCrash(raw: CrashReport): Promise<void> {
    const symbolizer = await this.getSymbolizer();
    const report = symbolizer ? await symbolizeReport(raw, symbolizer).catch(() => raw) : raw;
    if (this.ending) return;
    this.sendEvent(new OutputEvent(`Crash detected on the console (line ${report.line}):\n${formatTrace(report)}\n`, 'important'));
    if (this.crashEpisode || !this.exceptionFilters?.has('crash')) {
      // The same crash, told by the console: keep the richer trace for exceptionInfo.
      if (this.crash && report.frames.length > 0 && this.crash.report.frames.length === 0) this.crash.report = report;
      this.sendCrashEvent(report);
      return;
    }
    if (this.runState === 'running' && this.gdb?.isAlive) {
      this.pendingCrash = report;
      this.pendingReason = 'exception';
      await mi.execInterrupt(this.gdb).catch(() => undefined);
    } else {
      this.sendCrashEvent(report);
    }
  }

  private sendCrashEvent(report: CrashReport): void {
    this.sendEvent(new Event('unikernelCrash', { report, symbols: this.symbolsPath }));
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const crash = this.crash?.report;
    if (!crash) {
      this.sendErrorResponse(response, { id: 2, format: 'The guest is not stopped at a crash.', showUser: false });
      return;
    }
    response.body = {
      exceptionId: crash.kind,
      description: crash.message,
      breakMode: 'always',
      details: {
        message: crash.message,
        typeName: `${crash.platform} ${crash.kind}`,
        stackTrace: formatTrace(crash),
      },
    };
    this.sendResponse(response);
  }

  /** Runs a resuming MI command; variable objects of the last stop are dropped. */
  private async resume(command: () => Promise<unknown>): Promise<void> {
    const stale = this.view.reset();
    this.stopCache = { frames: new Map(), locals: new Map() };
    this.frames.clear();
    this.runState = 'running';
    await command();
    this.dropVarobjs(stale);
  }

  /** Deletes variable objects of a past stop; not awaited, so that it never delays a step. */
  private dropVarobjs(names: string[]): void {
    const gdb = this.gdb;
    if (gdb) for (const name of names) mi.varDelete(gdb, name).catch(() => undefined);
  }

  /** Interrupts the guest without telling VS Code; resolves once it is stopped. */
  private stopSilently(): Promise<void> {
    const gdb = this.gdb;
    if (!gdb || this.runState !== 'running') return Promise.resolve();
    return this.untilSilentStop(() => mi.execInterrupt(gdb), 5_000, 'The guest did not stop within 5 s.');
  }

  /**
   * Sends a command and resolves at the next stop, which VS Code is not told about (bounded): the
   * one mechanism behind invisible pauses and the run of a replay to where the user was.
   */
  private untilSilentStop(command: () => Promise<unknown>, timeoutMs: number, timeoutMessage: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.silentStop = undefined;
        reject(new Error(timeoutMessage));
      }, timeoutMs);
      this.silentStop = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      command().catch((e: unknown) => {
        clearTimeout(timer);
        this.silentStop = undefined;
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  /** Runs `fn` with the guest stopped: a running guest is paused for it and resumed after, invisibly. */
  private async whileStopped<T>(fn: (gdb: Gdb) => Promise<T>): Promise<T> {
    const gdb = this.requireGdb();
    if (this.runState !== 'running') return fn(gdb);
    await this.stopSilently();
    try {
      return await fn(gdb);
    } finally {
      await mi.execContinue(gdb).catch(() => undefined);
    }
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    response.body = { allThreadsContinued: true };
    await this.execute(response, (gdb) => mi.execContinue(gdb));
  }

  protected override async nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    const insn = args.granularity === 'instruction';
    await this.execute(response, (gdb) => mi.execNext(gdb, args.threadId, insn), 'step');
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    const insn = args.granularity === 'instruction';
    await this.execute(response, (gdb) => mi.execStep(gdb, args.threadId, insn), 'step');
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    await this.execute(response, (gdb) => mi.execFinish(gdb, args.threadId), 'step');
  }

  protected override async stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): Promise<void> {
    const insn = args.granularity === 'instruction';
    await this.reverse(response, args.threadId, (gdb) => mi.execNext(gdb, args.threadId, insn, true), { atFault: insn ? 'instruction' : 'line', finishLine: !insn });
  }

  /**
   * DAP has Step Back only; reverse step-into and step-out are custom requests, which the extension's
   * Reverse Step Into / Reverse Step Out commands send.
   */
  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    const a = (args ?? {}) as { threadId?: unknown; granularity?: unknown };
    const threadId = typeof a.threadId === 'number' ? a.threadId : 1;
    if (command === 'reverseStepIn') {
      const insn = a.granularity === 'instruction';
      await this.reverse(response, threadId, (gdb) => mi.execStep(gdb, threadId, insn, true), { atFault: insn ? 'instruction' : 'line', finishLine: !insn, announce: true });
    } else if (command === 'reverseStepOut') {
      await this.reverse(response, threadId, (gdb) => mi.execFinish(gdb, threadId, true), { announce: true });
    } else {
      super.customRequest(command, response, args);
    }
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse, args: DebugProtocol.ReverseContinueArguments): Promise<void> {
    // Going back, a watchpoint stops one instruction after the write; the stop is moved onto it.
    const watch = (this.breakpoints.get('data') ?? []).length > 0;
    await this.reverse(response, args.threadId, (gdb) => mi.execContinue(gdb, undefined, true), { watch });
  }

  /** A reverse step by line stopped: on to the line's start if it stopped at a later entry. */
  private async finishLineBackwards(threadId: number, pc: string): Promise<void> {
    const gdb = this.gdb;
    if (!gdb) return;
    await moves.finishLineBackwards(gdb, this.silentRun, pc);
    this.pendingReason = undefined;
    this.reportStop('step', threadId);
  }

  /** A reverse watchpoint stop, one instruction after the write: step back onto the write itself. */
  private async backOntoWrite(threadId: number): Promise<void> {
    const gdb = this.gdb;
    if (!gdb) return;
    await moves.backOntoWrite(gdb, this.silentRun, threadId);
    this.pendingReason = undefined;
    this.reportStop('data breakpoint', threadId);
  }

  /**
   * Runs a reverse command, switching the session to a replay of its recording first if need be.
   * `atFault`: what the command means at a trap stop (back to the faulting line, or instruction);
   * `finishLine`: a line step whose stop goes on to the line's start; `watch`: a reverse continue with
   * data breakpoints; `announce`: a custom request, which VS Code does not know runs the guest.
   */
  private async reverse(
    response: DebugProtocol.Response,
    threadId: number,
    command: (gdb: Gdb) => Promise<unknown>,
    opts: { atFault?: 'line' | 'instruction'; finishLine?: boolean; watch?: boolean; announce?: boolean } = {},
  ): Promise<void> {
    try {
      if (!this.recording) throw new Error('Going back needs a recorded run: launch with "record": true.');
      const gdb = this.requireGdb();
      if (this.recording.mode === 'record') {
        try {
          await this.switchToReplay(gdb, this.recording);
        } catch (e) {
          // The recorded QEMU has been ended for the switch: without its replay there is nothing left to debug.
          this.sendEvent(new OutputEvent(`${errorText(e)} The debug session ends.\n`, 'important'));
          void this.endSession();
          throw e;
        }
      }
      // At a trap, gdb stands in the handler while the user sees the faulting line: go back there first.
      const fault = this.crash?.trapFrames ? this.crash.report.registers.rip : undefined;
      const stops = this.stopsReported;
      if (fault && opts.atFault) {
        // Stepping back from the crash is the faulting line (or instruction) before it ran.
        await this.resume(() => moves.backToFault(gdb, this.silentRun, threadId, fault, opts.atFault!));
      } else {
        if (fault) await moves.backToFault(gdb, this.silentRun, threadId, fault, 'line');
        this.reverseLine = !!opts.finishLine;
        this.reverseWatch = !!opts.watch;
        this.pendingReason = 'step';
        await this.resume(() => command(gdb));
      }
      this.sendResponse(response);
      // (Unless the stop came already, in the same burst of gdb output as its ^running.)
      if (opts.announce && this.stopsReported === stops) this.sendEvent(new ContinuedEvent(threadId, true));
      if (fault && opts.atFault) this.reportStop('step', threadId);
    } catch (e) {
      this.reverseLine = false;
      this.reverseWatch = false;
      this.fail(response, e);
    }
  }

  /** Turns the recorded session into a replay at the same instruction (see replaySwitch.ts). */
  private async switchToReplay(gdb: Gdb, recording: Recording): Promise<void> {
    const old = this.qemu;
    const machine = this.machine;
    if (!old || !machine) throw new Error('The recorded QEMU is gone.');
    const progress = this.supportsProgress ? `replay-${Date.now()}` : undefined;
    if (progress) this.sendEvent(new ProgressStartEvent(progress, 'Switching to the replay', 'running the recording to where you are'));
    this.replaying = true;
    try {
      const done = await startReplay(
        {
          machine,
          retire: (q) => {
            this.replacing = q;
          },
          adopt: (fresh) => this.replaceQemu(old, fresh),
          connect: (g, socket) => this.connect(g, socket),
          runSilently: this.silentRun,
          progress: (at, total) => {
            if (!progress || total <= 0) return;
            const ev = new ProgressUpdateEvent(progress, `${at} of ${total} instructions`) as DebugProtocol.ProgressUpdateEvent;
            ev.body.percentage = Math.round((at / total) * 100);
            this.sendEvent(ev);
          },
        },
        gdb,
        old,
        recording,
        (this.args && 'kernel' in this.args ? this.args.replayCheckpoints : undefined) ?? DEFAULT_MAX_CHECKPOINTS,
      );
      // From now on (not during the switch, whose own waits are bounded and whose snapshots of a big
      // guest can keep the monitor busy for a while).
      if (this.qemu) this.watchReplay(this.qemu);
      this.sendEvent(
        new OutputEvent(
          `Replaying the recording (${done.end} instructions${done.checkpoints ? `, ${done.checkpoints} checkpoint${done.checkpoints === 1 ? "" : "s"}` : ''}) from here, switched in ${done.ms} ms: ` +
            'Step Back and Reverse Continue go back in time; going forward stops at the end of the recording.\n',
          'important',
        ),
      );
    } finally {
      this.replaying = false;
      if (progress) this.sendEvent(new ProgressEndEvent(progress));
    }
  }

  /** The replay's QEMU takes the recorded one's place; the old one's exit does not end the session. */
  private replaceQemu(old: QemuInstance, fresh: QemuInstance): void {
    this.reaper?.releaseDir(old.privateDir);
    this.qemu = fresh;
    this.replacing = undefined;
    fresh.on('exit', (reason, code) => void this.onQemuExit(fresh, reason, code));
  }

  /** A replay that stops answering ends the session, instead of leaving VS Code waiting for a stop forever. */
  private watchReplay(qemu: QemuInstance): void {
    if (!qemu.qmp) return;
    const scale = timeoutScale();
    this.stopLiveness?.();
    this.stopLiveness = watchLiveness(qemu.qmp, {
      everyMs: 5_000 * scale,
      timeoutMs: 10_000 * scale,
      onHung: () => {
        if (this.ending || this.qemu !== qemu) return;
        this.sendEvent(new OutputEvent('The replay stopped answering (QEMU hung): the debug session ends. Start it again to replay afresh.\n', 'important'));
        void this.endSession();
      },
    });
  }

  private stopLiveness: (() => void) | undefined;
  /** The client shows progress bars (a long switch to a replay gets one). */
  private supportsProgress = false;

  private readonly silentRun: moves.SilentRun = (command, timeoutMs) => this.runSilently(command, timeoutMs);

  /** Runs the guest until its next stop without telling VS Code (bounded). */
  private runSilently(command: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
    this.runState = 'running';
    const bound = timeoutMs * timeoutScale();
    return this.untilSilentStop(command, bound, `The replay did not get where it was going within ${Math.round(bound / 1000)} s.`);
  }

  /** In a replay, forward execution stops at the end of the recording instead of running off it. */
  private async armEndOfRecording(): Promise<void> {
    const r = this.recording;
    if (r?.mode === 'replay' && r.end !== undefined) await this.qemu?.qmp?.replayBreak(r.end).catch(() => undefined);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    try {
      const gdb = this.requireGdb();
      this.pendingReason = 'pause';
      await mi.execInterrupt(gdb);
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  private async execute(response: DebugProtocol.Response, command: (gdb: Gdb) => Promise<unknown>, reason?: StopReason): Promise<void> {
    try {
      const gdb = this.requireGdb();
      await this.armEndOfRecording();
      this.pendingReason = reason;
      await this.resume(() => command(gdb));
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  // ---- breakpoints ------------------------------------------------------------------------------

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    const path = args.source.path;
    const wanted = args.breakpoints ?? [];
    if (!path) {
      response.body = { breakpoints: wanted.map(() => ({ verified: false, message: 'This source has no file path.' })) };
      this.sendResponse(response);
      return;
    }
    // gdb matches its own name for the file, which may be a build path or a relative one.
    const gdbPath = await this.sources.toGdb(path, () => this.knownSources());
    await this.replaceBreakpoints(response, `source:${path}`, wanted.map((bp) => ({ ...bp, location: `${gdbPath}:${bp.line}` })), args.source);
  }

  protected override async setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): Promise<void> {
    await this.replaceBreakpoints(response, 'function', args.breakpoints.map((bp) => ({ ...bp, location: bp.name })));
  }

  protected override async setInstructionBreakpointsRequest(
    response: DebugProtocol.SetInstructionBreakpointsResponse,
    args: DebugProtocol.SetInstructionBreakpointsArguments,
  ): Promise<void> {
    try {
      const wanted = args.breakpoints.map((bp) => ({ ...bp, location: `*0x${parseMemoryReference(bp.instructionReference, bp.offset).toString(16)}` }));
      await this.replaceBreakpoints(response, 'instruction', wanted);
    } catch (e) {
      this.fail(response, e);
    }
  }

  /**
   * Replaces one family of breakpoints (one source file, all function or all instruction
   * breakpoints) with a new list, inserting them while the guest is stopped (pausing it invisibly
   * when it runs), and answers with what gdb really did: verified or not, at which line.
   */
  private async replaceBreakpoints(
    response: DebugProtocol.SetBreakpointsResponse | DebugProtocol.SetFunctionBreakpointsResponse | DebugProtocol.SetInstructionBreakpointsResponse,
    family: string,
    wanted: WantedBreakpoint[],
    source?: DebugProtocol.Source,
  ): Promise<void> {
    try {
      const result = await this.whileStopped(async (gdb) => {
        const old = this.breakpoints.get(family) ?? [];
        for (const n of old) this.logpoints.delete(n);
        await mi.breakDelete(gdb, old);
        return Promise.allSettled(
          wanted.map((bp) => {
            const ignoreCount = hitConditionToIgnoreCount(bp.hitCondition);
            return mi.breakInsert(gdb, bp.location, { condition: bp.condition || undefined, ignoreCount, hardware: bp.mode === 'hardware' });
          }),
        );
      });
      const numbers: string[] = [];
      const breakpoints = result.map((r, i): DebugProtocol.Breakpoint => {
        const want = wanted[i];
        if (r.status === 'rejected') return { verified: false, line: want?.line, message: errorText(r.reason) };
        const b = r.value;
        numbers.push(b.number);
        if (want?.logMessage) this.logpoints.set(b.number, want.logMessage);
        return {
          id: Number.parseInt(b.number, 10) || undefined,
          verified: !b.pending,
          line: b.line ?? want?.line,
          source: b.fullname ?? b.file ? new Source(basename(this.sourcePath(b) ?? ''), this.sourcePath(b)) : source,
          instructionReference: b.addr,
          message: b.pending ? 'Pending: no code at this location in the loaded symbols.' : undefined,
        };
      });
      this.breakpoints.set(family, numbers);
      response.body = { breakpoints };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  /** A logpoint was hit: print its message, with `{expression}`s evaluated there, and go on. */
  private async onLogpoint(message: string, threadId: number): Promise<void> {
    const gdb = this.gdb;
    if (!gdb) return;
    const at = { threadId, level: 0 };
    const parts = message.split(/(\{[^{}]+\})/);
    const values = await Promise.all(
      parts.map((p) =>
        p.startsWith('{') && p.endsWith('}')
          ? mi.dataEvaluateExpression(gdb, p.slice(1, -1), at).catch((e: unknown) => `<${errorText(e)}>`)
          : Promise.resolve(p),
      ),
    );
    this.sendEvent(new OutputEvent(`${values.join('')}\n`, 'console'));
    await this.resume(() => mi.execContinue(gdb)).catch(() => undefined);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    let dataId: string | null = null;
    let description = 'This cannot be watched.';
    if (args.asAddress) {
      const size = args.bytes && args.bytes > 0 ? args.bytes : 1;
      try {
        const addr = parseMemoryReference(args.name);
        dataId = JSON.stringify({ expression: `*(unsigned char (*)[${size}])0x${addr.toString(16)}` });
        description = `${size} byte${size === 1 ? '' : 's'} at 0x${addr.toString(16)}`;
      } catch (e) {
        description = errorText(e);
      }
    } else {
      const c = args.variablesReference ? this.view.refs.get(args.variablesReference) : undefined;
      const expression = c ? this.view.expressionOf(args.variablesReference ?? 0, args.name) : args.name;
      const at = c && c.kind !== 'varobj' ? c.at : c?.at;
      if (expression) {
        dataId = JSON.stringify({ expression, at });
        description = expression;
      }
    }
    response.body = { dataId, description, accessTypes: ['write', 'read', 'readWrite'], canPersist: false };
    this.sendResponse(response);
  }

  protected override async setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): Promise<void> {
    try {
      const result = await this.whileStopped(async (gdb) => {
        await mi.breakDelete(gdb, this.breakpoints.get('data') ?? []);
        return Promise.allSettled(
          args.breakpoints.map((bp) => {
            const { expression, at } = JSON.parse(bp.dataId) as { expression: string; at?: FrameContext };
            // A local is watched in its own frame; gdb then scopes the watchpoint to that frame.
            return mi.breakWatch(gdb, expression, bp.accessType ?? 'write', at);
          }),
        );
      });
      this.breakpoints.set('data', result.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
      response.body = {
        breakpoints: result.map((r) =>
          r.status === 'fulfilled' ? { verified: true, id: Number.parseInt(r.value, 10) || undefined } : { verified: false, message: errorText(r.reason) },
        ),
      };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  // ---- threads, stacks, variables ---------------------------------------------------------------

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    const gdb = this.gdb;
    if (gdb && this.runState === 'stopped') {
      try {
        const { threads } = await (this.stopCache.threads ?? mi.threadInfo(gdb));
        if (threads.length > 0) {
          // In a replay, the call stack says so on every vCPU.
          const suffix = this.recording?.mode === 'replay' ? ' · replay' : '';
          this.lastThreads = threads.map((t) => new Thread(t.id, `${vcpuName(`${t.targetId} ${t.details ?? ''}`, t.id)}${suffix}`));
        }
      } catch {
        /* keep the last known list */
      }
    }
    response.body = { threads: this.lastThreads };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const start = args.startFrame ?? 0;
      const levels = args.levels && args.levels > 0 ? args.levels : DEFAULT_STACK_LEVELS;
      // Frames rebuilt from a trap frame come first: they are where the guest really faulted.
      const rebuilt = this.crash?.threadId === args.threadId ? (this.crash.trapFrames ?? []) : [];
      const fromRebuilt = rebuilt.slice(start, start + levels);
      const gdbStart = Math.max(0, start - rebuilt.length);
      const gdbLevels = levels - fromRebuilt.length;
      // One more than asked tells whether more frames exist without walking the whole stack.
      // VS Code asks for frame 0, then 1..19: both come from what the stop prefetched.
      const cached = gdbStart + gdbLevels <= PREFETCH_FRAMES ? this.stopCache.frames.get(args.threadId) : undefined;
      const frames =
        gdbLevels <= 0
          ? []
          : cached
            ? (await cached).slice(gdbStart, gdbStart + gdbLevels + 1)
            : await mi.stackListFrames(gdb, args.threadId, gdbStart, gdbStart + gdbLevels).catch((e: unknown) => {
                // Asked past the bottom of the stack (the page after the last): no more frames.
                if (e instanceof GdbCommandError && /Not enough frames/.test(e.message)) return [];
                throw e;
              });
      const shown = frames.slice(0, gdbLevels);
      const more = gdbLevels <= 0 || frames.length > gdbLevels;
      response.body = {
        stackFrames: [...fromRebuilt, ...shown.map((f) => this.toStackFrame(args.threadId, f))],
        totalFrames: start + fromRebuilt.length + shown.length + (more ? 1 : 0),
      };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  private toStackFrame(threadId: number, f: MiFrame): DebugProtocol.StackFrame {
    const id = this.frames.add({ threadId, level: f.level });
    const name = f.func ?? (f.from ? `${f.addr} in ${basename(f.from)}` : f.addr);
    const path = this.sourcePath(f);
    const frame: DebugProtocol.StackFrame = new StackFrame(id, name, path ? new Source(basename(path), path) : undefined, f.line ?? 0, 1);
    frame.instructionPointerReference = f.addr;
    if (!path || !f.line) frame.presentationHint = 'subtle';
    return frame;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const at = this.frames.get(args.frameId);
    if (!at) {
      response.body = { scopes: [] };
      this.sendResponse(response);
      return;
    }
    if (at.synthetic) {
      // gdb cannot select a rebuilt frame; what is known of it is the saved trap frame.
      response.body = {
        scopes: at.trapFrame
          ? [{ name: 'Trap frame', presentationHint: 'registers', variablesReference: this.view.refs.add({ kind: 'expression', at, expression: `*${at.trapFrame}` }), expensive: false }]
          : [],
      };
      this.sendResponse(response);
      return;
    }
    response.body = {
      scopes: [
        { name: 'Locals', presentationHint: 'locals', variablesReference: this.view.refs.add({ kind: 'locals', at }), expensive: false },
        { name: 'Registers', presentationHint: 'registers', variablesReference: this.view.refs.add({ kind: 'registers', at }), expensive: true },
      ],
    };
    this.sendResponse(response);
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    try {
      response.body = { variables: await this.view.variables(this.requireGdb(), args) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const c = this.view.refs.get(args.variablesReference);
      let expr: string;
      let at: FrameContext | undefined;
      if (c?.kind === 'locals') {
        expr = args.name;
        at = c.at;
      } else if (c?.kind === 'registers' || c?.kind === 'registerGroup') {
        expr = `$${args.name}`;
        at = c.at;
      } else if (c && (c.kind === 'varobj' || c.kind === 'expression')) {
        const parent = c.kind === 'varobj' ? c.evaluateName : c.expression;
        if (parent === undefined) throw new Error('This value cannot be changed.');
        expr = this.view.expressionOf(args.variablesReference, args.name) ?? args.name;
        at = c.at;
      } else {
        throw new Error('This variable is no longer available.');
      }
      let value = await mi.dataEvaluateExpression(gdb, `${expr} = ${args.value}`, at);
      this.view.invalidateValues();
      this.stopCache.locals.clear();
      if (expr === '$eflags') value = decodeEflags(await mi.dataEvaluateExpression(gdb, '/x $eflags', at).catch(() => value));
      if (args.format?.hex) value = hexValue(value, undefined);
      response.body = { value };
      this.sendResponse(response);
      // Other views (memory, registers, watches) may show what just changed.
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const at = args.frameId !== undefined ? this.frames.get(args.frameId) : undefined;
      if (args.context === 'repl') {
        // The Debug Console talks to gdb's own command line (and, through `monitor`, to QEMU's).
        const r = await mi.cliCommand(gdb, args.expression, 30_000);
        response.body = { result: r.console.replace(/\n$/, ''), variablesReference: 0 };
      } else {
        response.body = await this.view.evaluate(gdb, args.expression, at, !!args.format?.hex);
      }
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e, args.context !== 'repl' && args.context !== 'watch');
    }
  }

  // ---- memory and disassembly -------------------------------------------------------------------

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments, request?: DebugProtocol.Request): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const address = parseMemoryReference(args.memoryReference, args.offset);
      const qemu = this.qemu;
      const seq = request?.seq;
      const r = await readMemory(gdb, address, args.count, {
        fastRead: qemu ? (a, n) => qemu.readGuestMemory(a, n) : undefined,
        cancelled: () => seq !== undefined && this.cancelled.has(seq),
      });
      response.body = {
        address: `0x${r.address.toString(16)}`,
        data: r.data.toString('base64'),
        unreadableBytes: r.unreadableBytes || undefined,
      };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e, true);
    } finally {
      if (request) this.cancelled.delete(request.seq);
    }
  }

  protected override async writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const address = parseMemoryReference(args.memoryReference, args.offset);
      const data = Buffer.from(args.data, 'base64');
      const written = await writeMemory(gdb, address, data);
      this.view.invalidateValues();
      this.stopCache.locals.clear();
      response.body = { bytesWritten: written };
      this.sendResponse(response);
      this.sendEvent(new MemoryEvent(`0x${address.toString(16)}`, 0, written));
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const base = parseMemoryReference(args.memoryReference, args.offset);
      const instructions = await disassemble(gdb, base, args.instructionOffset ?? 0, args.instructionCount, (name) => this.sources.display(name));
      response.body = { instructions };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    if (args.requestId !== undefined) this.cancelled.add(args.requestId);
    this.sendResponse(response);
  }

  protected override async completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): Promise<void> {
    try {
      const gdb = this.requireGdb();
      const text = args.text.slice(0, Math.max(0, args.column - 1));
      const matches = await mi.complete(gdb, text);
      // gdb completes the whole command line: each match replaces what was typed.
      response.body = { targets: matches.map((m) => ({ label: m, text: m, start: 0, length: text.length })) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e, true);
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private async currentThreadId(): Promise<number> {
    const gdb = this.requireGdb();
    const { currentThreadId } = await mi.threadInfo(gdb);
    return currentThreadId ?? 1;
  }

  private requireGdb(): Gdb {
    if (!this.gdb?.isAlive) throw new Error('The debug session has ended.');
    return this.gdb;
  }

  private fail(response: DebugProtocol.Response, e: unknown, quiet = false): void {
    const message = errorText(e);
    this.sendErrorResponse(response, { id: 1, format: '{_error}', variables: { _error: message }, showUser: !quiet });
  }
}


/** The pc of a `*stopped` record, as gdb wrote it. */
function stopAddress(rec: MiAsync): string | undefined {
  const frame = rec.results.frame;
  return frame && typeof frame === 'object' && !Array.isArray(frame) && typeof frame.addr === 'string' ? frame.addr : undefined;
}

/** Tests shorten every bound of the session (UNIKERNEL_DEBUG_TIMEOUT_SCALE) to find hangs in seconds. */
function timeoutScale(): number {
  const scale = Number(process.env.UNIKERNEL_DEBUG_TIMEOUT_SCALE);
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** `0x0000000000101234` → `0x101234`; anything not hex stays as it is. */
function hexAddress(text: string): string {
  const m = /^0x0*([0-9a-f]+)$/i.exec(text.trim());
  return m ? `0x${m[1]!.toLowerCase()}` : text;
}

function errorText(e: unknown): string {
  if (e instanceof GdbCommandError || e instanceof ConfigError || e instanceof ImageError || e instanceof QemuError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** `Thread 1.2 (CPU#1 [halted ])` → `CPU 1 (halted)`; a running vCPU is just `CPU 0`; anything else keeps gdb's words. */
function vcpuName(targetId: string, id: number): string {
  const m = targetId.match(/CPU#(\d+)(?:\s*\[\s*([a-z ]+?)\s*\])?/);
  if (m) return m[2] && m[2] !== 'running' ? `CPU ${m[1]} (${m[2]})` : `CPU ${m[1]}`;
  return targetId.trim() || `Thread ${id}`;
}

/**
 * Next to a console log the adapter writes, a note of which image printed it, so that the log can be
 * symbolized later (the console-log language server and `unikernel-trace` read it). Writing it first
 * also tells, before QEMU starts, whether the log's directory is usable.
 */
async function writeConsoleLogMeta(consoleLog: string, meta: { symbols: string; kernel: string; platform?: string }): Promise<void> {
  try {
    await writeFile(`${consoleLog}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EROFS' ? 'its directory is not writable' : String(code ?? e);
    throw new ConfigError(`"consoleLog" cannot be written at ${consoleLog}: ${why}. Choose a writable path.`);
  }
}

