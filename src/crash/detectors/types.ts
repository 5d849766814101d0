/**
 * What a crash detector is: it reads console lines one by one and reports the crashes it recognises.
 */
import type { CrashReport, Platform } from '../report';

export interface DetectedCrash {
  report: CrashReport;
  /**
   * A consequence that is usually printed after a crash another line already
   * reported (`solo5_exit(2)` after an OCaml exception, `halted` after a
   * panic). Reported only when no crash came just before it.
   */
  followUp?: boolean;
}

export type Emit = (crash: DetectedCrash) => void;

/**
 * What the collector knows about the whole log, shared read-only with every
 * detector: lines one platform prints may mean something else on another.
 */
export interface LogContext {
  /** Whose boot banner began the current run; undefined before any banner or after a bare machine reset. */
  readonly run: Platform | undefined;
  /** The platforms whose detectors run over this log. */
  readonly platforms: ReadonlySet<Platform>;
}

/**
 * The lines that can change the state of a detector holding nothing (`pending`
 * false). The collector joins every detector's triggers into one pattern and
 * skips all detectors for a line that matches none of them while nothing is
 * pending: most console lines need no detector at all. A detector without
 * triggers is fed every line.
 */
export interface Triggers {
  /** Pattern sources matched at the start of a clean line, case-sensitive. */
  readonly start: readonly string[];
  /** The same, case-insensitive. */
  readonly startIgnoreCase?: readonly string[];
  /** Pattern sources matched anywhere in the line, case-insensitive (keep these few and literal). */
  readonly anywhere?: readonly string[];
}

/** A detector's constructor; the context is absent when a detector is used alone. */
export type DetectorClass = (new (emit: Emit, context?: LogContext) => Detector) & { readonly triggers?: Triggers };

/**
 * A small state machine fed one clean console line at a time. Lines arrive with
 * prefixes, escapes and surrounding blanks already removed; blank lines are not fed.
 */
export interface Detector {
  readonly platform: Platform;
  /** True while it holds a crash that later lines may still add to. */
  readonly pending: boolean;
  feed(line: string, lineNo: number): void;
  /** End of input (or a quiet console): emits what is pending. */
  flush(): void;
}

/** Most frames a report keeps; stack walks on a corrupted stack can run long. */
export const MAX_FRAMES = 64;
/** Most lines a multi-line crash may span before it is closed anyway. */
export const MAX_CRASH_LINES = 400;
