/**
 * Guest console text on its way to the Debug Console: coalesced into a few events a second, and
 * limited in rate, because a guest flooding its console must not flood VS Code. What is left out
 * is counted and said; every byte still reaches the console log and the crash collector.
 */
export interface ThrottleOptions {
  /** Most bytes shown per second; the rest is summarised. */
  maxBytesPerSecond?: number;
  /** How long text may wait to be sent with what follows it. */
  flushMs?: number;
}

export class OutputThrottle {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private windowStart = Date.now();
  private windowBytes = 0;
  private dropped = 0;
  /** When the last summary of left-out text was sent: at most one a second. */
  private lastNote = 0;
  private readonly maxBytesPerSecond: number;
  private readonly flushMs: number;

  constructor(
    private readonly send: (text: string) => void,
    opts: ThrottleOptions = {},
  ) {
    this.maxBytesPerSecond = opts.maxBytesPerSecond ?? 128 * 1024;
    this.flushMs = opts.flushMs ?? 20;
  }

  push(text: string): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowBytes = 0;
    }
    const room = this.maxBytesPerSecond - this.windowBytes;
    if (room <= 0) {
      this.dropped += text.length;
    } else {
      const kept = text.length <= room ? text : text.slice(0, room);
      this.dropped += text.length - kept.length;
      this.windowBytes += kept.length;
      this.pending += kept;
    }
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends what waits, and says how much was left out since the last time. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let text = this.pending;
    this.pending = '';
    if (this.dropped > 0 && Date.now() - this.lastNote >= 1000) {
      this.lastNote = Date.now();
      if (text && !text.endsWith('\n')) text += '\n';
      text += `[… ${this.dropped} characters of console output not shown here: the guest writes faster than the Debug Console can show; all of it is in the console log]\n`;
      this.dropped = 0;
    }
    if (text) this.send(text);
    // Keep the summary coming while a flood goes on.
    if (this.dropped > 0) this.timer = setTimeout(() => this.flush(), Math.max(this.flushMs, 1000 - (Date.now() - this.lastNote)));
  }

  dispose(): void {
    if (this.dropped > 0) this.lastNote = 0;
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
