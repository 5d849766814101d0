/**
 * Rumprun (bmk platform + NetBSD rump kernel + libc).
 *   FATAL TRAP: page fault at 0x110cc7 (0x0)          bmk trap handler: rip, then the error code
 *   FATAL pagefault at address 0x0 (rip 0x110cc7)      older bmk page-fault handler
 *   PANIC: <text>  …  halted                           bmk_platform_halt()
 *   panic: kernel diagnostic assertion "x" failed: file "f.c", line 12     NetBSD panic()
 *   assertion "x" failed: file "f.c", line 14, function "g"               libc assert()
 *   === ERROR: _exit(1) called ===   (=== _exit(0) called === is a clean exit)
 * The guest stays alive after a crash, so one crash is closed by the line that
 * is no longer part of it; messages that merely follow a crash are follow-ups.
 */
import { frameAt, normalizeHex, trapFromName, type CrashReport } from '../report';
import { BARE_PANIC, takesBarePanics } from './barePanic';
import type { Detector, Emit, LogContext } from './types';

// Greedy `.*` anchored at both ends: one pass, no quadratic backtracking on long lines.
const FATAL_TRAP = /^FATAL TRAP:? ?(.*) at (?:0x)?([0-9a-fA-F]+)(?: \((?:0x)?([0-9a-fA-F]+)\))?\s*$/;
const FATAL_PAGEFAULT = /^FATAL pagefault at address (?:0x)?([0-9a-fA-F]+)\s*\(rip (?:0x)?([0-9a-fA-F]+)\)/;
const BMK_PANIC = /^PANIC: (.*)$/;
const NETBSD_PANIC = /^panic: (.*)$/;
const KERNEL_ASSERT = /assertion "(.*)" failed: file "([^"]+)", line (\d+)/;
const LIBC_ASSERT = /^assertion "(.*)" failed: file "([^"]+)", line (\d+)(?:, function "([^"]*)")?/;
const EXIT_ERROR = /^=== ERROR: _exit\((-?\d+)\) called ===/;

export class RumprunDetector implements Detector {
  readonly platform = 'rumprun' as const;
  pending = false; // every rumprun crash is one line; nothing is held

  constructor(
    private readonly emit: Emit,
    private readonly context?: LogContext,
  ) {}

  feed(line: string, lineNo: number): void {
    let m: RegExpExecArray | null;
    // Outside a Rumprun run, a bare panic is a generic kernel's (see barePanic.ts).
    if (BARE_PANIC.test(line) && !takesBarePanics('rumprun', this.context)) return;
    if ((m = FATAL_TRAP.exec(line))) {
      const name = m[1].trim();
      const info = trapFromName(name);
      const report = base(info.kind, '', lineNo);
      report.registers.rip = normalizeHex(m[2]) as string;
      if (m[3] !== undefined) report.registers.ec = normalizeHex(m[3]) as string;
      report.message = `Fatal trap: ${name} at rip ${report.registers.rip}${m[3] !== undefined ? ` (error code ${report.registers.ec})` : ''}`;
      pushFrame(report, report.registers.rip);
      this.emit({ report });
      return;
    }
    if ((m = FATAL_PAGEFAULT.exec(line))) {
      const report = base('page-fault', '', lineNo);
      report.registers.cr2 = normalizeHex(m[1]) as string;
      report.registers.rip = normalizeHex(m[2]) as string;
      report.message = `Page fault accessing ${report.registers.cr2} at rip ${report.registers.rip}`;
      pushFrame(report, report.registers.rip);
      this.emit({ report });
      return;
    }
    if ((m = NETBSD_PANIC.exec(line))) {
      const text = m[1].trim();
      const assert = KERNEL_ASSERT.exec(text);
      const report = base(assert ? 'assertion' : 'panic', text, lineNo);
      if (assert) report.source = { file: assert[2], line: Number(assert[3]) };
      this.emit({ report });
      return;
    }
    if ((m = BMK_PANIC.exec(line))) {
      // After a rump kernel panic the platform halts with a generic `PANIC: rumpuser panic`.
      this.emit({ report: base('panic', m[1].trim(), lineNo), followUp: /^rumpuser panic$/i.test(m[1].trim()) });
      return;
    }
    if ((m = LIBC_ASSERT.exec(line))) {
      const report = base('assertion', line, lineNo);
      report.source = { file: m[2], line: Number(m[3]), ...(m[4] ? { function: m[4] } : {}) };
      this.emit({ report });
      return;
    }
    if ((m = EXIT_ERROR.exec(line))) {
      const code = Number(m[1]);
      if (code !== 0) this.emit({ report: base('exit', `_exit(${code}) called: the program exited with status ${code}`, lineNo), followUp: true });
    }
  }

  flush(): void {
    // Nothing is held between lines.
  }
}

function base(kind: string, message: string, line: number): CrashReport {
  return { platform: 'rumprun', kind, message, line, registers: {}, frames: [] };
}

function pushFrame(report: CrashReport, address: string): void {
  const frame = frameAt(address);
  if (frame) report.frames.push(frame);
}
