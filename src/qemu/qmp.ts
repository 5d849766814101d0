/**
 * A small QMP (QEMU Machine Protocol) client: one typed method per command the debugger uses,
 * answers matched by id, events as they come. It tells what gdb cannot: whether a stopped machine
 * reset (a triple fault) or powered off, and where a record/replay run is.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { connectTo } from './endpoint';

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

/** `query-status`: QEMU's run state (`running`, `paused`, `debug` when gdb stopped it, …). */
export interface QmpStatus {
  status: string;
  running: boolean;
}

/** `query-replay`: the record/replay mode and the instruction count the run is at. */
export interface QmpReplay {
  mode: 'none' | 'record' | 'replay';
  icount: number;
}

/** What the machine does when the guest resets: a real reset, or a shutdown (which our machines turn into a pause). */
export type RebootAction = 'reset' | 'shutdown';

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

  /** Connects (a Unix socket path, or `host:port`) and leaves capabilities negotiation mode. */
  static connect(target: string, timeoutMs = 5_000): Promise<QmpClient> {
    return new Promise<QmpClient>((resolve, reject) => {
      const socket = connectTo(target);
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

  async queryStatus(timeoutMs?: number): Promise<QmpStatus> {
    const r = (await this.execute('query-status', undefined, timeoutMs)) as Partial<QmpStatus> | undefined;
    return { status: String(r?.status ?? ''), running: r?.running === true };
  }

  async queryReplay(): Promise<QmpReplay> {
    const r = (await this.execute('query-replay')) as { mode?: string; icount?: number } | undefined;
    const mode = r?.mode === 'record' || r?.mode === 'replay' ? r.mode : 'none';
    return { mode, icount: typeof r?.icount === 'number' ? r.icount : 0 };
  }

  /** In a replay: stop when the run reaches instruction `icount`. */
  async replayBreak(icount: number): Promise<void> {
    await this.execute('replay-break', { icount });
  }

  /** Resumes a machine started paused (-S) that no gdb runs. */
  async cont(): Promise<void> {
    await this.execute('cont');
  }

  async quit(): Promise<void> {
    await this.execute('quit');
  }

  async systemReset(): Promise<void> {
    await this.execute('system_reset');
  }

  async setRebootAction(action: RebootAction): Promise<void> {
    await this.execute('set-action', { reboot: action });
  }

  /** A human monitor command line; HMP answers (and reports failures) as text. */
  async humanMonitorCommand(commandLine: string, timeoutMs?: number): Promise<string> {
    const out = await this.execute('human-monitor-command', { 'command-line': commandLine }, timeoutMs);
    return typeof out === 'string' ? out : '';
  }

  /** Writes `size` bytes of guest virtual memory at `address` (as vCPU `cpuIndex` sees it) into `filename`. */
  async memsave(address: number, size: number, filename: string, cpuIndex: number, timeoutMs?: number): Promise<void> {
    await this.execute('memsave', { val: address, size, filename, 'cpu-index': cpuIndex }, timeoutMs);
  }

  private execute(command: string, args?: Record<string, unknown>, timeoutMs = 5_000): Promise<unknown> {
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
