/**
 * Mini-OS (Xen PV guests, and unikernels built on it) and the Xen hypervisor's
 * own report of a crashed domain.
 *   Page fault at linear address 0, rip 4a3b, regs 0x7fe28, sp 7fe78, our_sp 0x7fe10, code 2
 *   RIP: e030:[<0000000000004a3b>]
 *   RSP: e02b:000000000007fe78  EFLAGS: 00010246
 *   RAX: … RBX: … RCX: …
 *   base is 0x7fe98 caller is 0x2b41c
 *   Do_exit called!
 *   GPF rip: 4a3b, error_code=0  |  FATAL:  Unhandled Trap 6 (invalid opcode), error code=0x0
 *   BUG at mm.c:123  |  ASSERTION FAILED: x != NULL at sched.c:88.
 *   (XEN) Domain 1 (vcpu#0) crashed on cpu#0:  then `(XEN) RIP: e033:[<…>]`, `rax: … rbx: …`
 */
import { frameAt, normalizeHex, trapFromName, trapFromVector, type CrashKind, type CrashReport } from '../report';
import { parseColonRegisters, parseStackWalk } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type Triggers } from './types';

const HEX = '(?:0x)?([0-9a-fA-F]+)';
const PAGE_FAULT = new RegExp(`^Page fault at linear address ${HEX}, rip ${HEX}(?:, regs [^,]*)?(?:, sp ${HEX})?(?:, our_sp [^,]*)?(?:, code ${HEX})?`);
const GPF = new RegExp(`^GPF rip: ${HEX}, error_code=${HEX}`);
const UNHANDLED_TRAP = new RegExp(`^FATAL:\\s+Unhandled Trap (\\d+) \\(([^)]*)\\)(?:, error code=${HEX})?`);
const BUG = /^(?:Mini-OS: )?BUG at ([^\s:]+):(\d+)/;
const ASSERTION = /^ASSERTION FAILED: (.*) at ([^\s:]+):(\d+)\.?$/;
const DOMAIN_CRASH = /^Domain (\d+) \(vcpu#(\d+)\) crashed on cpu#(\d+)/;
const DO_EXIT = /^Do_exit called!?/i;

export class XenDetector implements Detector {
  static readonly triggers: Triggers = {
    start: ['Page fault at linear address ', 'GPF rip: ', 'FATAL:\\s+Unhandled Trap ', '(?:Mini-OS: )?BUG at ', 'ASSERTION FAILED: ', 'Domain \\d+ \\(vcpu#'],
  };
  readonly platform = 'xen' as const;
  private report?: CrashReport;
  private lines = 0;
  private hypervisor = false; // the report is the hypervisor's register dump, which ends at its first non-register line
  private sawRegisters = false;

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    if (this.report && ++this.lines > MAX_CRASH_LINES) this.flush();
    let m: RegExpExecArray | null;
    if ((m = PAGE_FAULT.exec(line))) {
      const report = base('page-fault', '', lineNo);
      const regs = report.registers;
      regs.cr2 = normalizeHex(m[1]) as string;
      regs.rip = normalizeHex(m[2]) as string;
      if (m[3] !== undefined) regs.rsp = normalizeHex(m[3]) as string;
      if (m[4] !== undefined) regs.ec = normalizeHex(m[4]) as string;
      report.message = `Page fault accessing ${regs.cr2} at rip ${regs.rip}${regs.ec ? `, error code ${regs.ec}` : ''}`;
      this.start(report, regs.rip);
      return;
    }
    if ((m = GPF.exec(line))) {
      const report = base('general-protection', '', lineNo);
      report.registers.rip = normalizeHex(m[1]) as string;
      report.registers.ec = normalizeHex(m[2]) as string;
      report.message = `General protection fault at rip ${report.registers.rip}, error code ${report.registers.ec}`;
      this.start(report, report.registers.rip);
      return;
    }
    if ((m = UNHANDLED_TRAP.exec(line))) {
      const byName = trapFromName(m[2]);
      const kind = byName.kind !== 'trap' ? byName.kind : trapFromVector(Number(m[1])).kind;
      const report = base(kind, `Unhandled Trap ${m[1]} (${m[2]})${m[3] !== undefined ? `, error code=0x${m[3].toLowerCase()}` : ''}`, lineNo);
      if (m[3] !== undefined) report.registers.ec = normalizeHex(m[3]) as string;
      this.start(report);
      return;
    }
    if ((m = BUG.exec(line))) {
      const report = base('panic', line, lineNo);
      report.source = { file: m[1], line: Number(m[2]) };
      this.start(report);
      return;
    }
    if ((m = ASSERTION.exec(line))) {
      const report = base('assertion', `Assertion failed: ${m[1]}`, lineNo);
      report.source = { file: m[2], line: Number(m[3]) };
      this.start(report);
      return;
    }
    if ((m = DOMAIN_CRASH.exec(line))) {
      // The hypervisor crashed the domain, most often for a fault the guest could not handle.
      this.start(base('trap', `Domain ${m[1]} (vcpu ${m[2]}) crashed`, lineNo));
      this.hypervisor = true;
      return;
    }
    const report = this.report;
    if (!report) return;
    if (DO_EXIT.test(line)) {
      // do_exit() walks its own stack next; those frames are not the crash's.
      this.flush();
      return;
    }
    const regs = parseColonRegisters(line);
    if (regs) {
      Object.assign(report.registers, regs);
      this.sawRegisters = true;
      if (regs.rip && !report.frames.some((f) => !f.returnAddress)) {
        const frame = frameAt(regs.rip);
        if (frame) report.frames.unshift(frame);
      }
      return;
    }
    const caller = parseStackWalk(line);
    if (caller !== undefined) {
      if (caller !== '0x0' && report.frames.length < MAX_FRAMES) report.frames.push({ address: caller, returnAddress: true });
      return;
    }
    // The hypervisor's dump is a fixed block: a line that is not part of it ends it.
    if (this.hypervisor && this.sawRegisters && !/^(?:CPU:|----\[|Xen stack|Guest stack|Xen call trace)/.test(line)) this.flush();
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    this.emit({ report });
  }

  private start(report: CrashReport, pc?: string): void {
    this.flush();
    this.report = report;
    this.lines = 0;
    this.hypervisor = false;
    this.sawRegisters = false;
    const frame = pc ? frameAt(pc) : undefined;
    if (frame) report.frames.push(frame);
  }
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'xen', kind, message, line, registers: {}, frames: [] };
}
