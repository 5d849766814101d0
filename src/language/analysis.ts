/**
 * What the console-log language server finds in a log's text: addresses, source references and the
 * line ranges crashes cover. Pure functions over strings; the server wires them to LSP.
 */
import type { CrashReport } from '../crash';

export interface Span {
  /** 0-based line. */
  line: number;
  /** 0-based start and end (exclusive) characters. */
  start: number;
  end: number;
}

export interface AddressToken extends Span {
  /** Canonical hex `0x…`. */
  address: string;
}

export interface SourceRef extends Span {
  /** The file as printed (may be relative). */
  file: string;
  line1: number;
}

// `0x…` anywhere; bare runs of 8 to 16 hex digits as words (Unikraft prints `RIP: 0000000000104a3b`).
const HEX = /\b0x([0-9a-f]{1,16})\b|\b([0-9a-f]{8,16})\b/gi;

function canonical(digits: string): string {
  return `0x${digits.replace(/^0+(?=.)/, '').toLowerCase()}`;
}

/** The addresses printed on one line, in order. */
export function addressesIn(text: string, line: number): AddressToken[] {
  const out: AddressToken[] = [];
  HEX.lastIndex = 0;
  for (let m = HEX.exec(text); m; m = HEX.exec(text)) {
    const digits = m[1] ?? m[2];
    // A bare word must have a digit in it: `deadbeef` counts, the word `accessed` does not.
    if (m[2] !== undefined && !/[0-9]/.test(m[2])) continue;
    out.push({ line, start: m.index, end: m.index + m[0].length, address: canonical(digits) });
  }
  return out;
}

/** The address under a cursor position, if any. */
export function addressAt(text: string, line: number, character: number): AddressToken | undefined {
  return addressesIn(text, line).find((t) => character >= t.start && character <= t.end);
}

// `kernel.c:182` (Solo5 ABORT, assertions), `<traps.c @ 84>` (Unikraft), `file "f.c", line 14` (Rumprun
// assertions, OCaml backtraces: `file "x.ml", line 10, characters 2-8`).
const SOURCE_COLON = /(?<![\w./-])((?:[\w.-]+\/)*[\w.-]+\.(?:c|h|cc|cpp|cxx|hpp|S|s|rs|zig|ml|mli|go)):(\d+)\b/g;
const SOURCE_AT = /<((?:[\w.-]+\/)*[\w.-]+\.(?:c|h|cc|cpp|S|s|rs|ml)) @ (\d+)>/g;
const SOURCE_QUOTED = /file "([^"]+)", line (\d+)/g;

/** Source locations printed on one line. */
export function sourceRefsIn(text: string, line: number): SourceRef[] {
  const out: SourceRef[] = [];
  for (const re of [SOURCE_COLON, SOURCE_AT, SOURCE_QUOTED]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      out.push({ line, start: m.index, end: m.index + m[0].length, file: m[1], line1: Number(m[2]) });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** How many lines after a crash's first line its details (registers, backtrace) may reach. */
export const CRASH_WINDOW = 64;

/** 0-based line numbers that belong to crashes: each report's line and the lines that follow it. */
export function crashLines(reports: readonly CrashReport[], lineCount: number): number[] {
  const lines = new Set<number>();
  for (const r of reports) {
    const first = Math.max(0, r.line - 1);
    for (let l = first; l < Math.min(lineCount, first + CRASH_WINDOW); l++) lines.add(l);
  }
  return [...lines].sort((a, b) => a - b);
}

/** The text range of a crash's first line, without its leading and trailing blanks. */
export function crashRange(lineText: string, line: number): Span {
  const start = lineText.length - lineText.trimStart().length;
  const end = Math.max(start + 1, lineText.trimEnd().length);
  return { line, start, end };
}

/** One line of Markdown-safe text (underscores stay: C names are full of them, and inside words they are plain). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*{}[\]()#+!<>|]/g, '\\$&').replace(/(^|\W)_|_(?=\W|$)/g, (m) => m.replace('_', '\\_'));
}

/** Finds the `.meta.json` sidecar's symbols path in its text. */
export function symbolsFromMeta(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { symbols?: unknown };
    return typeof v?.symbols === 'string' && v.symbols.length > 0 ? v.symbols : undefined;
  } catch {
    return undefined;
  }
}
