/**
 * Fault reports of kernels with no detector of their own, platform `generic`:
 * the shapes OSv and Nanos print, which other small kernels share.
 *   page fault outside application, addr: 0x0000000000000000      OSv
 *   [registers]  RIP: 0x000000000041cf65 <strlen+37>  RFL: …  RAX: …
 *   Aborted  [backtrace]  0x0000000000320f0c <mmu::vm_fault(unsigned long, exception_frame*)+146>
 *   no fault handler / Page fault                                    Nanos
 *   interrupt: 000000000000000e (Page fault)  error code: …  address: …
 *   rax: 0000000000000032 … rip: ffffffff8003593a (netconsole_config + 00aa/03f7)
 *   Assertion failed: x != NULL (core/sched.cc: reschedule: 238)     OSv / musl-style assert
 */
import { frameAt, normalizeHex, trapFromVector, type CrashFrame, type CrashKind, type CrashReport } from '../report';
import { parseColonRegisters } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type Triggers } from './types';

const OSV_FAULT = /^page fault outside application, addr: (?:0x)?([0-9a-fA-F]+)/;
const NANOS_START = /^(?:no fault handler|Page fault)\s*$/;
const INTERRUPT = /^interrupt: ([0-9a-fA-F]+)(?: \(([^)]*)\))?/;
const ASSERTION = /^Assertion failed: (.*) \(([^:()]+): ([^:()]+): (\d+)\)\s*$/;
// OSv backtrace entries (with `<symbol+offset>`, or the older bare form) and Nanos frame traces.
const OSV_FRAME = /^(?:0x)?([0-9a-fA-F]{1,16})\s+(?:<(.*)>|([A-Za-z_]\S*)\+\d+)\s*$/;
const NANOS_FRAME = /^([0-9a-fA-F]{8,16})\s+\((\S+) \+ [0-9a-fA-F]+\/[0-9a-fA-F]+\)\s*$/;
// `name: value` lines of the dump that hold nothing we keep, section headings, stack words.
const FIELD = /^(?:[a-z][a-z0-9_ ]{0,15}:\s+\S|cpu \d+, state |\[(?:registers|backtrace)\]$|Aborted$|stack$|(?:frame|stack) trace:?$|[0-9a-fA-F]{16}$)/;
const SYMBOL_IN_PARENS = /\(([A-Za-z_][\w.$]*) \+ [0-9a-fA-F]+\/[0-9a-fA-F]+\)/;
const SYMBOL_IN_ANGLES = /<([^>+]+)(?:\+\d+)?>/;

export class FaultDumpDetector implements Detector {
  static readonly triggers: Triggers = {
    start: ['page fault outside application', 'no fault handler', 'Page fault\\s*$', 'interrupt: [0-9a-fA-F]+', 'Assertion failed: '],
  };
  readonly platform = 'generic' as const;
  private report?: CrashReport;
  private lines = 0;
  private backtrace = false;

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    let m: RegExpExecArray | null;
    if ((m = OSV_FAULT.exec(line))) {
      this.start(base('page-fault', line, lineNo));
      (this.report as CrashReport).registers.cr2 = normalizeHex(m[1]) as string;
      return;
    }
    if ((m = ASSERTION.exec(line))) {
      this.flush();
      const report = base('assertion', `Assertion failed: ${m[1]}`, lineNo);
      report.source = { file: m[2], function: m[3], line: Number(m[4]) };
      this.emit({ report });
      return;
    }
    if (NANOS_START.test(line) && !(this.report && this.report.line >= lineNo - 2 && !this.backtrace)) {
      // `no fault handler` and `Page fault` head the same report when they follow each other.
      this.start(base(/^Page/.test(line) ? 'page-fault' : 'trap', line.trim(), lineNo));
      return;
    }
    if ((m = INTERRUPT.exec(line))) {
      if (!this.report) this.start(base('trap', 'CPU exception', lineNo));
      const report = this.report as CrashReport;
      const vector = Number.parseInt(m[1], 16);
      report.kind = trapFromVector(vector).kind;
      if (m[2]) report.message = `${m[2]} (interrupt ${vector})`;
      return;
    }
    const report = this.report;
    if (!report) return;
    if (++this.lines > MAX_CRASH_LINES || !this.takes(report, line)) this.flush();
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    this.emit({ report });
  }

  private start(report: CrashReport): void {
    this.flush();
    this.report = report;
    this.lines = 0;
    this.backtrace = false;
  }

  /** Adds a dump line to the report; false for a line that is not part of the dump. */
  private takes(report: CrashReport, line: string): boolean {
    let m: RegExpExecArray | null;
    if ((m = /^error code:\s+([0-9a-fA-F]+)/.exec(line))) {
      report.registers.ec = normalizeHex(m[1]) as string;
      return true;
    }
    if ((m = /^address:\s+([0-9a-fA-F]+)/.exec(line))) {
      if (report.kind === 'page-fault' || report.kind === 'trap') report.registers.cr2 = normalizeHex(m[1]) as string;
      return true;
    }
    if (line === '[backtrace]' || /^(?:frame|stack) trace:?$/.test(line)) {
      this.backtrace = true;
      return true;
    }
    const frame = backtraceFrame(line);
    if (frame) {
      if (report.frames.length < MAX_FRAMES) report.frames.push(frame);
      return true;
    }
    const regs = parseColonRegisters(line);
    if (regs) {
      Object.assign(report.registers, regs);
      if (regs.rip && !report.frames.some((f) => !f.returnAddress)) {
        const pc = frameAt(regs.rip);
        if (pc) {
          const name = SYMBOL_IN_ANGLES.exec(line)?.[1] ?? SYMBOL_IN_PARENS.exec(line)?.[1];
          if (name && name !== '???') pc.function = name.trim();
          report.frames.unshift(pc);
        }
      }
      return true;
    }
    return FIELD.test(line);
  }
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'generic', kind, message, line, registers: {}, frames: [] };
}

/** A caller frame from an OSv backtrace or Nanos frame-trace line, or undefined. */
function backtraceFrame(line: string): CrashFrame | undefined {
  const osv = OSV_FRAME.exec(line);
  const nanos = osv ? null : NANOS_FRAME.exec(line);
  const m = osv ?? nanos;
  if (!m) return undefined;
  const frame = frameAt(m[1], true);
  if (!frame) return undefined;
  const name = (osv ? (osv[2] ?? osv[3]) : m[2])?.replace(/\+\d+$/, '').trim();
  if (name && !name.startsWith('???')) frame.function = name;
  return frame;
}
