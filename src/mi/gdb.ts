/**
 * A gdb process driven over GDB/MI: commands are matched to their result records by token, async
 * records become typed events, every wait is bounded, and gdb dying rejects whatever is pending with
 * a sentence a person can act on.
 */
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { MiStreamParser } from './parser';
import type { MiRecord, MiResultClass, MiTuple } from './types';

export interface GdbOptions {
  gdbPath?: string;
  cwd?: string;
  /** Read ~/.gdbinit and friends; off by default so a user's init file cannot change what we parse. */
  useInitFiles?: boolean;
  /** Upper bound for one command's answer, unless the call gives its own. */
  commandTimeoutMs?: number;
  /** Multiplies every command's bound (tests shorten them to see a hung gdb quickly). */
  timeoutScale?: number;
  /** Called with the pid right after spawning, so the caller can make sure it dies with the session. */
  onSpawn?: (pid: number) => void;
  /** Everything sent to and read from gdb is appended here (a file path), for diagnosing a session. */
  traceFile?: string;
}

export interface MiResult {
  resultClass: MiResultClass;
  results: MiTuple;
  /** Console stream text gdb printed while running this command (for CLI commands). */
  console: string;
}

export interface MiAsync {
  kind: 'exec' | 'status' | 'notify';
  asyncClass: string;
  results: MiTuple;
}

/** gdb answered a command with ^error. */
export class GdbCommandError extends Error {
  constructor(readonly command: string, message: string) {
    super(message);
    this.name = 'GdbCommandError';
  }
}

/** gdb is gone, did not start, or did not answer in time. */
export class GdbProcessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GdbProcessError';
  }
}

interface Pending {
  command: string;
  resolve: (r: MiResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  console: string[];
}

export interface GdbEvents {
  exec: [MiAsync];
  notify: [MiAsync];
  status: [MiAsync];
  console: [string];
  target: [string];
  log: [string];
  exit: [string];
}

export class Gdb extends EventEmitter<GdbEvents> {
  private nextToken = 1;
  private readonly pending = new Map<number, Pending>();
  private exited: string | undefined;
  private stderrTail = '';
  private readonly commandTimeoutMs: number;
  private readonly timeoutScale: number;
  private readonly trace: WriteStream | undefined;
  /** Console text is attributed to the oldest command still waiting: gdb answers in order. */
  private readonly order: number[] = [];

  private constructor(private readonly proc: ResultPromise, opts: GdbOptions) {
    super();
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 15_000;
    this.timeoutScale = opts.timeoutScale ?? 1;
    const parser = new MiStreamParser((rec) => this.onRecord(rec));
    this.trace = opts.traceFile ? createWriteStream(opts.traceFile, { flags: 'a' }) : undefined;
    this.trace?.on('error', () => undefined);
    proc.stdout?.on('data', (chunk: Buffer) => {
      this.trace?.write(chunk);
      parser.push(chunk);
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    proc.stdin?.on('error', () => undefined);
    proc.on('exit', (code, signal) => {
      parser.end();
      this.trace?.end();
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = this.stderrTail.trim();
      this.markExited(`gdb ${why}${tail ? `: ${tail.split('\n').slice(-1)[0]}` : ''}.`);
    });
    proc.on('error', (err: NodeJS.ErrnoException) => {
      this.markExited(
        err.code === 'ENOENT'
          ? `gdb was not found (${err.path ?? 'gdb'}); install it (for example \`sudo apt-get install gdb\`) or set "gdbPath".`
          : `gdb could not be started: ${err.message}.`,
      );
    });
  }

  /** Spawns gdb in MI3 mode and makes it ready for an asynchronous remote target. */
  static async start(opts: GdbOptions = {}): Promise<Gdb> {
    const file = opts.gdbPath ?? 'gdb';
    const args = ['--interpreter=mi3', '-q'];
    if (!opts.useInitFiles) args.unshift('-nx');
    const proc = execa(file, args, {
      cwd: opts.cwd,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      // Its own process group: a Ctrl-C meant for the adapter must not reach gdb, and the group can be killed whole.
      detached: true,
      cleanup: false,
      encoding: 'buffer',
    });
    const gdb = new Gdb(proc, opts);
    if (proc.pid !== undefined) opts.onSpawn?.(proc.pid);
    // Setup commands; the first one also waits for gdb to come up.
    await gdb.send('-gdb-set mi-async on');
    await Promise.all([
      gdb.send('-gdb-set pagination off'),
      gdb.send('-gdb-set confirm off'),
      gdb.send('-gdb-set width 0'),
      gdb.send('-gdb-set height 0'),
      gdb.send('-gdb-set print pretty off'),
      gdb.send('-enable-pretty-printing'),
    ]);
    return gdb;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The process itself still runs (it may already be declared gone, e.g. hung and being killed). */
  private get running(): boolean {
    return this.proc.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get isAlive(): boolean {
    return this.exited === undefined;
  }

  /** Why gdb is gone, once it is. */
  get exitReason(): string | undefined {
    return this.exited;
  }

  /**
   * Sends one MI command (without token) and resolves with its result record. ^error rejects with
   * GdbCommandError carrying gdb's message.
   */
  send(command: string, timeout = this.commandTimeoutMs): Promise<MiResult> {
    if (this.exited !== undefined) return Promise.reject(new GdbProcessError(this.exited));
    const timeoutMs = timeout * this.timeoutScale;
    const token = this.nextToken++;
    return new Promise<MiResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        // gdb answers in order: one command without an answer means none will come. A hung gdb is
        // ended, so that the session ends with a reason instead of hanging with it.
        this.settle(token);
        const reason = `gdb stopped answering (no reply to \`${command.split(' ')[0]}\` within ${Math.round(timeoutMs / 1000)} s).`;
        reject(new GdbProcessError(reason));
        this.markExited(reason);
        this.kill();
      }, timeoutMs);
      this.pending.set(token, { command, resolve, reject, timer, console: [] });
      this.order.push(token);
      this.proc.stdin?.write(`${token}${command}\n`);
      this.trace?.write(`>>> ${Date.now()} ${token}${command}\n`);
    });
  }

  /** Ends gdb: asks politely, then kills its process group. Resolves when it is gone. */
  async dispose(graceMs = 500): Promise<void> {
    if (!this.running) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL of gdb's process group. */
  kill(): void {
    const pid = this.proc.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  private settle(token: number): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    clearTimeout(p.timer);
    const i = this.order.indexOf(token);
    if (i >= 0) this.order.splice(i, 1);
    return p;
  }

  private markExited(reason: string): void {
    if (this.exited !== undefined) return;
    this.exited = reason;
    for (const token of [...this.pending.keys()]) this.settle(token)?.reject(new GdbProcessError(reason));
    this.emit('exit', reason);
  }

  private onRecord(rec: MiRecord): void {
    switch (rec.kind) {
      case 'result': {
        const p = rec.token === undefined ? undefined : this.settle(rec.token);
        if (!p) return;
        if (rec.resultClass === 'error') {
          const msg = typeof rec.results.msg === 'string' ? rec.results.msg : 'gdb reported an error';
          p.reject(new GdbCommandError(p.command, msg));
        } else {
          p.resolve({ resultClass: rec.resultClass, results: rec.results, console: p.console.join('') });
        }
        return;
      }
      case 'exec':
      case 'status':
      case 'notify':
        this.emit(rec.kind, { kind: rec.kind, asyncClass: rec.asyncClass, results: rec.results });
        return;
      case 'console': {
        const first = this.order[0];
        const p = first === undefined ? undefined : this.pending.get(first);
        if (p) p.console.push(rec.text);
        else this.emit('console', rec.text);
        return;
      }
      case 'target': {
        // Remote monitor output (`monitor info registers`) belongs to the command that asked for it.
        const first = this.order[0];
        const p = first === undefined ? undefined : this.pending.get(first);
        if (p) p.console.push(rec.text);
        else this.emit('target', rec.text);
        return;
      }
      case 'log':
        this.emit('log', rec.text);
        return;
      default:
        return;
    }
  }
}
