/**
 * Unikraft.
 *   CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0
 *   RIP: 0000000000104a3b CS: 0008        (also with the CRIT prefix, or `RIP: 0008:…`)
 *   RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246
 *   RAX: … RBX: … RCX: …   (RDX/RSI/RDI, RBP/R08/R09, R10/R11/R12, R13/R14/R15)
 *   base is 0x1ffe90 caller is 0x10612c
 *   CRIT: [libkvmplat] <traps.c @ 86> Crashing
 *   CRIT: [app] <main.c @ 11> Assertion failure: x == 1
 * Newer versions put `[    0.105617] ` before the level; the collector strips it.
 */
import { frameAt, normalizeHex, trapFromName, trapFromVector, type CrashReport } from '../report';
import { parseColonRegisters, parseStackWalk } from './registerDump';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit } from './types';

const LOG = /^(CRIT|ERR|WARN|INFO|DBG|Crit|Err|Warn|Info|Dbg)\s*:\s*(?:\{[^}]*\}\s*)?\[([^\]]*)\]\s*(?:<\s*([^>@]+?)\s*@\s*(\d+)\s*>\s*)?(.*)$/;
const UNHANDLED_TRAP = /^Unhandled Trap (\d+) \(([^)]*)\)(?:, error code=(?:0x)?([0-9a-fA-F]+))?/;
const PAGE_FAULT = /^Unhandled page fault (?:vaddr|at)=?\s*(?:0x)?([0-9a-fA-F]+)(?:,? error code=(?:0x)?([0-9a-fA-F]+))?/;
const ASSERTION = /^Assertion failure: (.*)$/;
const CRASHING = /^Crashing\b/;
const HALT = /^(?:Halting system|Unikraft halted|Shutting down)/i;

export class UnikraftDetector implements Detector {
  readonly platform = 'unikraft' as const;
  private report?: CrashReport;
  private lines = 0;
  // The last CRIT message: a UK_CRASH("…") prints it just before `Crashing`.
  private lastCrit?: { text: string; lineNo: number; file?: string; line?: number };

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(line: string, lineNo: number): void {
    const log = LOG.exec(line);
    const level = log ? log[1].toUpperCase() : undefined;
    const text = log ? log[5].trim() : line;
    const srcFile = log?.[3];
    const srcLine = log?.[4] === undefined ? undefined : Number(log[4]);

    if (this.report && ++this.lines > MAX_CRASH_LINES) this.flush();

    let m: RegExpExecArray | null;
    if (level === 'CRIT' || level === 'ERR' || !log) {
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
      if (log && (m = ASSERTION.exec(text))) {
        const report = base('assertion', `Assertion failure: ${m[1].trim()}`, lineNo);
        if (srcFile) report.source = { file: srcFile, line: srcLine };
        this.start(report);
        return;
      }
    }
    if (CRASHING.test(text) && (log || this.report)) {
      if (!this.report) {
        const crit = this.lastCrit && lineNo - this.lastCrit.lineNo <= 3 ? this.lastCrit : undefined;
        const report = base('panic', crit ? crit.text : 'Crashing', crit ? crit.lineNo : lineNo);
        if (crit?.file) report.source = { file: crit.file, line: crit.line };
        this.report = report;
      }
      this.flush();
      return;
    }
    if (this.report) {
      const regs = parseColonRegisters(text);
      if (regs) {
        Object.assign(this.report.registers, regs);
        if (regs.rip && this.report.frames.every((f) => f.returnAddress)) {
          const frame = frameAt(regs.rip);
          if (frame) this.report.frames.unshift(frame);
        }
        return;
      }
      const caller = parseStackWalk(text);
      if (caller !== undefined) {
        if (caller !== '0x0' && this.report.frames.length < MAX_FRAMES) {
          this.report.frames.push({ address: caller, returnAddress: true });
        }
        return;
      }
      if (HALT.test(text)) this.flush();
      // Memory dumps, disassembly and other lines between the dump and `Crashing` are skipped.
      return;
    }
    if (level === 'CRIT' && log && /^RIP:/.test(text)) {
      // A register dump without a header (a page fault handled by the newer trap code).
      const report = base('trap', 'CPU exception', lineNo);
      this.start(report);
      this.feed(line, lineNo);
      return;
    }
    if (level === 'CRIT') this.lastCrit = { text, lineNo, file: srcFile, line: srcLine };
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    this.lastCrit = undefined;
    if (report.kind === 'trap' && report.message === 'CPU exception' && report.registers.rip) {
      report.message = `CPU exception at rip ${report.registers.rip}`;
    }
    this.emit({ report });
  }

  private start(report: CrashReport): void {
    this.flush();
    this.report = report;
    this.lines = 0;
  }
}

function base(kind: string, message: string, line: number): CrashReport {
  return { platform: 'unikraft', kind, message, line, registers: {}, frames: [] };
}

function trapReport(vector: number, name: string, code: string | undefined, lineNo: number): CrashReport {
  const byName = trapFromName(name);
  const kind = byName.kind !== 'trap' ? byName.kind : trapFromVector(vector).kind;
  const report = base(kind, `Unhandled Trap ${vector} (${name})${code !== undefined ? `, error code=0x${code.toLowerCase()}` : ''}`, lineNo);
  if (code !== undefined) report.registers.ec = normalizeHex(code) as string;
  return report;
}
