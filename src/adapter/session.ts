/**
 * The debug session: DAP in, DAP out. Each request is one call into the part that owns its concern
 * (README, "Architecture"); each part's event becomes a DAP event here. The parts never see this
 * class: they get what they need (the gdb host, run control, the guest) when they are made.
 */
import { CapabilitiesEvent, ContinuedEvent, DebugSession, Event, ExitedEvent, InitializedEvent, InvalidatedEvent, MemoryEvent, OutputEvent } from '@vscode/debugadapter';
import { StoppedEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashReport } from '../crash/report';
import { Breakpoints } from './breakpoints';
import { CAPABILITIES } from './capabilities';
import { validateAttach, validateLaunch } from './config';
import { GuestConsole } from './console';
import { Crashes } from './crashes';
import { Debuggee } from './debuggee';
import { errorText, timeoutScale } from './format';
import { GdbHost } from './gdbHost';
import { MemoryView } from './memory';
import { OcamlSupport } from './ocamlSupport';
import { progressBar } from './progress';
import { Reaper, guardThrough, type ProcessGuard } from './reaper';
import type { Replay, ReverseMove } from './replay';
import { RunControl } from './runControl';
import { SourcePaths } from './sourcePaths';
import { GuestThreads } from './guestThreads';
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
  private readonly processes: ProcessGuard = guardThrough(() => this.reaper);
  private readonly sources = new SourcePaths({ roots: [process.cwd()] });
  private readonly gdbHost: GdbHost;
  private readonly run: RunControl;
  private readonly console: GuestConsole;
  private readonly stack: Stacks;
  private readonly variables: VariablesView;
  private readonly breakpoints: Breakpoints;
  private readonly crashes: Crashes;
  private readonly memory: MemoryView;
  private readonly debuggee: Debuggee;
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
      facts: () => ({ ...this.breakpoints.stopFacts(), ...this.crashes.stopFacts(), ...this.debuggee.stopFacts() }),
      shutdownCause: () => this.debuggee.guest?.shutdownCause() ?? Promise.resolve(undefined),
    });
    this.console = new GuestConsole({ output: (text) => this.output(text, 'stdout'), crash: (report) => this.onConsoleCrash(report) });
    this.variables = new VariablesView(this.gdbHost, this.run);
    const suffix = (): string => (this.debuggee.guest?.mode === 'replay' ? ' · replay' : '');
    const vcpus = new VcpuThreads(this.gdbHost, suffix);
    // The platform's scheduler threads when it has one and it runs; the vCPUs otherwise.
    this.stack = new Stacks(new GuestThreads(this.gdbHost, vcpus, () => this.debuggee.scheduler, suffix), this.run, this.sources);
    this.breakpoints = new Breakpoints(this.gdbHost, this.run, this.sources, this.variables);
    this.crashes = new Crashes(this.gdbHost, this.sources, this.console);
    this.memory = new MemoryView(this.gdbHost, this.sources, { fastRead: () => this.debuggee.fastRead(), written: () => this.variables.invalidate(), symbols: () => this.crashes.symbols });
    const { gdbHost: host, run, console, crashes, breakpoints, sources, processes } = this;
    this.debuggee = new Debuggee({ host, run, console, crashes, breakpoints, sources, processes, timeoutScale: scale });
    this.gdbHost.on('output', (text, category) => this.output(text, category));
    this.gdbHost.on('exit', (reason) => this.endWith(`${reason} The debug session ends.\n`));
    this.run.on('stop', (stop) => void this.onStop(stop).catch(() => undefined));
    this.debuggee.on('exit', (end) => {
      this.output(`${end.text}\n`, end.important ? 'important' : 'console');
      this.sendEvent(new ExitedEvent(end.status));
      void this.end();
    });
    this.debuggee.on('hung', () => this.endWith('The replay stopped answering (QEMU hung): the debug session ends. Start it again to replay afresh.\n'));
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
      this.reaper ??= Reaper.start();
      const recorded = await this.debuggee.launch(validateLaunch((raw ?? {}) as Record<string, unknown>), (text, category) => this.output(text, category));
      await this.useImageLanguage();
      this.sendResponse(response);
      // Step Back and Reverse Continue appear once VS Code knows this run is recorded.
      if (recorded) this.sendEvent(new CapabilitiesEvent({ supportsStepBack: true }));
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, raw: DebugProtocol.AttachRequestArguments): Promise<void> {
    try {
      this.reaper ??= Reaper.start();
      await this.debuggee.attach(validateAttach((raw ?? {}) as Record<string, unknown>), (text, category) => this.output(text, category));
      await this.useImageLanguage();
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (e) {
      await this.stopChildren();
      this.fail(response, e);
    }
  }

  /** An OCaml image (MirageOS) gets OCaml names, exceptions and values in every part that shows them. */
  private async useImageLanguage(): Promise<void> {
    const [gdb, symbols] = [this.gdbHost.gdb, this.crashes.symbols];
    const ocaml = gdb && symbols ? await OcamlSupport.detect(gdb, symbols) : undefined;
    if (!ocaml) return;
    for (const part of [this.stack, this.memory]) part.setFunctionNames((func) => ocaml.frameName(func));
    for (const part of [this.crashes, this.breakpoints, this.variables]) part.setOcaml(ocaml);
    this.run.on('resuming', () => ocaml.memory.forget());
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    try {
      const start = await this.debuggee.configurationDone();
      this.sendResponse(response);
      if ('entryStop' in start) await this.showStop('entry', start.entryStop);
      else await start.run();
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    try {
      const restarted = await this.debuggee.restart();
      this.sendResponse(response);
      this.output(restarted.text, restarted.important ? 'important' : 'console');
      await restarted.run();
    } catch (e) {
      this.fail(response, e);
    }
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments | undefined): Promise<void> {
    // Disconnect leaves an attached guest running, unless asked to end it.
    await this.debuggee.leave(args?.terminateDebuggee ?? false);
    await this.stopChildren();
    this.sendResponse(response);
    this.shutdown();
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.debuggee.leave(true);
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

  /** Reverse Step Into/Out are custom requests (DAP has Step Back only); VS Code is told they run the guest. */
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
    void this.answer(response, async () => this.breakpoints.dataInfo(args));
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
    await this.answer(response, async () => ({ threads: await this.stack.threads() }));
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    await this.answer(response, async () => {
      const at = await this.stack.frameContext(args.threadId);
      return this.stack.stackTrace(args, at.guest === undefined ? this.crashes.trapOf(at.threadId) : undefined);
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    void this.answer(response, async () => ({ scopes: this.variables.scopes(this.stack.frame(args.frameId)) }));
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.answer(response, async () => ({ variables: await this.stack.within(this.variables.frameOf(args.variablesReference), () => this.variables.variables(args)) }));
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    // Other views (memory, registers, watches) may show what just changed.
    const write = async (): Promise<DebugProtocol.SetVariableResponse['body']> => ({ value: await this.stack.within(this.variables.frameOf(args.variablesReference), () => this.variables.setVariable(args)) });
    if (await this.answer(response, write)) this.sendEvent(new InvalidatedEvent(['variables']));
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    // The Debug Console talks to gdb's own command line (and, through `monitor`, to QEMU's). A watch
    // or hover that fails says so inline (`No symbol "sum" in current context.`), never as a
    // notification: a watch of another function's local fails at every stop.
    const quiet = args.context !== 'repl';
    await this.answer(
      response,
      async () =>
        args.context === 'repl'
          ? { result: await this.stack.within(undefined, () => this.gdbHost.cli(args.expression)), variablesReference: 0 }
          : this.stack.within(args.frameId !== undefined ? this.stack.frame(args.frameId) : undefined, () =>
              this.variables.evaluate(args.expression, args.frameId !== undefined ? this.stack.frame(args.frameId) : undefined, !!args.format?.hex),
            ),
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
        await this.debuggee.guest?.restarted();
        return stop.show ? this.showStop('entry', stop.threadId) : this.run.continue();
      case 'crash-path': {
        const report = await this.crashes.atCrashPath(stop.path, stop.threadId);
        if (!report) return this.run.continue();
        await this.showStop('exception', stop.threadId, `${report.kind}: ${report.message}`);
        return this.sendCrash(report);
      }
      case 'crash-continues':
        return this.run.continue();
      case 'reverse-line':
        await this.debuggee.replay?.finishLine(stop.pc);
        return this.showStop('step', stop.threadId);
      case 'reverse-watch':
        await this.debuggee.replay?.backOntoWrite(stop.threadId);
        return this.showStop('data breakpoint', stop.threadId);
      case 'logpoint':
        this.output(await this.breakpoints.logMessage(stop.message, stop.threadId), 'console');
        return this.run.continue();
      case 'reset': {
        const report = await this.crashes.atReset(stop.threadId, stop.show);
        this.sendCrash(report);
        return stop.show ? this.showStop('exception', stop.threadId, report.message) : this.debuggee.guest?.quit();
      }
      case 'power-off':
        return this.debuggee.guest?.quit();
      case 'console-crash':
        this.crashes.atConsoleCrash(stop.report, stop.threadId);
        await this.showStop('exception', stop.threadId, `${stop.report.kind}: ${stop.report.message}`);
        return this.sendCrash(stop.report);
      case 'user':
        if (stop.note) this.output(NOTES[stop.note], 'console');
        this.crashes.leftCrash();
        return this.showStop(stop.reason, stop.threadId);
    }
  }

  /** `threadId`: gdb's thread (the vCPU); VS Code is told the thread that runs on it (a guest thread). */
  private async showStop(reason: StopReason, threadId: number, text?: string): Promise<void> {
    this.stopsShown++;
    this.stack.forget();
    this.variables.forget();
    if (reason !== 'exception') this.crashes.clearCurrent();
    // What VS Code asks at every stop is asked of gdb now, in one burst.
    const shown = this.stack.prefetch(threadId);
    this.variables.prefetch(threadId);
    // What the guest printed before it stopped comes before the stop.
    this.console.flush();
    const ev = new StoppedEvent(reason, await shown, text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (reason === 'exception') ev.body.description = 'Unikernel crash';
    this.sendEvent(ev);
  }

  /** The console showed a crash: said in the Debug Console; the guest stops there unless it is the one shown. */
  private async onConsoleCrash(raw: CrashReport): Promise<void> {
    const { report, stop, text, notify } = await this.crashes.fromConsole(raw);
    if (this.ending) return;
    this.output(text, notify ? 'important' : 'console');
    if (!stop || !(await this.run.interruptForCrash(report))) this.sendCrash(report);
  }

  private sendCrash(report: CrashReport): void {
    this.sendEvent(new Event('unikernelCrash', { report, symbols: this.crashes.symbols }));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Continue, Next, Step In, Step Out; going forward in a replay stops at the end of the recording. */
  private async go(response: DebugProtocol.Response, move: 'continue' | 'next' | 'stepIn' | 'stepOut', threadId: number | undefined, instruction: boolean, body?: unknown): Promise<void> {
    await this.answer(response, async () => {
      // A step acts on the thread on a CPU; the guest runs with the vCPU's own registers.
      const on = threadId === undefined ? undefined : await this.stack.stepThread(threadId);
      await this.stack.within(undefined, async () => {
        await this.debuggee.replay?.beforeForward();
        await this.run.move(move, on, instruction);
      });
      return body;
    });
  }

  /** A reverse command; the first one turns the recorded run into its replay. `announce`: VS Code is told the guest runs. */
  private async reverse(response: DebugProtocol.Response, threadId: number, move: ReverseMove, announce = false): Promise<void> {
    try {
      const replay = this.debuggee.replay;
      if (!replay) throw new Error('Going back needs a recorded run: launch with "record": true.');
      this.gdbHost.require();
      if (!replay.replaying) await this.switchToReplay(replay);
      const stops = this.stopsShown;
      const on = await this.stack.stepThread(threadId);
      const done = await this.stack.within(undefined, () => replay.reverse(on, move, this.crashes.faultAddress()));
      this.sendResponse(response);
      // (Unless the stop came already, in the same burst of gdb output as its ^running.)
      if (announce && this.stopsShown === stops) this.sendEvent(new ContinuedEvent(threadId, true));
      if (done === 'at-fault') await this.showStop('step', on);
    } catch (e) {
      this.fail(response, e);
    }
  }

  private async switchToReplay(replay: Replay): Promise<void> {
    const bar = progressBar(this.supportsProgress, (e) => this.sendEvent(e), 'Switching to the replay', 'running the recording to where you are');
    const onProgress = (done: number, total: number): void => bar.update(done, total, `${done} of ${total} instructions`);
    replay.on('progress', onProgress);
    try {
      this.output((await replay.start()).text, 'important');
    } catch (e) {
      // The recorded QEMU has been ended for the switch: without its replay there is nothing left to debug.
      this.endWith(`${errorText(e)} The debug session ends.\n`);
      throw e;
    } finally {
      replay.off('progress', onProgress);
      bar.end();
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
    await this.debuggee.dispose();
    const reaper = this.reaper;
    this.reaper = undefined;
    this.console.dispose();
    await Promise.all([this.crashes.dispose(), reaper?.close()]);
  }

  private output = (text: string, category: 'console' | 'stdout' | 'important'): void => this.sendEvent(new OutputEvent(text, category));

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
