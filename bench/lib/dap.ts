/**
 * A tiny DAP client over an adapter's stdio: requests matched by seq, events waited on with a bound.
 * It adds as little as possible on top of what VS Code itself must do (frame and JSON).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { BENCH_TAG, BENCH_TAG_VAR, killTree, spawnTracked } from './procs';

interface Pending {
  command: string;
  resolve: (r: DebugProtocol.Response) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class DapError extends Error {}

export class DapClient {
  private seq = 1;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private readonly events = new EventEmitter();
  private exited: string | undefined;
  private stderrTail = '';
  capabilities: DebugProtocol.Capabilities = {};

  private constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    readonly proc?: ChildProcess,
  ) {
    this.events.setMaxListeners(1000);
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    output.on('error', () => undefined);
    proc?.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    const gone = (why: string): void => {
      if (this.exited) return;
      this.exited = `${why}${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new DapError(`${this.exited} while waiting for ${p.command}`));
      }
      this.pending.clear();
      this.events.emit('__exit');
    };
    if (proc) proc.once('exit', (code, signal) => gone(`adapter exited (${signal ?? code})`));
    else input.once('close', () => gone('adapter closed the connection'));
  }

  /** An adapter process talking DAP over its stdio. */
  static spawn(script: string, args: string[] = [], cwd?: string): DapClient {
    const proc = spawnTracked(process.execPath, [script, ...args], { cwd });
    if (!proc.stdout || !proc.stdin) throw new Error('adapter without stdio');
    return new DapClient(proc.stdout, proc.stdin, proc);
  }

  /**
   * Our adapter run in this process, as VS Code's extension host runs it
   * (`DebugAdapterInlineImplementation`): `InlineDebugSession` from the bundle `lib`, messages in
   * through handleMessage and out through onDidSendMessage, framed here so the client is the same.
   * Its gdb inherits this process's environment, so the bench tag is put there.
   */
  static inline(lib: string, adapterScript: string): DapClient {
    process.env[BENCH_TAG_VAR] = BENCH_TAG;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { InlineDebugSession } = require(lib) as typeof import('../../src/adapter/inline');
    const session = new InlineDebugSession(adapterScript);
    const toClient = new PassThrough();
    const toAdapter = new PassThrough();
    session.onDidSendMessage((msg) => {
      const json = JSON.stringify(msg);
      toClient.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`);
    });
    let buf: Buffer = Buffer.alloc(0);
    toAdapter.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/Content-Length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('ascii'))?.[1]);
        if (buf.length < end + 4 + len) return;
        const body = buf.toString('utf8', end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        session.handleMessage(JSON.parse(body) as DebugProtocol.ProtocolMessage);
      }
    });
    const dc = new DapClient(toClient, toAdapter);
    dc.disposeInline = () => session.dispose();
    return dc;
  }

  /** Ends an inline adapter's session, as VS Code disposes it. */
  private disposeInline: (() => void) | undefined;

  /** A connection to an adapter already running with --server=PORT (how VS Code's debugServer works). */
  static connect(port: number, timeoutMs = 10_000): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DapError(`no connection to 127.0.0.1:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new DapClient(socket, socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  request<R extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown, timeoutMs = 30_000): Promise<R> {
    if (this.exited) return Promise.reject(new DapError(this.exited));
    const seq = this.seq++;
    const msg = JSON.stringify({ seq, type: 'request', command, arguments: args });
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new DapError(`${command}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        command,
        timer,
        resolve: (r) => {
          if (r.success) resolve(r as R);
          else reject(new DapError(`${command} failed: ${r.message ?? ''} ${JSON.stringify(r.body ?? {})}`));
        },
        reject,
      });
      this.output.write(`Content-Length: ${Buffer.byteLength(msg, 'utf8')}\r\n\r\n${msg}`);
    });
  }

  /** Calls `fn` on every event of that name. */
  onEvent<E extends DebugProtocol.Event = DebugProtocol.Event>(event: string, fn: (e: E) => void): void {
    this.events.on(event, fn);
  }

  /** Resolves with the next matching event. Create it before causing the event. */
  waitEvent<E extends DebugProtocol.Event = DebugProtocol.Event>(event: string, timeoutMs = 30_000, match?: (e: E) => boolean): Promise<E> {
    const p = new Promise<E>((resolve, reject) => {
      const onEvent = (e: E): void => {
        if (match && !match(e)) return;
        finish();
        resolve(e);
      };
      const onExit = (): void => {
        finish();
        reject(new DapError(`${this.exited ?? 'adapter exited'} while waiting for the ${event} event`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new DapError(`no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.events.off(event, onEvent);
        this.events.off('__exit', onExit);
      };
      if (this.exited) return onExit();
      this.events.on(event, onEvent);
      this.events.on('__exit', onExit);
    });
    // A waiter abandoned because its request failed must not become an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  async initialize(adapterID: string): Promise<DebugProtocol.Capabilities> {
    const r = await this.request<DebugProtocol.InitializeResponse>('initialize', {
      clientID: 'vscode',
      clientName: 'Visual Studio Code',
      adapterID,
      pathFormat: 'path',
      linesStartAt1: true,
      columnsStartAt1: true,
      supportsVariableType: true,
      supportsVariablePaging: true,
      supportsRunInTerminalRequest: false,
      supportsMemoryReferences: true,
      supportsProgressReporting: true,
      supportsInvalidatedEvent: true,
      supportsMemoryEvent: true,
      supportsArgsCanBeInterpretedByShell: true,
      supportsStartDebuggingRequest: true,
      locale: 'en',
    });
    this.capabilities = r.body ?? {};
    return this.capabilities;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Disconnect politely (bounded), then kill the adapter and everything it started (a server: just hang up). */
  async close(terminateDebuggee = true): Promise<void> {
    if (this.alive) {
      await this.request('disconnect', { restart: false, terminateDebuggee }, 3_000).catch(() => undefined);
    }
    if (this.proc) await killTree(this.proc);
    else this.input.destroy();
    this.disposeInline?.();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const headerEnd = this.buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buf.subarray(0, headerEnd).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) {
        this.buf = this.buf.subarray(headerEnd + 4);
        continue;
      }
      const len = Number(m[1]);
      const start = headerEnd + 4;
      if (this.buf.length < start + len) return;
      const body = this.buf.subarray(start, start + len).toString('utf8');
      this.buf = this.buf.subarray(start + len);
      this.dispatch(JSON.parse(body) as DebugProtocol.ProtocolMessage);
    }
  }

  private dispatch(msg: DebugProtocol.ProtocolMessage): void {
    if (msg.type === 'response') {
      const r = msg as DebugProtocol.Response;
      const p = this.pending.get(r.request_seq);
      if (!p) return;
      this.pending.delete(r.request_seq);
      clearTimeout(p.timer);
      p.resolve(r);
    } else if (msg.type === 'event') {
      const e = msg as DebugProtocol.Event;
      this.events.emit(e.event, e);
    } else if (msg.type === 'request') {
      // Reverse requests (runInTerminal, startDebugging): not supported by this client.
      const req = msg as DebugProtocol.Request;
      const reply = JSON.stringify({ seq: this.seq++, type: 'response', request_seq: req.seq, command: req.command, success: false, message: 'not supported by the bench client' });
      this.output.write(`Content-Length: ${Buffer.byteLength(reply, 'utf8')}\r\n\r\n${reply}`);
    }
  }
}
