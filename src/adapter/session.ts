/**
 * The debug session: DAP in, DAP out. Each request is one call into the part that owns its concern
 * (README, "Architecture"); each part's event becomes a DAP event here. The parts never see this
 * class: they get what they need (the gdb host, run control, the guest) when they are made.
 */
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
  StoppedEvent,
  TerminatedEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashReport } from '../crash/report';
import { DEFAULT_MAX_CHECKPOINTS } from '../qemu/checkpoints';
import { Breakpoints } from './breakpoints';
import { CAPABILITIES } from './capabilities';
import { validateAttach, validateLaunch, type AttachArguments, type LaunchArguments } from './config';
import { GuestConsole } from './console';
import { Crashes } from './crashes';
import { formatTrace } from './crashPaths';
import { errorText, timeoutScale } from './format';
import { GdbHost } from './gdbHost';
import { Guest } from './guest';
import { planAttach, planLaunch, type LaunchPlan } from './launchPlan';
import { GuestMemory } from './memory';
import { Reaper, type ProcessGuard } from './reaper';
import { Replay, type ReverseMove } from './replay';
import { RunControl, type StopFacts } from './runControl';
import { SourcePaths } from './sourcePaths';
import { Stacks, VcpuThreads } from './stack';
import type { Stop, StopReason } from './stops';
import { VariablesView } from './variablesView';

/** What a stop's note tells the Debug Console. */
const NOTES = {
  'history-start': 'The start of the recording: there is no history before this point.\n',
  'recording-end': 'The end of the recording: go back, or restart to run live again.\n',
} as const;

export class UnikernelDebugSession extends DebugSession {
  /** Kills what we started even when the adapter is killed; started at initialize. */
  private reaper: Reaper | undefined;
  private readonly processes: ProcessGuard = {
    guard: (pid) => this.reaper?.guard(pid),
    release: (pid) => this.reaper?.release(pid),
    guardDir: (dir) => this.reaper?.guardDir(dir),
    releaseDir: (dir) => this.reaper?.releaseDir(dir),
  };
  private readonly sources = new SourcePaths({ roots: [process.cwd()] });
  private readonly gdbHost: GdbHost;
  private readonly run: RunControl;
  private readonly console: GuestConsole;
  private readonly stack: Stacks;
  private readonly variables: VariablesView;
  private readonly breakpoints: Breakpoints;
  private readonly crashes: Crashes;
  private readonly memory: GuestMemory;
  /** A launched guest (none when attached). */
  private guest: Guest | undefined;
  /** A recorded launch's way back in time. */
  private replay: Replay | undefined;
  private args: LaunchArguments | AttachArguments | undefined;
  private isAttach = false;
  private ending = false;
  private stopping: Promise<void> | undefined;
  /** The client shows progress bars (a long switch to a replay gets one). */
  private supportsProgress = false;
  /** Stopped events sent so far (a continued event must never follow the stop it precedes). */
  private stopsShown = 0;

  constructor() {
    super();
    const scale = timeoutScale();
    this.gdbHost = new GdbHost({ timeoutScale: scale, traceFile: process.env.UNIKERNEL_DEBUG_MI_TRACE || undefined, processes: this.processes });
    this.run = new RunControl(this.gdbHost, {
      timeoutScale: scale,
      facts: () => this.stopFacts(),
      shutdownCause: () => this.guest?.shutdownCause() ?? Promise.resolve(undefined),
    });
    this.console = new GuestConsole({ output: (text) => this.output(text, 'stdout'), crash: (report) => this.onConsoleCrash(report) });
    this.variables = new VariablesView(this.gdbHost, this.run);
    this.stack = new Stacks(new VcpuThreads(this.gdbHost, () => (this.guest?.mode === 'replay' ? ' · replay' : '')), this.run, this.sources);
    this.breakpoints = new Breakpoints(this.gdbHost, this.run, this.sources, this.variables);
    this.crashes = new Crashes(this.gdbHost, this.sources, this.console);
    this.memory = new GuestMemory(this.gdbHost, this.sources, {
      fastRead: () => this.guest && ((address, count) => this.guest?.readMemory(address, count) ?? Promise.resolve(undefined)),
      written: () => this.variables.invalidate(),
    });
    this.gdbHost.on('output', (text, category) => this.output(text, category));
    this.gdbHost.on('exit', (reason) => this.endWith(`${reason} The debug session ends.\n`));
    this.run.on('stop', (stop) => void this.onStop(stop).catch(() => undefined));
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, client: DebugProtocol.InitializeRequestArguments): void {
    this.supportsProgress = client?.supportsProgressReporting === true;
    this.reaper ??= Reaper.start();
    this.gdbHost.prestart();
    response.body = CAPABILITIES;
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, raw: DebugProtocol.LaunchRequestArguments): Promise<void> {
    try {
      const args = validateLaunch((raw ?? {}) as Record<string, unknown>);
      this.configure(args);
      if (args.consoleRateLimit) this.console.setRateLimit(args.consoleRateLimit);
      const plan = await planLaunch(args, (text, category) => this.output(text, category));
      this.crashes.configure(plan.profile.name, plan.symbols);
      this.breakpoints.setEntryPoints({ symbols: plan.profile.entrySymbols, kernelEntry: plan.kernelEntry });
      this.reaper ??= Reaper.start();
      const guest = this.makeGuest(plan, args);
      if (args.noDebug) {
        // Ctrl+F5: the guest runs once configuration is done; the console and crash trace still work.
        await this.gdbHost.dropEarly();
        await guest.start('live');
      } else {
        // QEMU and gdb start in parallel; gdb reads the symbols while QEMU comes up.
        const [qemu, gdb] = await Promise.allSettled([guest.start(args.record ? 'record' : 'live'), this.gdbHost.start(args, plan.symbols, plan.guestBits)]);
        if (qemu.status === 'rejected') throw qemu.reason;
        if (gdb.status === 'rejected') throw gdb.reason;
        await this.gdbHost.connect(guest.gdbSocket);
        if (args.record) this.replay = this.makeReplay(guest, args);
      }
      this.run.connected();
      this.sendResponse(response);
      // Step Back and Reverse Continue appear once VS Code knows this run is recorded.
      if (this.replay) this.sendEvent(new CapabilitiesEvent({ supportsStepBack: true }));
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, raw: DebugProtocol.AttachRequestArguments): Promise<void> {
    try {
      const args = validateAttach((raw ?? {}) as Record<string, unknown>);
      this.configure(args);
      this.isAttach = true;
      const { target } = await planAttach(args, (text, category) => this.output(text, category));
      this.crashes.configure(undefined, args.symbols);
      if (args.console) await this.console.open(args.console);
      this.reaper ??= Reaper.start();
      await this.gdbHost.start(args, args.symbols);
      await this.gdbHost.connect(target);
      this.run.connected();
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.run.configurationDone();
    if (this.args && 'noDebug' in this.args && this.args.noDebug && this.guest) {
      this.sendResponse(response);
      this.run.state = 'running';
      await this.guest.cont();
      return;
    }
    if (!this.gdbHost.gdb) return this.fail(response, new Error('The session has no gdb.'));
    try {
      if (!this.crashes.filtersChosen) await this.crashes.setFilters(undefined);
      const stopAt = this.args?.stopAtEntry;
      if (this.isAttach && stopAt === true) {
        this.sendResponse(response);
        this.showStop('entry', await this.gdbHost.currentThreadId());
        return;
      }
      const entry = await this.breakpoints.entryLocation(stopAt);
      if (entry) await this.breakpoints.insertEntry(entry);
      this.sendResponse(response);
      await this.run.move('continue');
    } catch (e) {
      this.fail(response, e);
    }
  }

  /**
   * Restart: the machine is reset in place (gdb stays, with every breakpoint) and runs to the first
   * breakpoint again. A replay cannot be reset without leaving its recording: it ends, and a new
   * recording of a fresh boot starts.
   */
  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    try {
      this.gdbHost.require();
      await this.run.pauseSilently();
      const entry = await this.breakpoints.entryLocation(this.args?.stopAtEntry);
      const rerecorded = !!this.replay?.replaying;
      let stopsAtGuard = false;
      if (this.replay && rerecorded) {
        await this.replay.recordAgain();
        this.console.newRun();
      } else {
        stopsAtGuard = this.guest ? await this.guest.reset(entry) : (await this.gdbHost.resetByMonitor(), false);
        this.console.flushCrashes();
      }
      this.crashes.forget();
      if (entry && !stopsAtGuard) await this.breakpoints.insertEntry(entry);
      this.sendResponse(response);
      if (rerecorded) this.output('Restarted: the replay has ended, and a new recording of a fresh boot begins.\n', 'important');
      else this.output('The guest was reset.\n', 'console');
      await this.run.move('continue');
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments | undefined): Promise<void> {
    // Disconnect leaves an attached guest running (gdb's detach resumes it), unless asked to end it.
    if (this.isAttach) await this.leaveAttached(args?.terminateDebuggee ?? false);
    await this.stopChildren();
    this.sendResponse(response);
    this.shutdown();
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    if (this.isAttach) await this.leaveAttached(true);
    this.sendResponse(response);
    await this.end();
  }

  /** The client went away (or asked to end): nothing we started may outlive the adapter. */
  override shutdown(): void {
    void this.stopChildren().finally(() => super.shutdown());
  }

  // ---- running ----------------------------------------------------------------------------------

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    await this.go(response, 'continue', undefined, false, { allThreadsContinued: true });
  }

  protected override async nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    await this.go(response, 'next', args.threadId, args.granularity === 'instruction');
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    await this.go(response, 'stepIn', args.threadId, args.granularity === 'instruction');
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    await this.go(response, 'stepOut', args.threadId, false);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.answer(response, () => this.run.pause());
  }

  protected override async stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): Promise<void> {
    await this.reverse(response, args.threadId, { move: 'step', instruction: args.granularity === 'instruction' });
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse, args: DebugProtocol.ReverseContinueArguments): Promise<void> {
    await this.reverse(response, args.threadId, { move: 'continue', watch: this.breakpoints.hasDataBreakpoints });
  }

  /**
   * DAP has Step Back only; Reverse Step Into and Reverse Step Out are custom requests, sent by the
   * extension's commands of those names. VS Code does not know they run the guest: it is told.
   */
  protected override async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    const a = (args ?? {}) as { threadId?: unknown; granularity?: unknown };
    const threadId = typeof a.threadId === 'number' ? a.threadId : 1;
    if (command === 'reverseStepIn') await this.reverse(response, threadId, { move: 'stepIn', instruction: a.granularity === 'instruction' }, true);
    else if (command === 'reverseStepOut') await this.reverse(response, threadId, { move: 'stepOut' }, true);
    else super.customRequest(command, response, args);
  }

  // ---- breakpoints and crashes ------------------------------------------------------------------

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    await this.answer(response, async () => ({ breakpoints: await this.breakpoints.setSource(args.source, args.breakpoints ?? []) }));
  }

  protected override async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    await this.answer(response, async () => ({ breakpoints: await this.breakpoints.setFunctions(args.breakpoints) }));
  }

  protected override async setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): Promise<void> {
    await this.answer(response, async () => ({ breakpoints: await this.breakpoints.setInstructions(args.breakpoints) }));
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    response.body = this.breakpoints.dataInfo(args);
    this.sendResponse(response);
  }

  protected override async setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): Promise<void> {
    await this.answer(response, async () => ({ breakpoints: await this.breakpoints.setData(args.breakpoints) }));
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    await this.answer(response, () => this.run.whileStopped(() => this.crashes.setFilters(args.filters)).then(() => undefined));
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const body = this.crashes.exceptionInfo();
    if (!body) return this.sendErrorResponse(response, { id: 2, format: 'The guest is not stopped at a crash.', showUser: false });
    response.body = body;
    this.sendResponse(response);
  }

  // ---- threads, stacks, variables ---------------------------------------------------------------

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    response.body = { threads: await this.stack.threads() };
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    await this.answer(response, () => this.stack.stackTrace(args, this.crashes.trapOf(args.threadId)));
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    response.body = { scopes: this.variables.scopes(this.stack.frame(args.frameId)) };
    this.sendResponse(response);
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.answer(response, async () => ({ variables: await this.variables.variables(args) }));
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    // Other views (memory, registers, watches) may show what just changed.
    if (await this.answer(response, async () => ({ value: await this.variables.setVariable(args) }))) this.sendEvent(new InvalidatedEvent(['variables']));
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    // The Debug Console talks to gdb's own command line (and, through `monitor`, to QEMU's).
    const quiet = args.context !== 'repl' && args.context !== 'watch';
    await this.answer(
      response,
      async () =>
        args.context === 'repl'
          ? { result: await this.gdbHost.cli(args.expression), variablesReference: 0 }
          : this.variables.evaluate(args.expression, args.frameId !== undefined ? this.stack.frame(args.frameId) : undefined, !!args.format?.hex),
      quiet,
    );
  }

  protected override async completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): Promise<void> {
    const text = args.text.slice(0, Math.max(0, args.column - 1));
    // gdb completes the whole command line: each match replaces what was typed.
    await this.answer(response, async () => ({ targets: (await this.gdbHost.complete(text)).map((m) => ({ label: m, text: m, start: 0, length: text.length })) }), true);
  }

  // ---- memory and disassembly -------------------------------------------------------------------

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments, request?: DebugProtocol.Request): Promise<void> {
    await this.answer(response, () => this.memory.read(args, request?.seq), true);
  }

  protected override async writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): Promise<void> {
    let written: { address: string; bytesWritten: number } | undefined;
    if (await this.answer(response, async () => ({ bytesWritten: (written = await this.memory.write(args)).bytesWritten }))) {
      this.sendEvent(new MemoryEvent(written!.address, 0, written!.bytesWritten));
      this.sendEvent(new InvalidatedEvent(['variables']));
    }
  }

  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    await this.answer(response, async () => ({ instructions: await this.memory.disassemble(args) }));
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    this.memory.cancel(args.requestId);
    this.sendResponse(response);
  }

  // ---- what the parts report --------------------------------------------------------------------

  /** Each kind of stop: the part that deals with it, then what VS Code is told. */
  private async onStop(stop: Stop): Promise<void> {
    switch (stop.kind) {
      case 'exited':
        return this.end();
      case 'silent':
      case 'ignored':
      case 'machine-paused':
        return;
      case 'restart-entry':
        await this.guest?.restarted();
        return stop.show ? this.showStop('entry', stop.threadId) : this.run.continue();
      case 'crash-path': {
        const report = await this.crashes.atCrashPath(stop.path, stop.threadId);
        this.showStop('exception', stop.threadId, `${report.kind}: ${report.message}`);
        return this.sendCrash(report);
      }
      case 'crash-continues':
        return this.run.continue();
      case 'reverse-line':
        await this.replay?.finishLine(stop.pc);
        return this.showStop('step', stop.threadId);
      case 'reverse-watch':
        await this.replay?.backOntoWrite(stop.threadId);
        return this.showStop('data breakpoint', stop.threadId);
      case 'logpoint':
        this.output(await this.breakpoints.logMessage(stop.message, stop.threadId), 'console');
        return this.run.continue();
      case 'reset': {
        const report = await this.crashes.atReset(stop.threadId, stop.show);
        this.sendCrash(report);
        return stop.show ? this.showStop('exception', stop.threadId, report.message) : this.guest?.quit();
      }
      case 'power-off':
        return this.guest?.quit();
      case 'console-crash':
        this.crashes.atConsoleCrash(stop.report, stop.threadId);
        this.showStop('exception', stop.threadId, `${stop.report.kind}: ${stop.report.message}`);
        return this.sendCrash(stop.report);
      case 'user':
        if (stop.note) this.output(NOTES[stop.note], 'console');
        this.crashes.leftCrash();
        return this.showStop(stop.reason, stop.threadId);
    }
  }

  private showStop(reason: StopReason, threadId: number, text?: string): void {
    this.stopsShown++;
    this.stack.forget();
    this.variables.forget();
    if (reason !== 'exception') this.crashes.clearCurrent();
    // What VS Code asks at every stop is asked of gdb now, in one burst.
    this.stack.prefetch(threadId);
    this.variables.prefetch(threadId);
    // What the guest printed before it stopped comes before the stop.
    this.console.flush();
    const ev = new StoppedEvent(reason, threadId, text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (reason === 'exception') ev.body.description = 'Unikernel crash';
    this.sendEvent(ev);
  }

  /** The console showed a crash: said in the Debug Console; the guest stops there unless it is the one shown. */
  private async onConsoleCrash(raw: CrashReport): Promise<void> {
    const { report, stop } = await this.crashes.fromConsole(raw);
    if (this.ending) return;
    this.output(`Crash detected on the console (line ${report.line}):\n${formatTrace(report)}\n`, 'important');
    if (!stop || !(await this.run.interruptForCrash(report))) this.sendCrash(report);
  }

  /** The guest is gone: its last console lines and crashes are read, then the session ends with its status. */
  private async onGuestExit(reason: string, code: number | null): Promise<void> {
    if (this.ending || !this.guest) return;
    await this.console.end();
    if (this.ending) return;
    const end = this.guest.describeExit(reason, code, this.console.recentLines());
    this.output(`${end.text}\n`, end.important ? 'important' : 'console');
    this.sendEvent(new ExitedEvent(end.status));
    await this.end();
  }

  private sendCrash(report: CrashReport): void {
    this.sendEvent(new Event('unikernelCrash', { report, symbols: this.crashes.symbols }));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private configure(args: LaunchArguments | AttachArguments): void {
    this.args = args;
    this.sources.configure({ sourceMap: args.sourceMap, roots: [args.cwd ?? process.cwd()] });
  }

  private makeGuest(plan: LaunchPlan, args: LaunchArguments): Guest {
    const guest = new Guest(
      { machine: plan.machine, profile: plan.profile, kernelEntry: plan.kernelEntry, consoleLog: args.consoleLog, netdevs: plan.netdevs, processes: this.processes },
      this.gdbHost,
      this.run,
    );
    guest.on('console', (chunk) => this.console.push(chunk));
    guest.on('exit', (reason, code) => void this.onGuestExit(reason, code));
    this.guest = guest;
    return guest;
  }

  private makeReplay(guest: Guest, args: LaunchArguments): Replay {
    const replay = new Replay(guest, this.gdbHost, this.run, { maxCheckpoints: args.replayCheckpoints ?? DEFAULT_MAX_CHECKPOINTS, timeoutScale: timeoutScale() });
    replay.on('hung', () => this.endWith('The replay stopped answering (QEMU hung): the debug session ends. Start it again to replay afresh.\n'));
    return replay;
  }

  /** What the parts other than run control know when a stop arrives. */
  private stopFacts(): StopFacts {
    return {
      ...this.breakpoints.stopFacts(),
      ...this.crashes.stopFacts(),
      restartGuard: this.guest?.restartGuard,
      machine: !!this.guest?.qmp,
      replay: this.guest?.mode === 'replay',
    };
  }

  /** Continue, Next, Step In, Step Out; going forward in a replay stops at the end of the recording. */
  private async go(response: DebugProtocol.Response, move: 'continue' | 'next' | 'stepIn' | 'stepOut', threadId: number | undefined, instruction: boolean, body?: unknown): Promise<void> {
    await this.answer(response, async () => {
      this.gdbHost.require();
      await this.replay?.beforeForward();
      await this.run.move(move, threadId, instruction);
      return body;
    });
  }

  /** A reverse command; the first one turns the recorded run into its replay. `announce`: VS Code is told the guest runs. */
  private async reverse(response: DebugProtocol.Response, threadId: number, move: ReverseMove, announce = false): Promise<void> {
    try {
      const replay = this.replay;
      if (!replay) throw new Error('Going back needs a recorded run: launch with "record": true.');
      this.gdbHost.require();
      if (!replay.replaying) await this.switchToReplay(replay);
      const stops = this.stopsShown;
      const done = await replay.reverse(threadId, move, this.crashes.faultAddress());
      this.sendResponse(response);
      // (Unless the stop came already, in the same burst of gdb output as its ^running.)
      if (announce && this.stopsShown === stops) this.sendEvent(new ContinuedEvent(threadId, true));
      if (done === 'at-fault') this.showStop('step', threadId);
    } catch (e) {
      this.fail(response, e);
    }
  }

  private async switchToReplay(replay: Replay): Promise<void> {
    const progress = this.supportsProgress ? `replay-${Date.now()}` : undefined;
    const onProgress = (done: number, total: number): void => {
      if (!progress || total <= 0) return;
      const ev = new ProgressUpdateEvent(progress, `${done} of ${total} instructions`) as DebugProtocol.ProgressUpdateEvent;
      ev.body.percentage = Math.round((done / total) * 100);
      this.sendEvent(ev);
    };
    if (progress) this.sendEvent(new ProgressStartEvent(progress, 'Switching to the replay', 'running the recording to where you are'));
    replay.on('progress', onProgress);
    try {
      const done = await replay.start();
      const checkpoints = done.checkpoints ? `, ${done.checkpoints} checkpoint${done.checkpoints === 1 ? '' : 's'}` : '';
      this.output(
        `Replaying the recording (${done.end} instructions${checkpoints}) from here, switched in ${done.ms} ms: ` +
          'Step Back and Reverse Continue go back in time; going forward stops at the end of the recording.\n',
        'important',
      );
    } catch (e) {
      // The recorded QEMU has been ended for the switch: without its replay there is nothing left to debug.
      this.endWith(`${errorText(e)} The debug session ends.\n`);
      throw e;
    } finally {
      replay.off('progress', onProgress);
      if (progress) this.sendEvent(new ProgressEndEvent(progress));
    }
  }

  /** An attached guest is left: detached (it runs on) or killed. */
  private async leaveAttached(kill: boolean): Promise<void> {
    if (!this.gdbHost.alive) return;
    try {
      await this.run.pauseSilently();
      await this.gdbHost.leaveTarget(kill);
    } catch {
      /* the stub may already be gone */
    }
  }

  /** Says why, then ends the session (unless it is ending already). */
  private endWith(sentence: string): void {
    if (this.ending) return;
    this.output(sentence, 'important');
    void this.end();
  }

  /** Ends everything once and tells VS Code. */
  private async end(): Promise<void> {
    if (this.ending) return;
    await this.stopChildren();
    this.sendEvent(new TerminatedEvent());
  }

  /** Ends what we started, once; every caller waits for the same teardown, so the process never exits halfway. */
  private stopChildren(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    this.ending = true;
    this.run.ended();
    this.replay?.dispose();
    await Promise.all([this.gdbHost.dispose(), this.guest?.dispose()]);
    this.reaper?.close();
    this.reaper = undefined;
    this.console.dispose();
    await this.crashes.dispose();
  }

  private output(text: string, category: 'console' | 'stdout' | 'important'): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  /** Sends what `body` gives, or the error it throws; true when it answered. */
  private async answer<R extends DebugProtocol.Response>(response: R, body: () => Promise<R['body']>, quiet = false): Promise<boolean> {
    try {
      response.body = await body();
      this.sendResponse(response);
      return true;
    } catch (e) {
      this.fail(response, e, quiet);
      return false;
    }
  }

  private fail(response: DebugProtocol.Response, e: unknown, quiet = false): void {
    this.sendErrorResponse(response, { id: 1, format: '{_error}', variables: { _error: errorText(e) }, showUser: !quiet });
  }
}
