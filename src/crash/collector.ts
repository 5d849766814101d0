/**
 * Runs every platform's detector over the same lines and merges what they
 * find into one list of crash reports in log order, one report per crash.
 */
import { cleanLine, stripPrefixes } from './lineCleaner';
import { bootMarker, CONTEXT_TRIGGERS, runHint } from './bootMarkers';
import type { CrashReport, Platform } from './report';
import type { DetectedCrash, Detector, DetectorClass, Emit } from './detectors/types';
import { Solo5Detector } from './detectors/solo5';
import { TenderDetector } from './detectors/tender';
import { OcamlDetector } from './detectors/ocaml';
import { RumprunDetector } from './detectors/rumprun';
import { UnikraftDetector } from './detectors/unikraft';
import { XenDetector } from './detectors/xen';
import { IncludeOsDetector } from './detectors/includeos';
import { GenericDetector } from './detectors/generic';
import { KernelPanicDetector } from './detectors/kernelPanic';
import { KvmDetector } from './detectors/kvm';
import { FaultDumpDetector } from './detectors/faultDump';
import { Prefilter } from './prefilter';

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
  /**
   * Skip the detectors for lines none of them can start a crash with while
   * nothing is pending (default true). Off only to check that it changes nothing.
   */
  prefilter?: boolean;
}

const DETECTORS: Record<Platform, readonly DetectorClass[]> = {
  solo5: [Solo5Detector, TenderDetector],
  mirage: [OcamlDetector],
  rumprun: [RumprunDetector],
  unikraft: [UnikraftDetector],
  xen: [XenDetector],
  includeos: [IncludeOsDetector],
  generic: [GenericDetector, KernelPanicDetector, KvmDetector, FaultDumpDetector],
};

export class CrashCollector {
  private readonly detectors: Detector[];
  private readonly prefilter?: Prefilter;
  private anyPending = false; // some detector holds a crash (kept up to date after every feed and flush)
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
    const classes = [...platforms].flatMap((p) => DETECTORS[p]);
    this.detectors = classes.map((D) => new D(emit, this.context));
    if (options.prefilter !== false) this.prefilter = Prefilter.for([CONTEXT_TRIGGERS, ...classes.map((D) => D.triggers)]);
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
    return this.anyPending || this.deferred.length > 0;
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
    this.feedClean(cleanLine(capped(line)), lineNo);
  }

  /** Feeds a line whose escape sequences and control characters are already gone (ConsoleReader's lines). */
  feedStripped(line: string, lineNo?: number): void {
    this.feedClean(stripPrefixes(capped(line)).trim(), lineNo);
  }

  private feedClean(clean: string, lineNo: number | undefined): void {
    const n = lineNo ?? this.lastLineNo + 1;
    this.lastLineNo = n;
    if (clean.length === 0) return;
    const text = clean.length > MAX_DETECT_CHARS ? clean.slice(0, MAX_DETECT_CHARS) : clean;
    try {
      // Most lines can start nothing: they only reach a detector that holds a crash.
      const hit = this.prefilter === undefined || this.prefilter.test(text);
      const boot = hit && (this.prefilter === undefined || this.prefilter.wants(0, text)) ? bootMarker(text) : undefined;
      if (boot) {
        // A new run: whatever was pending belongs to the previous one.
        for (const d of this.detectors) d.flush();
        this.anyPending = this.detectors.some((d) => d.pending);
        this.settle(n - 1);
        this.settleDeferred(true);
        this.lastCrashLine = Number.NEGATIVE_INFINITY;
        this.lastCrashStart = Number.NEGATIVE_INFINITY;
        this.context.run = boot.platform;
      } else if (this.context.run === undefined) {
        this.context.run = runHint(text);
      }
      if (!hit && !this.anyPending) {
        if (this.deferred.length > 0) this.settle(n);
        return;
      }
      // A detector sees the line when it holds a crash or when the line matches its own triggers.
      const filter = hit ? this.prefilter : undefined;
      for (let i = 0; i < this.detectors.length; i++) {
        const d = this.detectors[i];
        if (d.pending || (hit && (filter === undefined || filter.wants(i + 1, text)))) d.feed(text, n);
      }
    } catch {
      // A detector bug must never take the debugger down; the line is skipped.
    }
    this.anyPending = this.detectors.some((d) => d.pending);
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
    this.anyPending = this.detectors.some((d) => d.pending);
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
    if (!force && this.anyPending) return;
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

/** A line no longer than detectors look at (with room for prefixes to strip). */
function capped(line: string): string {
  return line.length > 4 * MAX_DETECT_CHARS ? line.slice(0, 4 * MAX_DETECT_CHARS) : line;
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
