/**
 * Runs every platform's detector over the same lines and merges what they
 * find into one list of crash reports in log order, one report per crash.
 */
import { cleanLine } from './lineCleaner';
import { bootMarker } from './bootMarkers';
import type { CrashReport, Platform } from './report';
import type { DetectedCrash, Detector, DetectorClass, Emit } from './detectors/types';
import { Solo5Detector } from './detectors/solo5';
import { OcamlDetector } from './detectors/ocaml';
import { RumprunDetector } from './detectors/rumprun';
import { UnikraftDetector } from './detectors/unikraft';
import { XenDetector } from './detectors/xen';
import { GenericDetector } from './detectors/generic';
import { KernelPanicDetector } from './detectors/kernelPanic';

/** Longest line detectors look at; crash lines are short, and this bounds the cost of every pattern. */
const MAX_DETECT_CHARS = 4096;

export interface CrashCollectorOptions {
  /** Called for each crash as soon as it is complete, in the order found. */
  onCrash?: (report: CrashReport) => void;
  /** Detectors to run (default: all). */
  platforms?: readonly Platform[];
  /**
   * A follow-up (exit status, halt, abort notice) this many lines or fewer after
   * a crash belongs to that crash and is not reported again (default 100).
   */
  followUpWindow?: number;
  /** Most reports kept in `reports` (default 1000); later ones still reach onCrash. */
  maxReports?: number;
}

const DETECTORS: Record<Platform, readonly DetectorClass[]> = {
  solo5: [Solo5Detector],
  mirage: [OcamlDetector],
  rumprun: [RumprunDetector],
  unikraft: [UnikraftDetector],
  xen: [XenDetector],
  generic: [GenericDetector, KernelPanicDetector],
};

export class CrashCollector {
  private readonly detectors: Detector[];
  private readonly onCrash?: (report: CrashReport) => void;
  private readonly followUpWindow: number;
  private readonly maxReports: number;
  private readonly found: CrashReport[] = [];
  private batch: DetectedCrash[] = [];
  private deferred: DetectedCrash[] = [];
  private lastCrashLine = Number.NEGATIVE_INFINITY; // where the last crash was complete
  private lastCrashStart = Number.NEGATIVE_INFINITY; // where the last crash began
  private lastLineNo = 0;
  private recent = new Map<string, number>(); // line:kind of recent reports, against double reports
  private dropped = 0;
  // Shared with the detectors (as a read-only LogContext); `run` changes at each boot banner.
  private readonly context: { run: Platform | undefined; readonly platforms: ReadonlySet<Platform> };

  constructor(options: CrashCollectorOptions = {}) {
    this.onCrash = options.onCrash;
    this.followUpWindow = options.followUpWindow ?? 100;
    this.maxReports = options.maxReports ?? 1000;
    const platforms = new Set(options.platforms ?? (Object.keys(DETECTORS) as Platform[]));
    const emit: Emit = (crash) => this.batch.push(crash);
    this.context = { run: undefined, platforms };
    this.detectors = [...platforms].flatMap((p) => DETECTORS[p].map((D) => new D(emit, this.context)));
  }

  /** Reports found so far, in the order they completed (see `sorted()` for log order). */
  get reports(): readonly CrashReport[] {
    return this.found;
  }

  /** Reports found so far, in log order. */
  sorted(): CrashReport[] {
    return [...this.found].sort((a, b) => a.line - b.line);
  }

  /** Reports not kept because `maxReports` was reached. */
  get droppedReports(): number {
    return this.dropped;
  }

  /** True while some detector holds a crash that later lines may still complete. */
  get pending(): boolean {
    return this.detectors.some((d) => d.pending) || this.deferred.length > 0;
  }

  /** Number of the last line fed. */
  get lineNo(): number {
    return this.lastLineNo;
  }

  /**
   * Feeds one console line (raw or clean; prefixes and escapes are removed here).
   * `lineNo` is 1-based; by default it counts the lines fed.
   */
  feed(line: string, lineNo?: number): void {
    const n = lineNo ?? this.lastLineNo + 1;
    this.lastLineNo = n;
    const raw = line.length > 4 * MAX_DETECT_CHARS ? line.slice(0, 4 * MAX_DETECT_CHARS) : line;
    let text = cleanLine(raw);
    if (text.length === 0) return;
    if (text.length > MAX_DETECT_CHARS) text = text.slice(0, MAX_DETECT_CHARS);
    try {
      const boot = bootMarker(text);
      if (boot) {
        // A new run: whatever was pending belongs to the previous one.
        for (const d of this.detectors) d.flush();
        this.settle(n - 1);
        this.settleDeferred(true);
        this.lastCrashLine = Number.NEGATIVE_INFINITY;
        this.lastCrashStart = Number.NEGATIVE_INFINITY;
        this.context.run = boot.platform;
      }
      for (const d of this.detectors) d.feed(text, n);
    } catch {
      // A detector bug must never take the debugger down; the line is skipped.
    }
    this.settle(n);
  }

  /**
   * Emits every crash still pending. Call at the end of input, or when a live
   * console has been quiet for a while (a crashed guest prints nothing more).
   */
  flush(): void {
    try {
      for (const d of this.detectors) d.flush();
    } catch {
      // See feed().
    }
    this.settle(this.lastLineNo);
    this.settleDeferred(true);
  }

  private settle(lineNo: number): void {
    if (this.batch.length === 0) {
      this.settleDeferred(false);
      return;
    }
    // Within one line, crashes go before the follow-ups they explain.
    const batch = this.batch.sort((a, b) => Number(a.followUp ?? false) - Number(b.followUp ?? false));
    this.batch = [];
    for (const crash of batch) {
      if (crash.followUp) this.deferred.push(crash);
      else this.accept(crash.report, lineNo);
    }
    this.settleDeferred(false);
  }

  /**
   * Follow-ups wait while another detector is still collecting a crash, which
   * may turn out to be the one they follow.
   */
  private settleDeferred(force: boolean): void {
    if (this.deferred.length === 0) return;
    if (!force && this.detectors.some((d) => d.pending)) return;
    const deferred = this.deferred;
    this.deferred = [];
    for (const crash of deferred) {
      const explained = crash.report.line - this.lastCrashLine <= this.followUpWindow && crash.report.line >= this.lastCrashStart;
      if (!explained) this.accept(crash.report, crash.report.line);
    }
  }

  private accept(report: CrashReport, seenAt: number): void {
    const key = `${report.line}:${report.kind}`;
    if (this.recent.has(key)) return;
    this.recent.set(key, report.line);
    if (this.recent.size > 256) this.recent.delete(this.recent.keys().next().value as string);
    this.lastCrashLine = Math.max(this.lastCrashLine, seenAt);
    this.lastCrashStart = Math.max(this.lastCrashStart, report.line);
    if (this.found.length < this.maxReports) this.found.push(report);
    else this.dropped++;
    try {
      this.onCrash?.(report);
    } catch {
      // A consumer's exception is the consumer's problem; keep collecting.
    }
  }
}

/** Crash reports in a whole log (text, or lines), in log order. */
export function analyzeLog(log: string | Iterable<string>, options: Omit<CrashCollectorOptions, 'onCrash'> = {}): CrashReport[] {
  const collector = new CrashCollector(options);
  const lines = typeof log === 'string' ? splitLines(log) : log;
  let n = 0;
  for (const line of lines) collector.feed(line, ++n);
  collector.flush();
  return collector.sorted();
}

/** Lines of a text by the same rule as the console reader: LF, CRLF or a lone CR. */
export function* splitLines(text: string): Generator<string> {
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    yield text.slice(start, i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    start = i + 1;
  }
  if (start < n) yield text.slice(start);
}
