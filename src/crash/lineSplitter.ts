/**
 * Splits a byte stream into lines at the byte level, so a multi-byte UTF-8
 * character or a CRLF cut between two chunks is still seen whole. Memory is
 * bounded by maxLineBytes however long a line runs.
 */

import { isAscii } from 'node:buffer';

const LF = 0x0a;
const CR = 0x0d;

export interface SplitLine {
  /** Decoded text without the line terminator; invalid UTF-8 becomes U+FFFD. */
  text: string;
  /** True when the line was longer than maxLineBytes and its tail was dropped or split off. */
  truncated: boolean;
}

/**
 * Receives each line; `plain` is true when the splitter knows the text holds no
 * control character (so no escape sequence either), which spares a test per line.
 */
export type LineSink = (line: SplitLine, plain?: boolean) => void;

// Control characters other than TAB, LF and CR, searched once per run of ASCII lines, not once per line.
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export interface LineSplitterOptions {
  /** Longest line kept, in bytes (default 64 KiB). */
  maxLineBytes?: number;
  /**
   * What to do with a longer line: `truncate` keeps its head and drops the rest
   * (line numbers stay those of the file), `split` emits it in pieces.
   */
  overlong?: 'truncate' | 'split';
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Line breaks are LF, CRLF and a lone CR, the same rule editors use, so line
 * numbers match the log file as VS Code shows it.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly overlong: 'truncate' | 'split';
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private dropping = false; // inside the dropped tail of a truncated line
  private lastWasCR = false; // a CR ended the previous chunk: a leading LF belongs to it

  constructor(private readonly emit: LineSink, options: LineSplitterOptions = {}) {
    this.maxLineBytes = Math.max(16, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.overlong = options.overlong ?? 'truncate';
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.lastWasCR && buf.length > 0) {
      if (buf[0] === LF) start = 1;
      this.lastWasCR = false;
    }
    // A line begun in an earlier chunk is finished byte by byte.
    if (this.pieceBytes > 0 || this.dropping) start = this.bytewise(buf, start, true);
    // Most console output is ASCII: such lines are cut out of one string per run of
    // ASCII lines; a line holding other bytes is decoded on its own.
    if (start < buf.length && isAscii(start === 0 ? buf : buf.subarray(start))) {
      this.ascii(buf, start, buf.length);
      return;
    }
    while (start < buf.length) {
      const high = firstHighByte(buf, start);
      if (high < 0) {
        this.ascii(buf, start, buf.length);
        return;
      }
      const lineStart = lineStartBefore(buf, start, high);
      if (lineStart > start && this.ascii(buf, start, lineStart) >= buf.length) return;
      start = this.bytewise(buf, lineStart, true);
    }
  }

  /**
   * Splits bytes [from, to) that are all ASCII (bytes are characters) and end at
   * a line start or at the end of the chunk. An overlong line goes the byte-wise
   * way with the rest of the chunk. Returns where it stopped.
   */
  private ascii(buf: Buffer, from: number, to: number): number {
    const s = buf.toString('latin1', from, to);
    const n = s.length;
    let nextControl = nextControlAt(s, 0);
    let pos = 0;
    let nextLF = s.indexOf('\n');
    let nextCR = s.indexOf('\r');
    while (pos < n) {
      if (nextLF !== -1 && nextLF < pos) nextLF = s.indexOf('\n', pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = s.indexOf('\r', pos);
      const end = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (end === -1) break;
      if (end - pos >= this.maxLineBytes) return this.bytewise(buf, from + pos, false);
      if (nextControl !== -1 && nextControl < pos) nextControl = nextControlAt(s, pos);
      this.emit({ text: s.slice(pos, end), truncated: false }, nextControl === -1 || nextControl >= end);
      pos = end + 1;
      if (s.charCodeAt(end) === CR) {
        if (pos < n) {
          if (s.charCodeAt(pos) === LF) pos++;
        } else if (to === buf.length) {
          this.lastWasCR = true; // its LF may open the next chunk
        }
      }
    }
    if (pos >= n) return to;
    if (n - pos >= this.maxLineBytes) return this.bytewise(buf, from + pos, false);
    this.append(buf, from + pos, to);
    return to;
  }

  /**
   * Splits bytes [from, end of chunk) into lines; with `once`, stops after the
   * first line break. Returns where it stopped.
   */
  private bytewise(buf: Buffer, from: number, once: boolean): number {
    let start = from;
    for (let i = start; i < buf.length; i++) {
      const byte = buf[i];
      if (byte !== LF && byte !== CR) continue;
      this.append(buf, start, i);
      this.endLine();
      if (byte === CR) {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === LF) i++;
        } else {
          this.lastWasCR = true;
        }
      }
      start = i + 1;
      if (once) return start;
    }
    this.append(buf, start, buf.length);
    return buf.length;
  }

  /** End of input: emits a last line that had no terminator. */
  end(): void {
    if (this.pieceBytes > 0 || this.dropping) this.endLine();
    this.lastWasCR = false;
  }

  private append(buf: Buffer, from: number, to: number): void {
    if (to <= from || (this.dropping && this.overlong === 'truncate')) return;
    let start = from;
    while (start < to) {
      const room = this.maxLineBytes - this.pieceBytes;
      const take = Math.min(room, to - start);
      if (take > 0) {
        this.pieces.push(buf.subarray(start, start + take));
        this.pieceBytes += take;
        start += take;
      }
      if (this.pieceBytes < this.maxLineBytes) break;
      // The line is full: cut it before a UTF-8 character that would straddle the cut.
      if (this.overlong === 'truncate') {
        this.dropping = true;
        return;
      }
      this.emitPieces(true);
    }
  }

  private endLine(): void {
    this.emitPieces(this.dropping);
    this.dropping = false;
  }

  private emitPieces(truncated: boolean): void {
    const bytes = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.pieceBytes);
    this.pieces = [];
    this.pieceBytes = 0;
    let end = bytes.length;
    let carry: Buffer | undefined;
    if (truncated) {
      end = utf8SafeEnd(bytes);
      if (this.overlong === 'split' && end < bytes.length) carry = Buffer.from(bytes.subarray(end));
    }
    this.emit({ text: this.decoder.decode(bytes.subarray(0, end)), truncated });
    if (carry) {
      this.pieces.push(carry);
      this.pieceBytes = carry.length;
    }
  }
}

/** Index of the next control character (see CONTROL) from `from` on, or -1. */
function nextControlAt(s: string, from: number): number {
  CONTROL.lastIndex = from;
  return CONTROL.exec(s)?.index ?? -1;
}

/** Index of the first byte ≥ 0x80 from `from` on, or -1. */
function firstHighByte(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] >= 0x80) return i;
  return -1;
}

/** Start of the line that holds `at`: just after the last LF or CR before it (not before `from`). */
function lineStartBefore(buf: Buffer, from: number, at: number): number {
  for (let i = at - 1; i >= from; i--) if (buf[i] === LF || buf[i] === CR) return i + 1;
  return from;
}

/** Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence. */
function utf8SafeEnd(bytes: Buffer): number {
  const n = bytes.length;
  // Look back over at most 3 continuation bytes for the lead byte of the last character.
  for (let back = 1; back <= 4 && back <= n; back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
