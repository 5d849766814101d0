/**
 * Machine-level crashes any guest can hit, as QEMU or Xen report them.
 *   Triple fault                       QEMU (-d cpu_reset / guest_errors), then its `CPU Reset` register dump
 *   d1v0 Triple fault - invoking HVM shutdown action 1        Xen, for an HVM guest
 *   Guest crashed / {"event": "GUEST_PANICKED", …}            pvpanic, from QEMU's log or QMP
 * A triple fault is kind `trap` (a CPU exception with no working handler), a
 * pvpanic signal kind `panic`.
 */
import { frameAt, type CrashKind, type CrashReport } from '../report';
import { parseEqualsRegisters } from './registerDump';
import type { Detector, Emit, Triggers } from './types';

const TRIPLE_FAULT = /\btriple fault\b/i;
const PVPANIC = /\bGUEST_PANICKED\b|\bGuest crashed\b|\bguest panicked\b/i;
const DUMP_HEADER = /^CPU Reset \(CPU \d+\)|^check_exception old: /;
const MAX_DUMP_LINES = 40;

export class GenericDetector implements Detector {
  static readonly triggers: Triggers = { start: [], anywhere: ['triple fault', 'guest_panicked', 'guest crashed', 'guest panicked'] };
  readonly platform = 'generic' as const;
  private report?: CrashReport;
  private lines = 0;
  private sawRegisters = false;

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    if (TRIPLE_FAULT.test(line)) {
      this.flush();
      this.report = base('trap', 'Triple fault: the CPU could not deliver an exception and reset', lineNo);
      this.lines = 0;
      this.sawRegisters = false;
      return;
    }
    if (PVPANIC.test(line)) {
      this.flush();
      this.emit({ report: base('panic', 'The guest signalled a panic through the pvpanic device', lineNo) });
      return;
    }
    const report = this.report;
    if (!report) return;
    const regs = parseEqualsRegisters(line);
    if (regs) {
      // QEMU dumps the state from before the reset: that is the faulting state.
      Object.assign(report.registers, regs);
      this.sawRegisters = true;
      return;
    }
    const dumpLine = DUMP_HEADER.test(line) || /^(?:[A-Z]{2}\s*=|GDT=|IDT=|LDT=|TR\s*=|DR[0-9]=|EFER=|FCW=|XMM|YMM|Code=)/.test(line);
    if (++this.lines > MAX_DUMP_LINES || (!dumpLine && this.sawRegisters)) this.flush();
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    const pc = report.registers.rip ?? report.registers.eip;
    const frame = pc ? frameAt(pc) : undefined;
    if (frame) report.frames.push(frame);
    if (pc) report.message = `Triple fault at ${report.registers.rip ? 'rip' : 'eip'} ${pc}: the CPU could not deliver an exception and reset`;
    this.emit({ report });
  }
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'generic', kind, message, line, registers: {}, frames: [] };
}
