/**
 * A small QMP (QEMU Machine Protocol) client: commands matched to answers by id, events as they
 * come. It tells what gdb cannot: whether a stopped machine reset (a triple fault) or powered off.
 */
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpEvents {
  event: [QmpEvent];
  close: [];
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class QmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QmpError';
  }
}

export class QmpClient extends EventEmitter<QmpEvents> {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private closed = false;
  /** The most recent SHUTDOWN event, kept because it may arrive before anyone asks. */
  lastShutdown: QmpEvent | undefined;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new QmpError('QEMU closed its QMP socket.'));
        this.pending.delete(id);
      }
      this.emit('close');
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Connects and leaves capabilities negotiation mode. */
  static connect(path: string, timeoutMs = 5_000): Promise<QmpClient> {
    return new Promise<QmpClient>((resolve, reject) => {
      const socket = createConnection(path);
      const fail = (e: Error): void => {
        socket.destroy();
        reject(new QmpError(`Cannot talk to QEMU's QMP socket: ${e.message}.`));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.off('error', fail);
        const client = new QmpClient(socket);
        client.execute('qmp_capabilities', undefined, timeoutMs).then(() => resolve(client), fail);
      });
    });
  }

  execute(command: string, args?: Record<string, unknown>, timeoutMs = 5_000): Promise<unknown> {
    if (this.closed) return Promise.reject(new QmpError('QEMU closed its QMP socket.'));
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError(`QEMU did not answer ${command} within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    });
  }

  /** Resolves with the next event of that name (or the kept one), or undefined after `timeoutMs`. */
  waitForShutdown(timeoutMs: number): Promise<QmpEvent | undefined> {
    if (this.lastShutdown) return Promise.resolve(this.lastShutdown);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.off('event', on);
        resolve(undefined);
      }, timeoutMs);
      const on = (e: QmpEvent): void => {
        if (e.event !== 'SHUTDOWN') return;
        clearTimeout(timer);
        this.off('event', on);
        resolve(e);
      };
      this.on('event', on);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    // QMP messages are one JSON object a line.
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
    if (this.buffer.length > 1 << 20) this.buffer = '';
  }

  private onMessage(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof msg.event === 'string') {
      const ev: QmpEvent = { event: msg.event, data: (msg.data as Record<string, unknown>) ?? {} };
      if (ev.event === 'SHUTDOWN') this.lastShutdown = ev;
      if (ev.event === 'RESUME') this.lastShutdown = undefined;
      this.emit('event', ev);
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (msg.error) {
      const err = msg.error as { desc?: string };
      p.reject(new QmpError(err.desc ?? 'QMP error'));
    } else p.resolve(msg.return);
  }
}
