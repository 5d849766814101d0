/**
 * The OCaml runtime under MirageOS.
 *   Fatal error: exception Failure("boom")
 *   Raised at file "stdlib.ml", line 29, characters 17-33                           (OCaml < 4.11)
 *   Raised at Stdlib.failwith in file "stdlib.ml", line 29, characters 17-33        (OCaml >= 4.11)
 *   Called from Unikernel.Main.start in file "unikernel.ml" (inlined), line 10, characters 4-20
 *   Re-raised at … / Raised by primitive operation at … / Called from unknown location
 *   Fatal error: out of memory.
 * An exception printer may spread the exception over several lines; those are
 * taken while brackets or a string literal are still open.
 * The `mirage` tool prints a unikernel's output behind a column that names it
 *   www          Fatal error: exception Failure("net_tap0")
 * so a column seen before `Fatal error:` is removed from the lines that follow.
 * Kinds: Out_of_memory → out-of-memory, Assert_failure → assertion, any other
 * exception (Stack_overflow included) → exception.
 */
import type { CrashFrame, CrashKind, CrashReport } from '../report';
import { MAX_CRASH_LINES, MAX_FRAMES, type Detector, type Emit, type Triggers } from './types';

const EXCEPTION = /^Fatal error: exception (.*)$/;
const OUT_OF_MEMORY = /^Fatal error: out of memory\.?$/i;
const FATAL = /^Fatal error: (.+)$/;
const FRAME_OLD = /^(?:Raised at|Re-raised at|Raised by primitive operation at|Called from) file "([^"]*)"(?: \(inlined\))?, lines? (\d+)/;
const FRAME_NEW = /^(?:Raised at|Re-raised at|Raised by primitive operation at|Called from) (\S+) in file "([^"]*)"(?: \(inlined\))?, lines? (\d+)/;
const FRAME_OTHER = /^(?:(?:Raised at|Re-raised at|Raised by primitive operation at|Called from) unknown location|\(Program not linked with -g, cannot print stack backtrace\))/;
const MAX_MESSAGE = 8 * 1024;
// A name column (`www`, `hello`) padded by two or more blanks, before the runtime's own text.
const COLUMN = /^(\S{1,32}\s{2,})(?=Fatal error: )/;

type State = 'idle' | 'message' | 'backtrace';

export class OcamlDetector implements Detector {
  static readonly triggers: Triggers = { start: ['Fatal error: '], anywhere: ['fatal error: '] };
  readonly platform = 'mirage' as const;
  private state: State = 'idle';
  private report?: CrashReport;
  private depth = 0; // open brackets in the exception text
  private inString = false; // inside a "…" literal in the exception text
  private lines = 0;
  private column = ''; // the name column of the pending exception's lines

  constructor(private readonly emit: Emit) {}

  get pending(): boolean {
    return this.report !== undefined;
  }

  feed(raw: string, lineNo: number): void {
    if (this.report) {
      const inner = this.column && raw.startsWith(this.column) ? raw.slice(this.column.length) : raw;
      if (this.continues(inner)) return;
      this.flush();
    }
    const col = COLUMN.exec(raw);
    this.column = col ? col[1] : '';
    const line = col ? raw.slice(col[1].length) : raw;
    let m: RegExpExecArray | null;
    if ((m = EXCEPTION.exec(line))) {
      const text = m[1].trim();
      this.report = base(exceptionKind(text), text, lineNo);
      this.state = 'message';
      this.depth = 0;
      this.inString = false;
      this.lines = 1;
      this.scan(text);
      return;
    }
    if (OUT_OF_MEMORY.test(line)) {
      this.emit({ report: base('out-of-memory', 'out of memory', lineNo) });
      return;
    }
    if ((m = FATAL.exec(line))) {
      // Other caml_fatal_error messages: the runtime gives up.
      this.emit({ report: base('panic', m[1].trim(), lineNo) });
    }
  }

  flush(): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    this.state = 'idle';
    this.emit({ report });
  }

  /** Takes a line that belongs to the pending exception; false when it does not. */
  private continues(line: string): boolean {
    const report = this.report as CrashReport;
    if (++this.lines > MAX_CRASH_LINES) return false;
    const frame = backtraceFrame(line);
    if (frame !== undefined) {
      this.state = 'backtrace';
      if (frame && report.frames.length < MAX_FRAMES) report.frames.push(frame);
      return true;
    }
    if (this.state === 'message' && (this.depth > 0 || this.inString) && report.message.length < MAX_MESSAGE) {
      report.message += `\n${line}`;
      this.scan(line);
      return true;
    }
    return false;
  }

  /** Tracks open brackets and strings so a multi-line exception text is read to its end. */
  private scan(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.inString) {
        if (c === '\\') i++;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '(' || c === '[' || c === '{') this.depth++;
      else if ((c === ')' || c === ']' || c === '}') && this.depth > 0) this.depth--;
    }
  }
}

/** A frame for a backtrace line, null for a backtrace line without a location, undefined for other lines. */
function backtraceFrame(line: string): CrashFrame | null | undefined {
  let m = FRAME_NEW.exec(line);
  if (m) return { address: '', function: m[1], file: m[2], line: Number(m[3]) };
  m = FRAME_OLD.exec(line);
  if (m) return { address: '', file: m[1], line: Number(m[2]) };
  return FRAME_OTHER.test(line) ? null : undefined;
}

function exceptionKind(text: string): CrashKind {
  if (/^Out_of_memory\b/.test(text)) return 'out-of-memory';
  if (/^Assert_failure\b/.test(text)) return 'assertion';
  return 'exception';
}

function base(kind: CrashKind, message: string, line: number): CrashReport {
  const report: CrashReport = { platform: 'mirage', kind, message, line, registers: {}, frames: [] };
  // Assert_failure carries its own source location.
  const m = /^Assert_failure\s*\(\s*"([^"]*)",\s*(\d+),/.exec(message);
  if (m) report.source = { file: m[1], line: Number(m[2]) };
  return report;
}
