/**
 * Crashes: breakpoints on each platform's crash paths (the exception filters), the report of a
 * crash built from the live guest when it stops on one (its trap frame rebuilt, trapFrame.ts), the
 * report of a machine that reset itself, and the crashes the console shows. One crash is one stop:
 * once a crash is shown, the guest going on down its platform's path, or the console telling of
 * it, is the same crash.
 */
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashFrame, CrashReport, Platform as ReportPlatform } from '../crash/report';
import { Symbolizer, symbolizeReport } from '../crash/symbolizer';
import * as mi from '../mi/commands';
import type { PlatformName } from '../qemu/profiles';
import type { GuestConsole } from './console';
import { CRASH_PATHS, EXCEPTION_FILTERS, formatTrace, type CrashPath } from './crashPaths';
import { hexAddress } from './format';
import type { GdbHost } from './gdbHost';
import type { OcamlSupport } from './ocamlSupport';
import type { SourcePaths } from './sourcePaths';
import type { StopFacts } from './runControl';
import { rebuildTrapFrames } from './trapFrame';

/** Frames rebuilt from a trap's saved registers: where the guest really faulted. */
export interface RebuiltFrames {
  threadId: number;
  frames: CrashFrame[];
  /** An expression for the saved register structure (the first frame's Trap frame scope). */
  savedRegisters?: string;
  /** The row between them and the handler's own frames. */
  label: string;
}

interface CurrentCrash {
  report: CrashReport;
  threadId: number;
  trap?: RebuiltFrames;
}

export class Crashes {
  /** Exception filters VS Code asked for; undefined until it says (then the defaults apply). */
  private filters: Set<string> | undefined;
  private readonly breakpoints = new Map<string, CrashPath>();
  private platform: PlatformName | undefined;
  private symbolsPath: string | undefined;
  private symbolizer: Promise<Symbolizer | undefined> | undefined;
  /** The crash the guest is stopped at (exceptionInfo, the rebuilt frames). */
  private current: CurrentCrash | undefined;
  /** A crash was shown and the guest has not stopped anywhere else since. */
  private shown = false;
  /** The image runs OCaml (MirageOS): names, raises and exception values. */
  private ocaml: OcamlSupport | undefined;

  constructor(
    private readonly host: GdbHost,
    private readonly sources: SourcePaths,
    private readonly console: GuestConsole,
  ) {}

  /** The image's platform (a generic crash path reports it) and symbols (for symbolizing). */
  configure(platform: PlatformName | undefined, symbols: string | undefined): void {
    this.platform = platform;
    this.symbolsPath = symbols;
  }

  setOcaml(ocaml: OcamlSupport | undefined): void {
    this.ocaml = ocaml;
  }

  get symbols(): string | undefined {
    return this.symbolsPath;
  }

  get filtersChosen(): boolean {
    return this.filters !== undefined;
  }

  stopFacts(): Pick<StopFacts, 'crashPaths' | 'crashShown' | 'stopOnCrash'> {
    return { crashPaths: this.breakpoints, crashShown: this.shown, stopOnCrash: !!this.filters?.has('crash') };
  }

  /** Sets the exception filters (undefined: the defaults) and the crash-path breakpoints they enable. */
  async setFilters(filters: readonly string[] | undefined): Promise<void> {
    this.filters = new Set(filters ?? EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));
    const gdb = this.host.require();
    await mi.breakDelete(gdb, [...this.breakpoints.keys()]);
    this.breakpoints.clear();
    const on = (p: CrashPath): boolean =>
      p.filter === 'ocaml' ? !!this.ocaml && (this.filters!.has('ocaml-uncaught') || this.filters!.has('ocaml-all')) : this.filters!.has(p.filter);
    const wanted = CRASH_PATHS.filter((p) => on(p) && !(this.platform && p.notOn?.includes(this.platform)));
    // Without -f: a function this image does not have is simply not there.
    const results = await Promise.allSettled(
      wanted.map((p) => mi.breakInsert(gdb, p.atEntry ? `*${p.symbol}` : p.symbol, { condition: p.condition, pending: false })),
    );
    results.forEach((r, i) => {
      const path = wanted[i];
      if (r.status === 'fulfilled' && path) this.breakpoints.set(r.value.number, path);
    });
  }

  /**
   * The guest stopped on a crash path: the report, from the live state; undefined when it is not a
   * stop after all (an OCaml raise something will catch, with only uncaught ones asked for).
   */
  async atCrashPath(path: CrashPath, threadId: number): Promise<CrashReport | undefined> {
    const gdb = this.host.require();
    let ocamlText: string | undefined;
    let caught = false;
    if (path.ocamlRaise && this.ocaml) {
      const raise = await this.ocaml.atRaise(path.ocamlRaise, threadId);
      caught = !raise.uncaught;
      if (caught && !this.filters?.has('ocaml-all')) return undefined;
      ocamlText = raise.text;
    } else if (path.symbol === 'caml_fatal_uncaught_exception' && this.ocaml) {
      ocamlText = await this.ocaml.exceptionArgument(threadId);
    }
    let registers: Record<string, string> = {};
    let trap: RebuiltFrames | undefined;
    let frames: CrashFrame[] = [];
    let kind = path.kind;
    let trapName: string | undefined;
    let handler: CrashReport['handler'];
    try {
      const live = await mi.stackListFrames(gdb, threadId, 0, 63);
      frames = live.map((f) => {
        const name = this.functionName(f.func);
        return { address: hexAddress(f.addr), function: name, linkageName: name !== f.func ? f.func : undefined, file: this.sources.displayFrame(f), line: f.line };
      });
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
        trap = { threadId, frames: mapped, savedRegisters: rebuilt.savedRegisters, label: `${trapName ?? 'trap'}: handled by ${rebuilt.handler}` };
        handler = { from: mapped.length, label: trap.label };
      }
      if (!registers.rip) {
        const at = { threadId, level: 0 };
        const rip = await mi.dataEvaluateExpression(gdb, '$pc', at).catch(() => '');
        const rsp = await mi.dataEvaluateExpression(gdb, '$sp', at).catch(() => '');
        registers = { rip: hexAddress(rip.split(' ')[0] ?? ''), rsp: hexAddress(rsp.split(' ')[0] ?? ''), ...registers };
      }
    } catch {
      /* a report with less detail is still a report */
    }
    const faulting = trap ? frames[0] : undefined;
    const where = faulting?.function ? ` in ${faulting.function}${faulting.file ? ` (${basename(faulting.file)}${faulting.line ? `:${faulting.line}` : ''})` : ''}` : '';
    const trapMessage = trapName
      ? `${trapName}${kind === 'page-fault' && registers.cr2 ? ` accessing ${registers.cr2}` : ''} at ${registers.rip}${where}`
      : undefined;
    const ocamlMessage = ocamlText && `${ocamlText}${caught ? ' (raised; a handler will catch it)' : ''}`;
    const message = ocamlMessage ?? trapMessage ?? this.recentCrashMessage() ?? path.label;
    // What the guest printed just before its crash function tells the kind more precisely.
    if (kind === 'abort' && /assert/i.test(message)) kind = 'assertion';
    else if (kind === 'abort' && /stack corruption|stack smash/i.test(message)) kind = 'stack-smash';
    const report: CrashReport = { platform: this.reportPlatform(path), kind, message, line: this.console.lines, registers, frames, ...(handler && { handler }) };
    this.current = { report, threadId, trap };
    // A caught exception is not the crash: the one that follows, if any, still stops.
    if (!caught) this.shown = true;
    return report;
  }

  /**
   * The machine paused on a reset the guest did not get from us: a triple fault (an exception with
   * no working handler) or a reset it asked for. `show`: the guest stays stopped there.
   */
  async atReset(threadId: number, show: boolean): Promise<CrashReport> {
    const gdb = this.host.require();
    const live = await mi.stackListFrames(gdb, threadId, 0, 63).catch(() => []);
    const top = live[0];
    const rip = hexAddress(top?.addr ?? '');
    const rsp = hexAddress((await mi.dataEvaluateExpression(gdb, '$sp', { threadId, level: 0 }).catch(() => '')).split(' ')[0] ?? '');
    const report: CrashReport = {
      platform: this.reportPlatform(),
      kind: 'triple-fault',
      message: `The guest reset itself at ${rip}${top?.func ? ` in ${top.func}` : ''}: a triple fault (an exception with no working handler) or a reset it asked for`,
      line: this.console.lines,
      registers: { rip, rsp },
      frames: live.map((f) => ({ address: hexAddress(f.addr), function: f.func, file: this.sources.displayFrame(f), line: f.line })),
    };
    if (show) {
      this.current = { report, threadId };
      this.shown = true;
    }
    return report;
  }

  /** The guest stopped for a crash its console showed. */
  atConsoleCrash(report: CrashReport, threadId: number): void {
    this.current = { report, threadId };
    this.shown = true;
  }

  /**
   * A crash the console showed, symbolized. `stop`: the guest should stop for it; otherwise it is
   * the crash already shown (`shown`), told again (its richer trace is kept), or crashes do not stop.
   */
  async fromConsole(raw: CrashReport): Promise<{ report: CrashReport; stop: boolean; text: string; notify: boolean }> {
    const { report, stop, shown } = await this.consoleCrash(raw);
    // A notification only for a crash nothing else shows: the guest's own account of the crash on
    // screen, or of one it is about to stop at, is for the Debug Console.
    const heading = shown ? "The console's account of the crash" : 'Crash detected on the console';
    return { report, stop, text: `${heading} (line ${report.line}):\n${formatTrace(report)}\n`, notify: !shown && !stop && report.kind !== 'exit' };
  }

  private async consoleCrash(raw: CrashReport): Promise<{ report: CrashReport; stop: boolean; shown: boolean }> {
    const symbolizer = await this.getSymbolizer();
    const symbolized = symbolizer ? await symbolizeReport(raw, symbolizer).catch(() => raw) : raw;
    // The console detector's guess (`solo5` for Solo5-style lines) gives way to the launched image's platform.
    const report = this.platform ? { ...symbolized, platform: this.platform } : symbolized;
    // A guest that exits with a non-zero status is told of; it stops only under the Non-zero exits filter.
    const filter = report.kind === 'exit' ? 'exit' : 'crash';
    if (this.shown || !this.filters?.has(filter)) {
      if (this.current && report.frames.length > 0 && this.current.report.frames.length === 0) this.current.report = report;
      return { report, stop: false, shown: this.shown };
    }
    return { report, stop: true, shown: false };
  }

  /** The guest stopped somewhere else than at a crash: a crash after this is a new one. */
  leftCrash(): void {
    this.shown = false;
  }

  /** A stop that is not a crash stop: there is no current crash. */
  clearCurrent(): void {
    this.current = undefined;
  }

  /** The guest restarted. */
  forget(): void {
    this.current = undefined;
    this.shown = false;
  }

  /** The rebuilt frames of a thread stopped at a trap. */
  trapOf(threadId: number): RebuiltFrames | undefined {
    return this.current?.threadId === threadId ? this.current.trap : undefined;
  }

  /** The faulting address of the trap the guest is stopped at. */
  faultAddress(): string | undefined {
    return this.current?.trap ? this.current.report.registers.rip : undefined;
  }

  exceptionInfo(): DebugProtocol.ExceptionInfoResponse['body'] | undefined {
    const crash = this.current?.report;
    if (!crash) return undefined;
    return {
      exceptionId: crash.kind,
      description: crash.message,
      breakMode: 'always',
      details: { message: crash.message, typeName: `${crash.platform} ${crash.kind}`, stackTrace: formatTrace(crash, (file) => this.sources.short(file)) },
    };
  }

  async dispose(): Promise<void> {
    const symbolizer = this.symbolizer;
    this.symbolizer = undefined;
    (await symbolizer?.catch(() => undefined))?.dispose();
  }

  private getSymbolizer(): Promise<Symbolizer | undefined> {
    const path = this.symbolsPath;
    if (!path) return Promise.resolve(undefined);
    this.symbolizer ??= Symbolizer.open(path).catch(() => undefined);
    return this.symbolizer;
  }

  /** The name a person knows a function by (OCaml's `Hello.depth` for `camlHello__depth_88`). */
  private functionName(func: string | undefined): string | undefined {
    return func && this.ocaml ? this.ocaml.frameName(func) : func;
  }

  /**
   * A launched image's crashes name its platform as the launch does (`"platform"` in launch.json,
   * the Debug Console's `Multiboot / PVH image: platform "generic" (detected)`), whatever function
   * or console line they came through: one image, one word. Attached, the crash path's own.
   */
  private reportPlatform(path?: CrashPath): ReportPlatform {
    return this.platform ?? path?.platform ?? 'generic';
  }

  /** The last crash-looking console line, which usually says what went wrong before the crash function ran. */
  private recentCrashMessage(): string | undefined {
    const lines = this.console.recentLines().slice(-20);
    for (let i = lines.length - 1; i >= 0; i--) {
      const text = lines[i]?.trim() ?? '';
      if (/ABORT|PANIC|panic|FATAL|Fatal error|CRIT|[Aa]ssert|trap|Stack corruption/.test(text)) return text;
    }
    return undefined;
  }
}
