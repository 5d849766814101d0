/**
 * A panic as small kernels of any origin print it (hobby and teaching kernels,
 * multiboot images), platform `generic`:
 *   *** PANIC: out of frames   |  PANIC: …  |  panic: …  |  Kernel panic - not syncing: …
 *   REGS: rip=0x1012a4 rsp=0x7fff00 rbp=0x7fff10      (optional; also `RIP=…`, `RIP: …`)
 *   #0 0x1012a4 (panic)  |  #1 0x101300 in alloc_frame (n=3)  |  #2 0x101400      (optional)
 * and Linux's own shapes after `Kernel panic - not syncing:`:
 *   CPU: 0 PID: 1 Comm: swapper …  |  Hardware name: …  |  Call Trace:  <TASK> … </TASK>
 *    dump_stack_lvl+0x2c/0x3b        (x86, no address; `? name` entries are guesses and skipped)
 *   [<ffffffff8100>] panic+0x…/0x…   (older x86)
 *   [<c001c84c>] (unwind_backtrace) from [<c0018738>] (show_stack+0x10/0x14)     (ARM)
 *   ---[ end Kernel panic - not syncing: … ]---
 * The report ends at the first line that is none of these. Bare `PANIC:` and
 * `panic:` lines are shared with Rumprun (see barePanic.ts).
 */
import { frameAt, normalizeHex, type CrashFrame, type CrashReport } from '../report';
import { BARE_PANIC, takesBarePanics } from './barePanic';
import { parseColonRegisters, parseEqualsRegisters } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type LogContext, type Triggers } from './types';

const PANIC = /^(\*+\s*)?(PANIC|panic|Kernel panic - not syncing)\s*:\s*(.*)$/;
const REGS_LABEL = /^(?:regs|registers)\s*:\s*/i;
// Headings some kernels print between the parts; they belong to the report.
const SECTION = /^(?:regs|registers|back ?trace|call ?trace|stack(?: ?trace)?)\s*:?$/i;
const FRAME = /^#(\d{1,4})\s+(?:0x)?([0-9a-fA-F]{1,16})\b(?:\s+in\s+([^\s(]+)|\s+\(([^\s)]+)\))?/;
// Lines of a Linux panic between the header and the end marker that carry nothing we keep.
const LINUX = /^(?:CPU: \d+ (?:UID: \d+ )?PID: |Hardware name: |Call [Tt]race:|<\/?(?:TASK|IRQ|NMI|EOI|SOFTIRQ)>|Kernel Offset: |---\[ end |Exception stack\(|Modules linked in:|Workqueue: |Code: |Tainted: |Rebooting in |[0-9a-f]{4}: (?:[0-9a-f]{8} ?){1,8}$)/;
const ARM_FRAME = /^\[<([0-9a-fA-F]{1,16})>\] \(([^)\s]+)\) from \[<([0-9a-fA-F]{1,16})>\] \(([^)\s]+)\)/;
const X86_OLD_FRAME = /^\[<([0-9a-fA-F]{1,16})>\] (\? )?([\w.]+)\+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+/;
const X86_FRAME = /^(\? )?([\w.]+)\+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+(?: \[[\w.]+\])?$/;

export class KernelPanicDetector implements Detector {
  static readonly triggers: Triggers = { start: ['\\*+\\s*(?:PANIC|panic|Kernel panic - not syncing)\\s*:', '(?:PANIC|panic|Kernel panic - not syncing)\\s*:'] };
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
    const frame = pc && !report.frames.some((f) => f.address) ? frameAt(pc) : undefined;
    if (frame) report.frames.push(frame);
    this.emit({ report });
  }

  /** Adds a register, backtrace or heading line to the report; false for any other line. */
  private takes(report: CrashReport, line: string): boolean {
    const frames = backtraceFrames(line, report.frames.length === 0);
    if (frames) {
      for (const frame of frames) if (report.frames.length < MAX_FRAMES) report.frames.push(frame);
      return true;
    }
    if (SECTION.test(line) || LINUX.test(line)) return true;
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

/**
 * Frames of a backtrace line (`#N 0xADDR …`, or one of Linux's), an empty list
 * for a backtrace line to skip (`? guess`), undefined for any other line.
 */
function backtraceFrames(line: string, first: boolean): CrashFrame[] | undefined {
  let m = ARM_FRAME.exec(line);
  if (m) {
    // `[<pc>] (f) from [<ret>] (g)`: the first line also gives the innermost frame.
    const out: CrashFrame[] = [];
    const inner = first ? frameAt(m[1]) : undefined;
    if (inner) out.push(named(inner, m[2]));
    const caller = frameAt(m[3], true);
    if (caller) out.push(named(caller, m[4]));
    return out;
  }
  if ((m = X86_OLD_FRAME.exec(line))) {
    const frame = m[2] ? undefined : frameAt(m[1], !first);
    return frame ? [named(frame, m[3])] : [];
  }
  if ((m = X86_FRAME.exec(line))) return m[1] ? [] : [{ address: '', function: m[2] }];
  const frame = backtraceFrame(line);
  return frame ? [frame] : undefined;
}

function named(frame: CrashFrame, text: string): CrashFrame {
  const name = functionName(text);
  if (name) frame.function = name;
  return frame;
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
