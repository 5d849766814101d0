/**
 * Unikraft.
 *   CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0
 *   RIP: 0000000000104a3b CS: 0008        (also with the CRIT prefix, or `RIP: 0008:…`)
 *   RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246
 *   RAX: … RBX: … RCX: …   (RDX/RSI/RDI, RBP/R08/R09, R10/R11/R12, R13/R14/R15)
 *   base is 0x1ffe90 caller is 0x10612c
 *   001ffe70  8f 4a 10 00 00 00 00 00  90 fe 1f 00 …  |.J......|    stack hex dump
 *   CRIT: [libkvmplat] <traps.c @ 86> Crashing
 *   CRIT: [app] <main.c @ 11> Assertion failure: x == 1
 *   CRIT: [appx] <main.c @ 20> bad state   then   Crashing          UK_CRASH: kind panic
 *   ERR:  [libukboot] <boot.c @ 92> Init function at 0x11e360 returned error -95    kind init-failure
 *   CRIT: [libukboot] <boot.c @ 268> Failed to initialize memory allocator           kind init-failure
 *   CRIT: Unikraft Crash - Kiviuq (0.20.0)   then `CRIT: rip: 0008:…` (0.20 crash screen)
 * Older versions print `boot.c @ 92   : text` instead of `<boot.c @ 92> text`;
 * newer ones put `[    0.105617] ` before the level (the collector strips it).
 * When only registers are printed, return addresses are recovered from the
 * stack hex dump (see stackDump.ts).
 */
import { frameAt, normalizeHex, trapFromName, trapFromVector, type CrashKind, type CrashReport } from '../report';
import { parseColonRegisters, parseStackWalk } from './registerDump';
import { StackDump } from './stackDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type Triggers } from './types';

const LOG =
  /^(CRIT|ERR|WARN|INFO|DBG|Crit|Err|Warn|Info|Dbg)\s*:\s*(?:\{[^}]*\}\s*)?(?:\[([^\]]*)\]\s*)?(?:<\s*([^>@]+?)\s*@\s*(\d+)\s*>\s*|([^\s@<>]+)\s*@\s*(\d+)\s*:\s*)?(.*)$/;
const UNHANDLED_TRAP = /^Unhandled Trap (\d+) \(([^)]*)\)(?:, error code=(?:0x)?([0-9a-fA-F]+))?/;
const PAGE_FAULT = /^Unhandled page fault (?:vaddr|at)=?\s*(?:0x)?([0-9a-fA-F]+)(?:,? error code=(?:0x)?([0-9a-fA-F]+))?/;
const ASSERTION = /^Assertion failure: (.*)$/;
const INIT_FAILED = /^Init function at (?:0x)?([0-9a-fA-F]+) returned error (-?\d+)/;
const CRASH_SCREEN = /^Unikraft Crash\b/;
const CRASHING = /^Crashing\b/;
const HALT = /^(?:Halting system|Unikraft halted|Shutting down)/i;
/** Lines between a CRIT message and the `Crashing` (or init error) it leads to. */
const CAUSE_WINDOW = 3;

const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 12: 'ENOMEM', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 28: 'ENOSPC', 38: 'ENOSYS', 95: 'EOPNOTSUPP',
};

interface LogLine {
  level?: string;
  lib?: string;
  text: string;
  file?: string;
  line?: number;
}

interface Message {
  text: string;
  lineNo: number;
  lib?: string;
  file?: string;
  line?: number;
}

export class UnikraftDetector implements Detector {
  static readonly triggers: Triggers = {
    start: ['(?:CRIT|ERR|Crit|Err)\\s*:', 'Unhandled ', 'Crashing'],
  };
  readonly platform = 'unikraft' as const;
  private report?: CrashReport;
  private lines = 0;
  private dump = new StackDump();
  // The last CRIT/ERR message: UK_CRASH("…") prints it just before `Crashing`, a failed init before its error.
  private lastMessage?: Message;
  private lastReportLine = Number.NEGATIVE_INFINITY; // a `Crashing` right after a report belongs to it

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    const log = parseLog(line);
    const level = log.level;
    const text = log.text;

    if (this.report && ++this.lines > MAX_CRASH_LINES) this.flush();

    let m: RegExpExecArray | null;
    if (level === 'CRIT' || level === 'ERR' || level === undefined) {
      if ((m = UNHANDLED_TRAP.exec(text))) {
        this.start(trapReport(Number(m[1]), m[2], m[3], lineNo));
        return;
      }
      if ((m = PAGE_FAULT.exec(text))) {
        const report = base('page-fault', '', lineNo);
        report.registers.cr2 = normalizeHex(m[1]) as string;
        if (m[2] !== undefined) report.registers.ec = normalizeHex(m[2]) as string;
        report.message = `Unhandled page fault accessing ${report.registers.cr2}${m[2] !== undefined ? `, error code ${report.registers.ec}` : ''}`;
        this.start(report);
        return;
      }
      if (level !== undefined && (m = ASSERTION.exec(text))) {
        const report = base('assertion', `Assertion failure: ${m[1].trim()}`, lineNo);
        if (log.file) report.source = { file: log.file, line: log.line };
        this.start(report);
        return;
      }
      if (level !== undefined && (m = INIT_FAILED.exec(text))) {
        this.flush();
        this.emitNow(initFailure(m[1], Number(m[2]), lineNo, this.recentCause(lineNo, log.lib)));
        return;
      }
      if (level === 'CRIT' && CRASH_SCREEN.test(text)) {
        this.start(base('trap', text, lineNo));
        return;
      }
    }
    if (CRASHING.test(text) && (level !== undefined || this.report || this.recentCause(lineNo))) {
      if (!this.report) {
        if (lineNo - this.lastReportLine <= CAUSE_WINDOW) return; // the consequence of a crash already reported
        const crit = this.recentCause(lineNo);
        const report = base('panic', crit ? crit.text : 'Crashing', crit ? crit.lineNo : lineNo);
        if (crit?.file) report.source = { file: crit.file, line: crit.line };
        this.report = report;
      }
      this.flush();
      return;
    }
    if (this.report) {
      this.add(this.report, text);
      return;
    }
    if (level === 'CRIT' && /^RIP:/i.test(text)) {
      // A register dump without a header (a page fault handled by the newer trap code).
      const report = base('trap', 'CPU exception', lineNo);
      this.start(report);
      this.add(report, text);
      return;
    }
    if (level === 'CRIT' && log.lib === 'libukboot') {
      // ukboot says CRIT only when boot cannot go on.
      this.emitNow(base('init-failure', text, lineNo, log.file ? { file: log.file, line: log.line } : undefined));
      return;
    }
    if (level === 'CRIT' || level === 'ERR') this.lastMessage = { text, lineNo, lib: log.lib, file: log.file, line: log.line };
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    this.lastMessage = undefined;
    if (report.kind === 'trap' && report.message === 'CPU exception' && report.registers.rip) {
      report.message = `CPU exception at rip ${report.registers.rip}`;
      if (BigInt(report.registers.rip) < 0x1000n) {
        // Code never lives in the null page: the CPU faulted fetching from it (a call through a null pointer).
        report.kind = 'page-fault';
        report.message += ': a jump into the unmapped null page';
      }
    }
    // Only rip/rsp and a stack dump: the words of the dump that look like code are the callers.
    if (this.dump.size > 0 && !report.frames.some((f) => f.returnAddress)) {
      report.frames.push(...this.dump.frames(report.registers.rip, report.registers.rsp, MAX_FRAMES - report.frames.length));
    }
    this.dump = new StackDump();
    this.emitNow(report);
  }

  /** Adds a line of a pending crash's dump: registers, stack walk, hex dump; skips the rest. */
  private add(report: CrashReport, text: string): void {
    const regs = parseColonRegisters(text);
    if (regs) {
      Object.assign(report.registers, regs);
      if (regs.rip && report.frames.every((f) => f.returnAddress)) {
        const frame = frameAt(regs.rip);
        if (frame) report.frames.unshift(frame);
      }
      return;
    }
    const caller = parseStackWalk(text);
    if (caller !== undefined) {
      if (caller !== '0x0' && report.frames.length < MAX_FRAMES) report.frames.push({ address: caller, returnAddress: true });
      return;
    }
    if (this.dump.take(text)) return;
    if (HALT.test(text)) this.flush();
    // Disassembly and other lines between the dump and `Crashing` are skipped.
  }

  private start(report: CrashReport): void {
    this.flush();
    this.report = report;
    this.lines = 0;
    this.dump = new StackDump();
  }

  private emitNow(report: CrashReport): void {
    this.lastReportLine = report.line;
    this.lastMessage = undefined;
    this.emit({ report });
  }

  /** The CRIT/ERR message just before this line (from another library than `notFrom`), if any. */
  private recentCause(lineNo: number, notFrom?: string): Message | undefined {
    const last = this.lastMessage;
    if (!last || lineNo - last.lineNo > CAUSE_WINDOW) return undefined;
    return notFrom !== undefined && last.lib === notFrom ? undefined : last;
  }
}

function parseLog(line: string): LogLine {
  const m = LOG.exec(line);
  if (!m) return { text: line };
  const file = m[3] ?? m[5];
  const srcLine = m[4] ?? m[6];
  return { level: m[1].toUpperCase(), lib: m[2]?.trim(), text: m[7].trim(), file, line: srcLine === undefined ? undefined : Number(srcLine) };
}

function base(kind: CrashKind, message: string, line: number, source?: CrashReport['source']): CrashReport {
  const report: CrashReport = { platform: 'unikraft', kind, message, line, registers: {}, frames: [] };
  if (source) report.source = source;
  return report;
}

function trapReport(vector: number, name: string, code: string | undefined, lineNo: number): CrashReport {
  const byName = trapFromName(name);
  const kind = byName.kind !== 'trap' ? byName.kind : trapFromVector(vector).kind;
  const report = base(kind, `Unhandled Trap ${vector} (${name})${code !== undefined ? `, error code=0x${code.toLowerCase()}` : ''}`, lineNo);
  if (code !== undefined) report.registers.ec = normalizeHex(code) as string;
  return report;
}

/** `Init function at 0x… returned error -N`, headed by the message that explains it when one came just before. */
function initFailure(fn: string, error: number, lineNo: number, cause: Message | undefined): CrashReport {
  const errno = ERRNO[Math.abs(error)];
  const what = `init function at 0x${fn.toLowerCase().replace(/^0+(?=.)/, '')} returned error ${error}${errno ? ` (${errno})` : ''}`;
  const report = cause
    ? base('init-failure', `${cause.text} (${what})`, cause.lineNo, cause.file ? { file: cause.file, line: cause.line } : undefined)
    : base('init-failure', `${what[0].toUpperCase()}${what.slice(1)}: boot stopped before main`, lineNo);
  const frame = frameAt(fn);
  if (frame) report.frames.push(frame); // the failing initialiser: the symbolizer names it
  return report;
}
