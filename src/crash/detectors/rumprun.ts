/**
 * Rumprun (bmk platform + NetBSD rump kernel + libc).
 *   FATAL TRAP: page fault at 0x110cc7 (0x0)          cpu_fattrap(name, rip, cr2): the value in parentheses is cr2
 *   general protection at 0x34e0a1 (0x0)               the same, as some builds print it
 *   trap: #UD                                          older bmk: one line per trap, repeated while the trap repeats
 *   FATAL pagefault at address 0x0 (rip 0x110cc7)      older bmk page-fault handler
 *   PANIC: <text>  …  halted                           bmk_platform_halt()
 *   PANIC: assert "x" FAILED                           bmk's own assertions
 *   panic: kernel diagnostic assertion "x" failed: file "f.c", line 12     NetBSD panic()
 *   assertion "x" failed: file "f.c", line 14, function "g"               libc assert()
 *   cannot handle page request order 2/0x0!            bmk's page allocator is out of memory
 *   _lwpabort() called                                 abort(): raise() reaches _lwp_kill, an alias of _lwpabort
 *   === ERROR: _exit(1) called ===   (=== _exit(0) called === is a clean exit)
 * The guest stays alive after a crash, so one crash is closed by the line that
 * is no longer part of it; messages that merely follow a crash (the `_exit(1)`
 * of an abort, the `PANIC: rumpuser panic` of a rump kernel panic) are follow-ups.
 */
import { frameAt, normalizeHex, trapFromMnemonic, trapFromName, vectorFromName, type CrashKind, type CrashReport } from '../report';
import { BARE_PANIC, takesBarePanics } from './barePanic';
import type { Detector, Emit, LogContext, Triggers } from './types';

// Greedy `.*` anchored at both ends: one pass, no quadratic backtracking on long lines.
const FATAL_TRAP = /^(FATAL TRAP:? ?)?(.*) at (?:0x)?([0-9a-fA-F]+)(?: \((?:0x)?([0-9a-fA-F]+)\))?\s*$/;
const BARE_TRAP = /^trap: (#\w+)\s*$/;
const FATAL_PAGEFAULT = /^FATAL pagefault at address (?:0x)?([0-9a-fA-F]+)\s*\(rip (?:0x)?([0-9a-fA-F]+)\)/;
const BMK_PANIC = /^PANIC: (.*)$/;
const BMK_ASSERT = /^assert "(.*)" FAILED/;
const NETBSD_PANIC = /^panic: (.*)$/;
const KERNEL_ASSERT = /assertion "(.*)" failed: file "([^"]+)", line (\d+)/;
const LIBC_ASSERT = /^assertion "(.*)" failed: file "([^"]+)", line (\d+)(?:, function "([^"]*)")?/;
const OUT_OF_PAGES = /^cannot handle page request order (\d+)/;
const LWP_ABORT = /^_lwpabort\(\) called/;
/** A trap line without `FATAL TRAP:` starts with the trap's name, as the prefilter's trigger says. */
const BARE_TRAP_NAME = /^[a-z][a-z0-9 -]{1,40} at (?:0x)?[0-9a-f]+ \(/i;
const EXIT_ERROR = /^=== ERROR: _exit\((-?\d+)\) called ===/;
/** Lines after an out-of-memory message within which a panic is its consequence. */
const CAUSE_WINDOW = 5;

export class RumprunDetector implements Detector {
  static readonly triggers: Triggers = {
    start: ['FATAL ', 'trap: #', 'PANIC: ', 'panic: ', 'assertion "', 'cannot handle page request order ', '_lwpabort\\(\\) called', '=== ERROR: _exit\\('],
    // `general protection at 0x34e0a1 (0x0)`: a trap name, in any case.
    startIgnoreCase: ['[a-z][a-z0-9 -]{1,40} at (?:0x)?[0-9a-f]+ \\('],
  };
  readonly platform = 'rumprun' as const;
  pending = false; // every rumprun crash is one line; nothing is held
  private lastTrap?: { text: string; lineNo: number }; // a repeating `trap: #XX` line is one crash
  private outOfPages?: { text: string; lineNo: number };

  constructor(
    private readonly emit: Emit,
    private readonly context?: LogContext,
  ) {}

  feed(line: string, lineNo: number): void {
    let m: RegExpExecArray | null;
    // Outside a Rumprun run, a bare panic is a generic kernel's (see barePanic.ts).
    if (BARE_PANIC.test(line) && !takesBarePanics('rumprun', this.context)) return;
    if ((m = BARE_TRAP.exec(line))) {
      const last = this.lastTrap;
      this.lastTrap = { text: line, lineNo };
      if (last && last.text === line && lineNo - last.lineNo <= 2) return;
      const info = trapFromMnemonic(m[1]);
      this.emit({ report: base(info.kind, `Trap ${m[1]} (${info.name})`, lineNo) });
      return;
    }
    if ((m = FATAL_TRAP.exec(line)) && (m[1] !== undefined || (m[4] !== undefined && BARE_TRAP_NAME.test(line) && vectorFromName(m[2].trim()) !== undefined))) {
      this.emit({ report: fatalTrap(m[2].trim(), m[3], m[4], lineNo) });
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
    if ((m = OUT_OF_PAGES.exec(line))) {
      this.outOfPages = { text: line.replace(/!\s*$/, ''), lineNo };
      return;
    }
    if ((m = NETBSD_PANIC.exec(line))) {
      const text = m[1].trim();
      const assert = KERNEL_ASSERT.exec(text);
      const cause = this.outOfPages && lineNo - this.outOfPages.lineNo <= CAUSE_WINDOW ? this.outOfPages : undefined;
      this.outOfPages = undefined;
      // The allocator's message came first: the panic is its consequence, and the crash starts there.
      const report = cause
        ? base('out-of-memory', `panic: ${text} (${cause.text}: out of memory)`, cause.lineNo)
        : base(assert ? 'assertion' : 'panic', text, lineNo);
      if (assert) report.source = { file: assert[2], line: Number(assert[3]) };
      this.emit({ report });
      return;
    }
    if ((m = BMK_PANIC.exec(line))) {
      const text = m[1].trim();
      const assert = BMK_ASSERT.exec(text);
      // After a rump kernel panic the platform halts with a generic `PANIC: rumpuser panic`.
      this.emit({ report: base(assert ? 'assertion' : 'panic', text, lineNo), followUp: /^rumpuser panic$/i.test(text) });
      return;
    }
    if ((m = LIBC_ASSERT.exec(line))) {
      const report = base('assertion', line, lineNo);
      report.source = { file: m[2], line: Number(m[3]), ...(m[4] ? { function: m[4] } : {}) };
      this.emit({ report });
      return;
    }
    if (LWP_ABORT.test(line)) {
      this.emit({ report: base('abort', '_lwpabort() called: the program aborted (abort(), or a signal sent with _lwp_kill)', lineNo) });
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

function base(kind: CrashKind, message: string, line: number): CrashReport {
  return { platform: 'rumprun', kind, message, line, registers: {}, frames: [] };
}

/** `FATAL TRAP: <name> at <rip> (<cr2>)`. */
function fatalTrap(name: string, rip: string, cr2: string | undefined, lineNo: number): CrashReport {
  const report = base(trapFromName(name).kind, '', lineNo);
  report.registers.rip = normalizeHex(rip) as string;
  if (cr2 !== undefined) report.registers.cr2 = normalizeHex(cr2) as string;
  const where = report.kind === 'page-fault' && cr2 !== undefined ? ` accessing ${report.registers.cr2}` : '';
  report.message = `Fatal trap: ${name}${where} at rip ${report.registers.rip}${cr2 !== undefined && !where ? ` (cr2 ${report.registers.cr2})` : ''}`;
  pushFrame(report, report.registers.rip);
  return report;
}

function pushFrame(report: CrashReport, address: string): void {
  const frame = frameAt(address);
  if (frame) report.frames.push(frame);
}
