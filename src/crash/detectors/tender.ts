/**
 * The process that runs the guest (Solo5's hvt tender, ukvm-bin and nabla's
 * runnc before it, or QEMU) killed by a signal, as the shell or a test runner
 * reports it in the same log:
 *   Floating point exception            (SIGFPE: on x86 an integer divide error)
 *   Illegal instruction                 (SIGILL)
 *   -------- test_blk.ukvm END (status 136) --------    exit status 128 + signal
 * The platform is the run's (Solo5 for a tender), generic when unknown.
 */
import type { CrashKind, CrashReport, Platform } from '../report';
import type { Detector, Emit, LogContext, Triggers } from './types';

// What the shell prints for a process killed by a signal (bash, dash), optionally `(core dumped)`.
const KILLED = /^(Floating point exception|Illegal instruction)(?: \(core dumped\))?\s*$/;
// `(status 136)`, `exit status 136`, `exited with code 136`: 128 + SIGILL/SIGABRT/SIGFPE.
const STATUS = /(?:\bexit(?:ed with)? (?:status|code)|\(status)\s*:?\s*(13[246])\b/i;

const BY_SIGNAL: Record<string, { kind: CrashKind; what: string }> = {
  'Floating point exception': { kind: 'divide-error', what: 'SIGFPE, a divide error' },
  'Illegal instruction': { kind: 'invalid-opcode', what: 'SIGILL, an invalid opcode' },
};
const BY_STATUS: Record<string, { kind: CrashKind; signal: string }> = {
  '132': { kind: 'invalid-opcode', signal: 'SIGILL' },
  '134': { kind: 'abort', signal: 'SIGABRT' },
  '136': { kind: 'divide-error', signal: 'SIGFPE' },
};

export class TenderDetector implements Detector {
  static readonly triggers: Triggers = {
    start: ['Floating point exception', 'Illegal instruction'],
    anywhere: ['status\\s*:?\\s*13[246]', 'code\\s*:?\\s*13[246]'],
  };
  readonly platform = 'solo5' as const;
  readonly pending = false; // one line each; nothing is held

  constructor(
    private readonly emit: Emit,
    private readonly context?: LogContext,
  ) {}

  feed(line: string, lineNo: number): void {
    let m = KILLED.exec(line);
    if (m) {
      const { kind, what } = BY_SIGNAL[m[1]];
      this.emit({ report: base(this.owner(), kind, `${m[1]}: the process running the guest was killed by ${what}`, lineNo) });
      return;
    }
    m = STATUS.exec(line);
    if (m) {
      // The status that follows a signal report (or a crash a detector already reported) says nothing new.
      const { kind, signal } = BY_STATUS[m[1]];
      this.emit({ report: base(this.owner(), kind, `exit status ${m[1]}: the process running the guest was killed by ${signal}`, lineNo), followUp: true });
    }
  }

  flush(): void {
    // Nothing is held between lines.
  }

  private owner(): Platform {
    return this.context?.run === 'solo5' ? 'solo5' : 'generic';
  }
}

function base(platform: Platform, kind: CrashKind, message: string, line: number): CrashReport {
  return { platform, kind, message, line, registers: {}, frames: [] };
}
