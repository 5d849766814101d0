/**
 * Solo5 (the base of MirageOS unikernels on virtio/hvt/spt/xen).
 *   Solo5: trap: type=#PF ec=0x2 rip=0x105fe2 rsp=0x7ffffa0 rflags=0x206
 *   Solo5: trap: cr2=0x400000000
 *   Solo5: ABORT: cpu_x86_64.c:182: Fatal trap
 *   Solo5: ABORT: lib.c:120: Assertion `x' failed  |  Solo5: ABORT: Stack corruption detected
 *   Solo5: solo5_abort() called  |  Solo5: solo5_exit(2) called  |  Solo5: Halted
 * A trap, its cr2 line and the ABORT that follows are one crash.
 */
import { describePageFaultCode, frameAt, normalizeHex, trapFromMnemonic, type CrashKind, type CrashReport } from '../report';
import type { Detector, Emit, Triggers } from './types';

// `type=` on x86_64; other architectures print only register=value pairs.
const TRAP = /^Solo5: trap: (?:type=(\S+))?(.*)$/;
const CR2 = /^Solo5: trap: cr2=(?:0x)?([0-9a-fA-F]+)/;
const ABORT = /^Solo5: ABORT: (?:(\S+?):(\d+): )?(.*)$/;
const ABORT_CALLED = /^Solo5: solo5_abort\(\) called/;
const EXIT = /^Solo5: solo5_exit\((-?\d+)\) called/;
const KEY_VALUE = /\b([a-z0-9]+)=(?:0x)?([0-9a-fA-F]+)\b/g;

export class Solo5Detector implements Detector {
  // Other Solo5 lines only close a pending trap.
  static readonly triggers: Triggers = { start: ['Solo5: (?:trap:|ABORT:|solo5_abort\\(\\)|solo5_exit\\()'] };
  readonly platform = 'solo5' as const;
  private trap?: CrashReport;
  private trapType = '';

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.trap !== undefined;
  }

  feed(line: string, lineNo: number): void {
    if (!line.startsWith('Solo5:')) {
      this.flush();
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = CR2.exec(line))) {
      if (this.trap) {
        this.trap.registers.cr2 = normalizeHex(m[1]) as string;
        this.trap.message = trapMessage(this.trap, this.trapType);
      }
      return;
    }
    if ((m = TRAP.exec(line))) {
      this.flush();
      this.trapType = m[1] ?? '';
      this.trap = trapReport(this.trapType, m[2], lineNo);
      return;
    }
    if ((m = ABORT.exec(line))) {
      const file = m[1];
      const fileLine = m[2] === undefined ? undefined : Number(m[2]);
      const text = m[3].trim();
      if (this.trap) {
        // The ABORT that closes a trap adds nothing: its file:line is Solo5's trap handler, not the fault.
        this.flush();
        return;
      }
      const report = abortReport(text, lineNo, file, fileLine);
      // `Fatal trap` without its trap lines (cut log) still marks a crash, but one a trap line may already have reported.
      this.emit({ report, followUp: /^Fatal trap/i.test(text) });
      return;
    }
    this.flush();
    if (ABORT_CALLED.test(line)) {
      this.emit({ report: base('abort', 'solo5_abort() called', lineNo), followUp: true });
      return;
    }
    if ((m = EXIT.exec(line))) {
      const code = Number(m[1]);
      if (code !== 0) {
        this.emit({ report: base('exit', `solo5_exit(${code}) called: the unikernel exited with status ${code}`, lineNo), followUp: true });
      }
    }
  }

  flush(): void {
    const trap = this.trap;
    if (!trap) return;
    this.trap = undefined;
    this.emit({ report: trap });
  }
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'solo5', kind, message, line, registers: {}, frames: [] };
}

function trapReport(type: string, rest: string, lineNo: number): CrashReport {
  const info = trapFromMnemonic(type);
  const report = base(info.kind, '', lineNo);
  for (const kv of rest.matchAll(KEY_VALUE)) {
    const value = normalizeHex(kv[2]);
    if (value !== undefined) report.registers[kv[1].toLowerCase()] = value;
  }
  const pc = report.registers.rip ?? report.registers.pc ?? report.registers.elr;
  const frame = pc ? frameAt(pc) : undefined;
  if (frame) report.frames.push(frame);
  report.message = trapMessage(report, type);
  return report;
}

function trapMessage(report: CrashReport, type: string): string {
  const r = report.registers;
  if (!type) return `Fatal trap${r.rip ? ` at rip ${r.rip}` : ''}`;
  const info = trapFromMnemonic(type);
  const name = `${info.name[0].toUpperCase()}${info.name.slice(1)} (${type})`;
  if (info.kind === 'page-fault') {
    const what = describePageFaultCode(r.ec);
    const target = r.cr2 ? ` accessing ${r.cr2}` : '';
    return `${name}${target} at rip ${r.rip ?? '?'}${what ? ` (${what})` : ''}`;
  }
  return `${name} at rip ${r.rip ?? '?'}${r.ec && r.ec !== '0x0' ? `, error code ${r.ec}` : ''}`;
}

function abortReport(text: string, lineNo: number, file?: string, fileLine?: number): CrashReport {
  let kind: CrashKind = 'abort';
  if (/stack corruption|stack smash|stack_chk/i.test(text)) kind = 'stack-smash';
  else if (/^Assertion\b.*\bfailed/i.test(text)) kind = 'assertion';
  const report = base(kind, text || 'ABORT', lineNo);
  if (file) report.source = { file, line: fileLine };
  return report;
}
