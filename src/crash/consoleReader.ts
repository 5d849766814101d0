/**
 * Reads a guest's serial console, live from a socket or from a saved file, and
 * hands out clean numbered lines. A guest blocks when nobody reads its serial
 * socket, so a live stream is always drained, never paused.
 */

import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { LineSplitter, type LineSplitterOptions } from './lineSplitter';
import { stripControls } from './lineCleaner';

// Shared per-line info objects: one allocation fewer per line.
const WHOLE: { readonly truncated: boolean } = Object.freeze({ truncated: false });
const TRUNCATED: { readonly truncated: boolean } = Object.freeze({ truncated: true });

export interface ConsoleLine {
  /** 1-based line number in the console output (and in the tee file). */
  lineNo: number;
  /** Text without escape sequences, control characters or line terminator. */
  text: string;
  truncated: boolean;
}

export interface ConsoleReaderOptions extends LineSplitterOptions {
  /** Called for every line, in order. */
  onLine?: (line: string, lineNo: number, info: { truncated: boolean }) => void;
  /** Called once when the input has ended (or the reader was closed). */
  onEnd?: () => void;
  /** Raw bytes are copied here as they arrive (the `consoleLog` launch attribute). */
  consoleLog?: string;
  /** How many recent lines to keep (default 2000). */
  historyLines?: number;
  /** Tee bytes buffered for a slow disk before new output is dropped (default 16 MiB). */
  maxTeeBacklogBytes?: number;
}

export class ConsoleReader {
  private readonly splitter: LineSplitter;
  // Recent lines as bare strings in a ring (no object per line): numbers are consecutive, flags rare.
  private readonly history: string[];
  private readonly truncatedAt = new Set<number>();
  private historyNext = 0;
  private readonly onLine?: ConsoleReaderOptions['onLine'];
  private readonly onEnd?: () => void;
  private readonly maxTeeBacklog: number;
  private tee?: WriteStream;
  private teeError?: Error;
  private lineCount = 0;
  private bytes = 0;
  private droppedTeeBytes = 0;
  private ended = false;

  constructor(options: ConsoleReaderOptions = {}) {
    this.onLine = options.onLine;
    this.onEnd = options.onEnd;
    this.history = new Array<string>(Math.max(1, options.historyLines ?? 2000));
    this.maxTeeBacklog = options.maxTeeBacklogBytes ?? 16 * 1024 * 1024;
    this.splitter = new LineSplitter((l, plain) => this.deliver(l.text, l.truncated, plain === true), options);
    if (options.consoleLog) {
      this.tee = createWriteStream(options.consoleLog, { flags: 'w' });
      // A failing log file must not stop the console: remember the error and stop teeing.
      this.tee.on('error', (err) => {
        this.teeError = err;
        this.tee = undefined;
      });
    }
  }

  /** Lines delivered so far. */
  get lines(): number {
    return this.lineCount;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.bytes;
  }

  /** Bytes not written to the tee file because the disk fell too far behind. */
  get teeDroppedBytes(): number {
    return this.droppedTeeBytes;
  }

  /** Why teeing to `consoleLog` stopped, if it did. */
  get teeFailure(): Error | undefined {
    return this.teeError;
  }

  /** The most recent lines, oldest first. */
  recentLines(): ConsoleLine[] {
    const capacity = this.history.length;
    const count = Math.min(this.lineCount, capacity);
    const out: ConsoleLine[] = [];
    for (let i = 0; i < count; i++) {
      const lineNo = this.lineCount - count + 1 + i;
      out.push({ lineNo, text: this.history[(this.historyNext - count + i + capacity) % capacity] as string, truncated: this.truncatedAt.has(lineNo) });
    }
    return out;
  }

  /** Feeds raw console bytes. */
  push(chunk: Uint8Array | string): void {
    if (this.ended) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.bytes += buf.byteLength;
    if (this.tee) {
      if (this.tee.writableLength < this.maxTeeBacklog) this.tee.write(Buffer.from(buf));
      else this.droppedTeeBytes += buf.byteLength;
    }
    this.splitter.push(buf);
  }

  /** End of input: flushes an unterminated last line and closes the tee file. */
  end(): void {
    if (this.ended) return;
    this.splitter.end();
    this.ended = true;
    this.tee?.end();
    this.onEnd?.();
  }

  /**
   * Reads a live stream (a socket) until it ends. Data is consumed in flowing
   * mode and never paused, so the guest cannot stall on a full socket buffer.
   */
  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => this.push(chunk));
    stream.once('end', () => this.end());
    stream.once('close', () => this.end());
    // An error ends the console; the owner of the stream reports it.
    stream.once('error', () => this.end());
    stream.resume();
  }

  /** Resolves when the stream has ended. */
  async readStream(stream: Readable): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer | string) => this.push(chunk));
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    this.end();
  }

  /** Reads a whole file (streamed, so memory stays bounded). */
  async readFile(path: string): Promise<void> {
    await this.readStream(createReadStream(path, { highWaterMark: 256 * 1024 }));
  }

  /** Waits until everything teed so far is on disk (after end(): until the file is closed). */
  async flushTee(): Promise<void> {
    const tee = this.tee;
    if (!tee) return;
    await new Promise<void>((resolve) => {
      if (tee.writableEnded) {
        if (tee.closed) return resolve();
        tee.once('close', () => resolve());
      } else {
        tee.write(Buffer.alloc(0), () => resolve());
      }
      tee.once('error', () => resolve());
    });
  }

  private deliver(raw: string, truncated: boolean, plain: boolean): void {
    const text = plain ? raw : stripControls(raw);
    const lineNo = ++this.lineCount;
    const capacity = this.history.length;
    this.history[this.historyNext] = text;
    this.historyNext = (this.historyNext + 1) % capacity;
    if (truncated) this.truncatedAt.add(lineNo);
    // Flags of lines that left the ring are forgotten (bounded like the ring itself).
    if (this.truncatedAt.size > capacity) for (const n of this.truncatedAt) if (n <= lineNo - capacity) this.truncatedAt.delete(n);
    this.onLine?.(text, lineNo, truncated ? TRUNCATED : WHOLE);
  }
}
