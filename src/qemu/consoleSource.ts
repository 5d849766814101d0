/**
 * The console of a guest started elsewhere: a TCP `host:port`, a Unix socket (a QEMU socket
 * chardev), or a file someone else writes (followed as it grows, like `tail -f`).
 */
import { EventEmitter } from 'node:events';
import { createReadStream, statSync, watch, type FSWatcher } from 'node:fs';
import type { Socket } from 'node:net';
import { connectTo, tcpEndpoint } from './endpoint';

export interface ConsoleSourceEvents {
  data: [Buffer];
  end: [];
  /** A followed file was read up to where it was. */
  read: [];
}

export class ConsoleSource extends EventEmitter<ConsoleSourceEvents> {
  private socket: Socket | undefined;
  private watcher: FSWatcher | undefined;
  private closed = false;

  private constructor() {
    super();
  }

  /** Connects (or starts following); rejects with one sentence when the console cannot be read. */
  static open(spec: string, timeoutMs = 5_000): Promise<ConsoleSource> {
    const source = new ConsoleSource();
    const tcp = tcpEndpoint(spec);
    let isSocketFile = false;
    if (!tcp) {
      try {
        isSocketFile = statSync(spec).isSocket();
      } catch {
        return Promise.reject(new Error(`The console ${spec} does not exist: give host:port, a Unix socket or a log file.`));
      }
    }
    if (!tcp && !isSocketFile) {
      source.follow(spec);
      return Promise.resolve(source);
    }
    return new Promise((resolve, reject) => {
      const sock = connectTo(spec);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`The console at ${spec} did not accept a connection within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        source.socket = sock;
        resolve(source);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`Cannot read the console at ${spec}: ${e.message}.`));
      });
      // Always read, never pause: a guest whose console is not drained stalls.
      sock.on('data', (c: Buffer) => source.emit('data', c));
      sock.on('close', () => source.emit('end'));
      sock.on('error', () => undefined);
    });
  }

  /** Follows a file QEMU writes itself (a recording's console), from its start or from its end. */
  static followFile(path: string, fromStart: boolean): ConsoleSource {
    const source = new ConsoleSource();
    source.follow(path, fromStart);
    return source;
  }

  /** Resolves once everything in the file so far has been emitted, or after `timeoutMs`. */
  caughtUp(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, timeoutMs);
      const check = (): void => {
        if (this.closed || this.isCaughtUp()) finish();
      };
      const self = this;
      function finish(): void {
        clearTimeout(timer);
        self.off('read', check);
        resolve();
      }
      this.on('read', check);
      this.readMore?.();
      check();
    });
  }

  private readMore: (() => void) | undefined;
  private isCaughtUp: () => boolean = () => true;

  /** Reads the file from its current end (or its start) on, each time it grows. */
  private follow(path: string, fromStart = false): void {
    let offset = fromStart ? 0 : statSync(path).size;
    let reading = false;
    let again = false;
    const readMore = (): void => {
      if (this.closed) return;
      if (reading) {
        again = true;
        return;
      }
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        return;
      }
      if (size < offset) offset = 0; // truncated and rewritten
      if (size === offset) return;
      reading = true;
      const stream = createReadStream(path, { start: offset, end: size - 1 });
      stream.on('data', (c) => this.emit('data', c as Buffer));
      stream.on('close', () => {
        offset = size;
        reading = false;
        if (again) {
          again = false;
          readMore();
        }
        this.emit('read');
      });
      stream.on('error', () => {
        reading = false;
      });
    };
    this.readMore = readMore;
    this.isCaughtUp = () => {
      try {
        return !reading && statSync(path).size === offset;
      } catch {
        return true;
      }
    };
    this.watcher = watch(path, readMore);
    if (fromStart) readMore();
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.watcher?.close();
  }
}
