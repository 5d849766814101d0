/**
 * IncludeOS (on QEMU/KVM, or on Solo5's tenders).
 *   **** PANIC ****
 *   CPU: 0, Reason: Testing if panic works                 os::panic(reason)
 *   >>>> !!! CPU 0 EXCEPTION !!! <<<<                       a CPU exception instead of a reason
 *   General Protection Fault (13)   EIP  0x2102b9   CODE 0
 *   RAX:  0000000000000020  R 8:  0123456789abcdef        (`R 8`, `R 9` with a blank; FLA is rflags)
 *   Heap is at: …  /  Total memory use: …  /  *** Backtrace:
 *   [0] 0x0000000000201353 + 0x000: 0x201353                 (a symbol name after the colon when the image has them)
 *   [ VM_PANIC ] CPU: 0, Reason: …                           the test runner echoing the panic
 *   config.cpp:61:read Expects failed: <condition>           a failed Expects/Ensures: kind assertion
 *   [ Kernel ] Service exiting with status 67                a non-zero exit, reported when nothing explains it
 */
import { frameAt, normalizeHex, trapFromName, trapFromVector, type CrashFrame, type CrashKind, type CrashReport } from '../report';
import { parseColonRegisters } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type Triggers } from './types';

const PANIC = /^\*{4} PANIC \*{4}$/;
const REASON = /^CPU: (\d+)(?:, Reason: (.*))?$/;
// The console cleaner takes leading `>`s for mail quoting: the banner may arrive without them.
const EXCEPTION_BANNER = /^(?:>{4} )?!!! CPU \d+ EXCEPTION !!! <{4}$/;
const EXCEPTION = /^(.+?) \((\d+)\)\s+EIP\s+(?:0x)?([0-9a-fA-F]+)(?:\s+CODE\s+(?:0x)?([0-9a-fA-F]+))?/;
const FRAME = /^\[(\d+)\]\s+(?:0x)?([0-9a-fA-F]+)\s*\+\s*(?:0x)?[0-9a-fA-F]+:\s*(\S*)/;
// Lines of the panic block that carry nothing we keep.
const BLOCK = /^(?:\*{3} |Heap is at:|Heap area:|Total memory use:|Stack:|Kernel stack|Reason:)/;
const VM_PANIC = /^\[ VM_PANIC \]/;
const EXPECTS = /^(\S+?):(\d+):(\S+) (Expects|Ensures) failed: (.*)$/;
const EXIT = /^\[ Kernel \] Service exiting with status (-?\d+)/;

export class IncludeOsDetector implements Detector {
  static readonly triggers: Triggers = { start: ['\\*{4} PANIC', '\\S+:\\d+:\\S+ (?:Expects|Ensures) failed: ', '\\[ Kernel \\] Service exiting'] };
  readonly platform = 'includeos' as const;
  private report?: CrashReport;
  private lines = 0;

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    if (PANIC.test(line)) {
      this.flush();
      this.report = base('panic', 'PANIC', lineNo);
      this.lines = 0;
      return;
    }
    let m: RegExpExecArray | null;
    if (this.report) {
      if (++this.lines > MAX_CRASH_LINES || !this.takes(this.report, line)) this.flush();
      else if (VM_PANIC.test(line)) this.flush();
      return;
    }
    if ((m = EXPECTS.exec(line))) {
      const report = base('assertion', `${m[4]} failed: ${m[5]}`, lineNo);
      report.source = { file: m[1], line: Number(m[2]), function: m[3] };
      this.emit({ report });
      return;
    }
    if ((m = EXIT.exec(line)) && Number(m[1]) !== 0) {
      this.emit({ report: base('exit', `The service exited with status ${m[1]}`, lineNo), followUp: true });
    }
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    const pc = report.registers.rip ?? report.registers.eip;
    if (pc && !report.frames.some((f) => f.address === pc)) {
      const frame = frameAt(pc);
      if (frame) report.frames.unshift(frame);
    }
    this.emit({ report });
  }

  /** Adds a line of the panic block to the report; false for a line that is not one. */
  private takes(report: CrashReport, line: string): boolean {
    let m: RegExpExecArray | null;
    if ((m = REASON.exec(line))) {
      if (m[2] !== undefined && m[2].trim()) report.message = m[2].trim();
      return true;
    }
    if (EXCEPTION_BANNER.test(line) || BLOCK.test(line) || VM_PANIC.test(line)) return true;
    if ((m = EXCEPTION.exec(line))) {
      const vector = Number(m[2]);
      const byName = trapFromName(m[1]);
      const kind: CrashKind = byName.kind !== 'trap' ? byName.kind : trapFromVector(vector).kind;
      report.kind = kind;
      report.registers.rip = normalizeHex(m[3]) as string;
      if (m[4] !== undefined) report.registers.ec = normalizeHex(m[4]) as string;
      report.message = `${m[1]} (${vector}) at rip ${report.registers.rip}`;
      return true;
    }
    if ((m = FRAME.exec(line))) {
      const frame = backtraceFrame(m);
      if (frame && report.frames.length < MAX_FRAMES) report.frames.push(frame);
      return true;
    }
    const regs = parseColonRegisters(line.replace(/\bR (\d)(?=:)/g, 'R$1').replace(/\bFLA(?=:)/, 'RFLAGS'));
    if (!regs) return false;
    Object.assign(report.registers, regs);
    return true;
  }
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'includeos', kind, message, line, registers: {}, frames: [] };
}

function backtraceFrame(m: RegExpExecArray): CrashFrame | undefined {
  const frame = frameAt(m[2], Number(m[1]) > 0);
  if (!frame) return undefined;
  // A stripped image prints the address again where the name would be.
  const name = m[3].replace(/\+.*$/, '');
  if (name && !/^(?:0x)?[0-9a-fA-F]+$/.test(name)) frame.function = name;
  return frame;
}
