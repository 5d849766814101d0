/**
 * QEMU on KVM giving up on a guest instruction, as QEMU prints it on stderr
 * (which is often the same log as the serial console):
 *   KVM internal error. Suberror: 1
 *   extra data[0]: 0x0000000000000000            (newer QEMU)
 *   emulation failure
 *   RAX=ffff8000fee000f0 RBX=… RCX=… RDX=…        then RSI/RDI/RBP/RSP, R8..R15, RIP/RFL
 *   ES =0020 …  CS =…  GDT=…  CR0=… CR2=… CR3=…  DR0=…  EFER=…  Code=…
 * Suberror 1 is an emulation failure (kind emulation-failure); others are
 * event-delivery problems (kind trap). Several vCPUs may each print the
 * header: while no register has been read, another header is the same crash.
 */
import { frameAt, type CrashReport } from '../report';
import { parseEqualsRegisters } from './registerDump';
import type { Detector, Emit, Triggers } from './types';

const HEADER = /^KVM internal error\. Suberror: (\d+)/;
const EMULATION = /^emulation failure\b/;
// Lines of QEMU's CPU state dump that hold no register we keep.
const DUMP = /^(?:extra data\[\d+\]:|[A-Z]{2}\s*=[0-9a-fA-F]{4} |GDT=|IDT=|LDT=|TR\s*=|DR[0-9]=|EFER=|FCW=|FSW=|MXCSR=|XMM|YMM|ZMM|FPR|Code=|PDPTE|CCS=|CPL=)/;
const MAX_DUMP_LINES = 60;

export class KvmDetector implements Detector {
  static readonly triggers: Triggers = { start: ['KVM internal error\\.'] };
  readonly platform = 'generic' as const;
  private report?: CrashReport;
  private lines = 0;

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    const header = HEADER.exec(line);
    if (header) {
      if (this.report && Object.keys(this.report.registers).length === 0) return; // another vCPU, same crash
      this.flush();
      const emulation = header[1] === '1';
      this.report = {
        platform: 'generic',
        kind: emulation ? 'emulation-failure' : 'trap',
        message: emulation ? 'KVM internal error: emulation failure' : `KVM internal error, suberror ${header[1]}`,
        line: lineNo,
        registers: {},
        frames: [],
      };
      this.lines = 0;
      return;
    }
    const report = this.report;
    if (!report) return;
    if (++this.lines > MAX_DUMP_LINES) {
      this.flush();
      return;
    }
    if (EMULATION.test(line)) {
      report.kind = 'emulation-failure';
      return;
    }
    const regs = parseEqualsRegisters(line);
    if (regs) {
      // A second dump (the next vCPU) does not overwrite the first one's state.
      for (const [name, value] of Object.entries(regs)) if (!(name in report.registers)) report.registers[name] = value;
      return;
    }
    if (!DUMP.test(line)) this.flush();
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    const reg = report.registers.rip !== undefined ? 'rip' : report.registers.eip !== undefined ? 'eip' : undefined;
    if (reg) {
      const frame = frameAt(report.registers[reg]);
      if (frame) report.frames.push(frame);
      report.message += ` at ${reg} ${report.registers[reg]}`;
    }
    this.emit({ report });
  }
}
