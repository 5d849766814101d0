/**
 * The live path: a console stream in, lines and crash reports out, as they happen.
 */
import type { Readable } from 'node:stream';
import { ConsoleReader, type ConsoleReaderOptions } from './consoleReader';
import { CrashCollector, type CrashCollectorOptions } from './collector';
import type { CrashReport } from './report';

export interface CrashWatcherOptions extends Omit<ConsoleReaderOptions, 'onLine' | 'onEnd'>, Omit<CrashCollectorOptions, 'onCrash'> {
  onLine?: (line: string, lineNo: number) => void;
  onCrash?: (report: CrashReport) => void;
  /** Called once the console has ended and every pending crash was emitted. */
  onEnd?: () => void;
  /**
   * A crash still being collected (waiting for more dump lines) is emitted
   * after the console has been quiet this long (default 500 ms): a crashed
   * guest may print nothing more.
   */
  idleFlushMs?: number;
}

export class CrashWatcher {
  readonly reader: ConsoleReader;
  readonly collector: CrashCollector;
  private readonly idleFlushMs: number;
  private timer?: NodeJS.Timeout;
  private lastLineAt = 0; // when the last line came while a crash was pending

  constructor(options: CrashWatcherOptions = {}) {
    this.idleFlushMs = options.idleFlushMs ?? 500;
    this.collector = new CrashCollector({ ...options, onCrash: options.onCrash });
    this.reader = new ConsoleReader({
      ...options,
      onLine: (line, lineNo) => {
        options.onLine?.(line, lineNo);
        // The reader has already removed escapes and control characters.
        this.collector.feedStripped(line, lineNo);
        this.armIdleFlush();
      },
      onEnd: () => {
        this.clearTimer();
        this.collector.flush();
        options.onEnd?.();
      },
    });
  }

  /** Reads a live stream (e.g. QEMU's serial socket) without ever pausing it. */
  attach(stream: Readable): this {
    this.reader.attach(stream);
    return this;
  }

  /** Feeds raw console bytes by hand. */
  push(chunk: Uint8Array | string): void {
    this.reader.push(chunk);
  }

  /** Crash reports found so far, in log order. */
  reports(): CrashReport[] {
    return this.collector.sorted();
  }

  /** Ends input: the last partial line is read and pending crashes are emitted. */
  end(): void {
    this.reader.end();
  }

  dispose(): void {
    this.clearTimer();
    this.reader.end();
  }

  /**
   * Flushes a pending crash once the console has been quiet for idleFlushMs.
   * One timer per quiet spell, not one per line: it re-arms itself for the rest
   * of the time when lines came after it was set.
   */
  private armIdleFlush(): void {
    if (!this.collector.pending || this.idleFlushMs <= 0) {
      this.clearTimer();
      return;
    }
    this.lastLineAt = performance.now();
    if (!this.timer) this.schedule(this.idleFlushMs);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const quiet = performance.now() - this.lastLineAt;
      if (quiet + 1 < this.idleFlushMs) this.schedule(this.idleFlushMs - quiet);
      else this.collector.flush();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Starts watching a console stream. */
export function watchConsole(stream: Readable, options: CrashWatcherOptions = {}): CrashWatcher {
  return new CrashWatcher(options).attach(stream);
}
