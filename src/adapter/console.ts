/**
 * The guest's serial console on its way to the user: bytes from QEMU (or, for an attached guest,
 * from the socket or file the configuration names) go to the Debug Console at a bounded rate and
 * through the crash collector, whose reports come out as they are found. The last lines stay at
 * hand: an exit status and a crash message are often only there.
 */
import { StringDecoder } from 'node:string_decoder';
import { CrashWatcher } from '../crash/crashWatcher';
import type { CrashReport } from '../crash/report';
import { ConsoleSource } from '../qemu/consoleSource';
import { OutputThrottle } from './outputThrottle';

export interface GuestConsoleOptions {
  /** Text for the Debug Console. */
  output: (text: string) => void;
  /** A crash the console showed; the console's end waits for what this returns. */
  crash: (report: CrashReport) => Promise<void>;
}

export class GuestConsole {
  private readonly decoder = new StringDecoder('utf8');
  /** A CR at the end of the last chunk, held until the next says whether an LF follows it. */
  private heldCR = false;
  private throttle: OutputThrottle;
  private watcher: CrashWatcher;
  private source: ConsoleSource | undefined;
  /** Crash reports still being handled; the session waits for them before it ends. */
  private readonly handling = new Set<Promise<void>>();

  constructor(private readonly opts: GuestConsoleOptions) {
    this.throttle = new OutputThrottle(opts.output);
    this.watcher = this.newWatcher();
  }

  /** Most characters a second shown in the Debug Console (a flood beyond is summarised). */
  setRateLimit(maxBytesPerSecond: number): void {
    this.throttle.dispose();
    this.throttle = new OutputThrottle(this.opts.output, { maxBytesPerSecond });
  }

  /** Reads the console of a guest started elsewhere: host:port, a Unix socket or a log file. */
  async open(spec: string): Promise<void> {
    this.source = await ConsoleSource.open(spec);
    this.source.on('data', (chunk) => this.push(chunk));
  }

  push(chunk: Buffer): void {
    // The guest ends lines with CRLF (a serial line's convention); the Debug Console gets LF, also
    // when the CR and LF come in two chunks (a CR at a chunk's end waits for the next).
    let text = `${this.heldCR ? '\r' : ''}${this.decoder.write(chunk)}`;
    this.heldCR = text.endsWith('\r');
    if (this.heldCR) text = text.slice(0, -1);
    text = text.replace(/\r\n/g, '\n').replace(/\0/g, '');
    if (text) this.throttle.push(text);
    this.watcher.push(chunk);
  }

  /** What the guest printed so far goes out now (before a stop, which it precedes). */
  flush(): void {
    this.throttle.flush();
  }

  /** Lines read so far (a crash's `line` in the log). */
  get lines(): number {
    return this.watcher.reader.lines;
  }

  recentLines(): string[] {
    return this.watcher.reader.recentLines().map((l) => l.text);
  }

  /** The guest was reset: a crash half collected belongs to the old run. */
  flushCrashes(): void {
    this.watcher.collector.flush();
  }

  /** A fresh recording boots the guest again: the collector starts over. */
  newRun(): void {
    this.watcher.end();
    this.watcher = this.newWatcher();
  }

  /** The guest is gone: the last crash is collected and handled. */
  async end(): Promise<void> {
    this.throttle.dispose();
    this.watcher.end();
    await Promise.all(this.handling);
  }

  dispose(): void {
    this.source?.close();
    this.source = undefined;
    this.throttle.dispose();
    this.watcher.end();
  }

  private newWatcher(): CrashWatcher {
    return new CrashWatcher({
      onCrash: (report) => {
        const handled = this.opts.crash(report).catch(() => undefined);
        this.handling.add(handled);
        void handled.finally(() => this.handling.delete(handled));
      },
    });
  }
}
