/**
 * Splits a byte stream into lines at the byte level, so a multi-byte UTF-8
 * character or a CRLF cut between two chunks is still seen whole. Memory is
 * bounded by maxLineBytes however long a line runs.
 */

const LF = 0x0a;
const CR = 0x0d;

export interface SplitLine {
  /** Decoded text without the line terminator; invalid UTF-8 becomes U+FFFD. */
  text: string;
  /** True when the line was longer than maxLineBytes and its tail was dropped or split off. */
  truncated: boolean;
}

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

  constructor(private readonly emit: (line: SplitLine) => void, options: LineSplitterOptions = {}) {
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
    }
    this.append(buf, start, buf.length);
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
