/**
 * A panic as small kernels of any origin print it (hobby and teaching kernels,
 * multiboot images), platform `generic`:
 *   *** PANIC: out of frames   |  PANIC: …  |  panic: …  |  Kernel panic - not syncing: …
 *   REGS: rip=0x1012a4 rsp=0x7fff00 rbp=0x7fff10      (optional; also `RIP=…`, `RIP: …`)
 *   #0 0x1012a4 (panic)  |  #1 0x101300 in alloc_frame (n=3)  |  #2 0x101400      (optional)
 * The report ends at the first line that is none of these. Bare `PANIC:` and
 * `panic:` lines are shared with Rumprun (see barePanic.ts).
 */
import { frameAt, normalizeHex, type CrashFrame, type CrashReport } from '../report';
import { BARE_PANIC, takesBarePanics } from './barePanic';
import { parseColonRegisters, parseEqualsRegisters } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type LogContext } from './types';

const PANIC = /^(\*+\s*)?(PANIC|panic|Kernel panic - not syncing)\s*:\s*(.*)$/;
const REGS_LABEL = /^(?:regs|registers)\s*:\s*/i;
// Headings some kernels print between the parts; they belong to the report.
const SECTION = /^(?:regs|registers|back ?trace|call ?trace|stack(?: ?trace)?)\s*:?$/i;
const FRAME = /^#(\d{1,4})\s+(?:0x)?([0-9a-fA-F]{1,16})\b(?:\s+in\s+([^\s(]+)|\s+\(([^\s)]+)\))?/;

export class KernelPanicDetector implements Detector {
  readonly platform = 'generic' as const;
  private report?: CrashReport;
  private lines = 0;

  constructor(
    private readonly emit: Emit,
    private readonly context?: LogContext,
  ) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    const header = PANIC.exec(line);
    if (header && (header[1] !== undefined || !BARE_PANIC.test(line) || takesBarePanics('generic', this.context))) {
      this.flush();
      this.report = base(panicMessage(header), lineNo);
      this.lines = 0;
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
    // Without a backtrace the register dump still says where the kernel stopped.
    const pc = report.registers.rip ?? report.registers.eip;
    const frame = pc && report.frames.length === 0 ? frameAt(pc) : undefined;
    if (frame) report.frames.push(frame);
    this.emit({ report });
  }

  /** Adds a register, backtrace or heading line to the report; false for any other line. */
  private takes(report: CrashReport, line: string): boolean {
    const frame = backtraceFrame(line);
    if (frame) {
      if (report.frames.length < MAX_FRAMES) report.frames.push(frame);
      return true;
    }
    if (SECTION.test(line)) return true;
    const body = line.replace(REGS_LABEL, '');
    const regs = parseEqualsRegisters(body) ?? parseColonRegisters(body);
    if (!regs) return false;
    Object.assign(report.registers, regs);
    return true;
  }
}

function base(message: string, line: number): CrashReport {
  return { platform: 'generic', kind: 'panic', message, line, registers: {}, frames: [] };
}

function panicMessage(header: RegExpExecArray): string {
  let text = header[3].trim();
  // `*** PANIC: text ***`: the closing stars frame the text, they are not part of it.
  if (header[1] !== undefined) text = text.replace(/\s*\*+$/, '');
  return text || header[2];
}

/** A frame for a `#N 0xADDR …` line, or undefined for any other line. */
function backtraceFrame(line: string): CrashFrame | undefined {
  const m = FRAME.exec(line);
  if (!m) return undefined;
  const address = normalizeHex(m[2]);
  if (address === undefined) return undefined;
  const frame: CrashFrame = { address };
  const name = functionName(m[3] ?? m[4]);
  if (name) frame.function = name;
  // Frames past #0 hold return addresses: their call is the instruction before.
  if (Number(m[1]) > 0) frame.returnAddress = true;
  return frame;
}

/** `alloc_frame+0x1c` → `alloc_frame`; `??` (unknown) → undefined. */
function functionName(text: string | undefined): string | undefined {
  const name = text?.replace(/\+.*$/, '');
  return name && /^[A-Za-z_.$]/.test(name) ? name : undefined;
}
