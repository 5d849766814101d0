/**
 * One running QEMU: started from a plan, ready once its sockets exist (watched, not polled), with its
 * serial console connected before the guest runs, and ended with its whole process group.
 */
import { EventEmitter } from 'node:events';
import { watch, existsSync, readFileSync, type FSWatcher } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { killProcessTree } from './kill';
import { planQemu, type QemuPlan, type QemuPlanInput } from './plan';
import { MemsaveReader } from './guestMemory';
import { QmpClient } from './qmp';
import { ConsoleSource } from './consoleSource';

export class QemuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QemuError';
  }
}

export interface QemuStartOptions extends Omit<QemuPlanInput, 'privateDir' | 'consoleLog'> {
  qemuPath?: string;
  consoleLog?: string;
  cwd?: string;
  /** Upper bound for QEMU to create its sockets. */
  readyTimeoutMs?: number;
  onSpawn?: (pid: number) => void;
  /** Called with the private directory as soon as it exists, so the caller can guard it too. */
  onPrivateDir?: (dir: string) => void;
}

export interface QemuEvents {
  /** Raw console bytes, as the guest wrote them. */
  console: [Buffer];
  /** QEMU is gone; the sentence says how. */
  exit: [string, number | null];
  consoleClosed: [];
}

/** The longest path a Unix socket address holds (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/**
 * Makes a directory only this user can enter (mkdtemp creates it 0700). A TMPDIR too deep for
 * Unix socket paths falls back to /tmp.
 */
export async function makePrivateDir(prefix = 'unikernel-debug-'): Promise<string> {
  const longest = 'console.sock'.length + prefix.length + 8;
  const base = tmpdir().length + longest < MAX_SOCKET_PATH ? tmpdir() : '/tmp';
  return mkdtemp(join(base, prefix));
}

/** True when every path is a Unix socket some process listens on (from /proc/net/unix). */
function listeningUnixSockets(paths: string[]): boolean {
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return true; // no procfs: the socket files are the best sign there is
  }
  const listening = new Set<string>();
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Flags 00010000 is __SO_ACCEPTCON: the socket is listening.
    if (f.length >= 8 && f[3] === '00010000' && f[7]) listening.add(f[7]);
  }
  return paths.every((p) => listening.has(p));
}

export class QemuInstance extends EventEmitter<QemuEvents> {
  private exited: string | undefined;
  private stderrTail = '';
  private console: Socket | undefined;
  private noConsole = false;
  /** The console is a file QEMU writes (a recording); it is followed, not read from a socket. */
  private fileConsole = false;
  private followed: ConsoleSource | undefined;
  /** QEMU's machine protocol: why the machine stopped, and a clean quit. */
  qmp: QmpClient | undefined;

  private constructor(
    private readonly proc: ResultPromise,
    readonly plan: QemuPlan,
    readonly privateDir: string,
    readonly consoleLog: string,
    private readonly ownsDir: boolean,
  ) {
    super();
    proc.stderr?.on('data', (c: Buffer) => {
      this.stderrTail = (this.stderrTail + c.toString('utf8')).slice(-4000);
    });
    proc.on('exit', (code, signal) => {
      const err = this.stderrTail.trim().split('\n').filter(Boolean).slice(-3).join(' ');
      let why: string;
      if (signal) why = `QEMU was killed by ${signal}`;
      else why = `QEMU exited with code ${code}`;
      this.exited = err ? `${why}: ${err}` : `${why}.`;
      this.emit('exit', this.exited, code);
    });
  }

  static async start(opts: QemuStartOptions): Promise<QemuInstance> {
    const privateDir = await makePrivateDir();
    opts.onPrivateDir?.(privateDir);
    const consoleLog = opts.consoleLog ?? join(privateDir, 'console.log');
    const plan = planQemu({ ...opts, privateDir, consoleLog });
    const file = opts.qemuPath ?? 'qemu-system-x86_64';
    const proc = execa(file, plan.args, {
      cwd: opts.cwd,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      detached: true,
      cleanup: false,
    });
    if (proc.pid !== undefined) opts.onSpawn?.(proc.pid);
    const qemu = new QemuInstance(proc, plan, privateDir, consoleLog, true);
    qemu.noConsole = !!opts.noConsole;
    qemu.fileConsole = !opts.noConsole && !!opts.consoleFile;
    try {
      await qemu.waitReady(file, opts.readyTimeoutMs ?? 15_000);
      [qemu.qmp] = await Promise.all([QmpClient.connect(plan.qmpSocket), opts.noConsole || qemu.fileConsole ? undefined : qemu.connectConsole()]);
      if (qemu.fileConsole) {
        // QEMU made the file before its sockets listened, and the guest has not run yet.
        qemu.followed = ConsoleSource.followFile(consoleLog, !opts.consoleLogAppend);
        qemu.followed.on('data', (chunk) => qemu.emit('console', chunk));
      }
    } catch (e) {
      await qemu.dispose();
      throw e;
    }
    return qemu;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get isAlive(): boolean {
    return this.exited === undefined;
  }

  get exitReason(): string | undefined {
    return this.exited;
  }

  /** Resolves when both sockets exist; rejects with QEMU's own words when it dies first. */
  private waitReady(file: string, timeoutMs: number): Promise<void> {
    const sockets = this.noConsole || this.fileConsole ? [this.plan.gdbSocket, this.plan.qmpSocket] : [this.plan.gdbSocket, this.plan.consoleSocket, this.plan.qmpSocket];
    return new Promise<void>((resolve, reject) => {
      let watcher: FSWatcher | undefined;
      let settled = false;
      const done = (err?: Error): void => {
        settled = true;
        watcher?.close();
        clearTimeout(timer);
        this.proc.off('error', onError);
        this.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (settled || !sockets.every((p) => existsSync(p))) return;
        // The file appears at bind(); listen() follows a moment later.
        if (listeningUnixSockets(sockets)) {
          settled = true;
          done();
        } else setImmediate(check);
      };
      const onError = (err: NodeJS.ErrnoException): void =>
        done(
          new QemuError(
            err.code === 'ENOENT'
              ? `${file} was not found; install QEMU (for example \`sudo apt-get install qemu-system-x86\`) or set "qemuPath".`
              : `QEMU could not be started: ${err.message}.`,
          ),
        );
      const onExit = (reason: string): void => done(new QemuError(`QEMU stopped before the guest could start. ${reason}`));
      const timer = setTimeout(
        () => done(new QemuError(`QEMU did not open its gdb socket within ${Math.round(timeoutMs / 1000)} s.`)),
        timeoutMs,
      );
      this.proc.on('error', onError);
      this.on('exit', onExit);
      watcher = watch(this.privateDir, check);
      check();
    });
  }

  private connectConsole(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sock = createConnection(this.plan.consoleSocket);
      sock.once('connect', () => {
        this.console = sock;
        resolve();
      });
      sock.once('error', (e) => reject(new QemuError(`Cannot connect to the guest console: ${e.message}.`)));
      // Always read: a client that stops reading stalls the guest.
      sock.on('data', (chunk: Buffer) => this.emit('console', chunk));
      sock.on('error', () => undefined);
      sock.on('close', () => {
        this.consoleOpen = false;
        this.emit('consoleClosed');
      });
    });
  }

  private consoleOpen = true;

  /**
   * Resolves once every console byte QEMU wrote has been read (its end of the socket closed), or
   * after `timeoutMs`: the last lines of a dying guest are often the ones that matter.
   */
  consoleDrained(timeoutMs: number): Promise<void> {
    if (this.followed) return this.followed.caughtUp(timeoutMs);
    if (!this.console || !this.consoleOpen) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.off('consoleClosed', done);
        resolve();
      }
      this.once('consoleClosed', done);
    });
  }

  private memory: MemsaveReader | undefined;

  /** Guest memory (virtual addresses, as the CPU sees them) straight from QEMU; undefined when it cannot. */
  readGuestMemory(address: bigint, size: number, cpuIndex = 0): Promise<Buffer | undefined> {
    this.memory ??= new MemsaveReader(() => (this.isAlive ? this.qmp : undefined), this.privateDir);
    return this.memory.read(address, size, cpuIndex);
  }

  /** Waits for QEMU to end, at most `timeoutMs`; resolves true when it did. */
  waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.isAlive) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.off('exit', onExit);
        resolve(false);
      }, timeoutMs);
      const onExit = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.once('exit', onExit);
    });
  }

  /** Kills QEMU's process group, waits for it to go, removes the private directory. */
  async dispose(): Promise<void> {
    this.console?.destroy();
    this.followed?.close();
    this.qmp?.close();
    const pid = this.proc.pid;
    if (this.isAlive && pid !== undefined) {
      await killProcessTree(pid);
      await this.waitExit(5_000);
    }
    if (this.ownsDir) await rm(this.privateDir, { recursive: true, force: true });
  }
}
