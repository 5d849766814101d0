/**
 * Makes sure nothing outlives the adapter, even when the adapter is killed with SIGKILL: a small
 * watcher process (this same bundle, run with --reaper) holds a pipe to the adapter; when the pipe
 * closes for any reason it kills every process group it was told about and removes the private
 * directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/** What the parts that start processes tell the reaper. */
export interface ProcessGuard {
  /** From now on, `pid`'s process group dies when the adapter does. */
  guard(pid: number): void;
  /** `pid` ended normally; forget it (its number may be reused). */
  release(pid: number): void;
  /** A directory to remove if the adapter dies before it could. */
  guardDir(path: string): void;
  releaseDir(path: string): void;
}

/** A guard that goes through whichever reaper runs now (there is none before initialize). */
export function guardThrough(reaper: () => Reaper | undefined): ProcessGuard {
  return {
    guard: (pid) => reaper()?.guard(pid),
    release: (pid) => reaper()?.release(pid),
    guardDir: (dir) => reaper()?.guardDir(dir),
    releaseDir: (dir) => reaper()?.releaseDir(dir),
  };
}

export class Reaper implements ProcessGuard {
  /** Every guarded pid in this process, for the adapter's own signal handlers. */
  private static readonly live = new Set<number>();
  private static readonly liveDirs = new Set<string>();

  /** Kills every guarded process group and removes the directories (synchronous: the adapter is being killed). */
  static killAllNow(): void {
    for (const pid of Reaper.live) killGroup(pid);
    // A directory goes only once its processes have (SIGKILL lands at their next scheduling): at
    // most 2 s, in 1 ms naps (the adapter is exiting; nothing else runs on this thread anyway).
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; waited < 2_000 && [...Reaper.live].some(isRunning); waited++) Atomics.wait(nap, 0, 0, 1);
    Reaper.live.clear();
    for (const dir of Reaper.liveDirs) rmSync(dir, { recursive: true, force: true });
    Reaper.liveDirs.clear();
  }

  private child: ChildProcess | undefined;
  /** Orders given before the watcher is spawned. */
  private early: string[] | undefined = [];
  private closed = false;

  /**
   * The watcher is spawned at the next turn of the event loop, not at once: spawning a process takes
   * milliseconds of this thread, which gdb's own start (asked right after) should not wait for.
   * Orders given meanwhile are written when it is up.
   */
  private constructor(spawnChild: (() => ChildProcess) | undefined) {
    if (!spawnChild) {
      this.early = undefined;
      return;
    }
    setImmediate(() => {
      if (this.closed) return;
      this.child = spawnChild();
      const early = this.early ?? [];
      this.early = undefined;
      for (const line of early) this.send(line);
    });
  }

  /**
   * The bundle that runs the watcher with --reaper. The standalone adapter is that bundle itself; an
   * adapter run inside another process (the extension host, a test) names it with `useScript`.
   */
  private static script: string | undefined;

  static useScript(script: string): void {
    Reaper.script = script;
  }

  /**
   * Starts the watcher; `script` is the adapter's bundle. The small dist/reaper.js next to it runs
   * the watcher when it is there; otherwise the bundle itself does, with --reaper.
   */
  static start(script: string | undefined = Reaper.script ?? process.argv[1]): Reaper {
    if (!script) return new Reaper(undefined);
    const small = join(dirname(script), 'reaper.js');
    const args = existsSync(small) ? [small] : [script, '--reaper'];
    return new Reaper(() => {
      // In VS Code's extension host the executable is Electron's: run it as Node.
      const child = spawn(process.execPath, args, {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      child.on('error', () => undefined);
      child.stdin?.on('error', () => undefined);
      // Its own start must not take CPU from gdb's and QEMU's, which a session start waits for; orders
      // wait in the pipe meanwhile, and the pipe's end reaches it whenever it runs.
      if (child.pid !== undefined) {
        try {
          setPriority(child.pid, 19);
        } catch {
          /* left at the adapter's priority */
        }
      }
      child.unref();
      // The pipe must not keep the adapter alive either.
      (child.stdin as (Writable & { unref?: () => void }) | null)?.unref?.();
      return child;
    });
  }

  guard(pid: number): void {
    Reaper.live.add(pid);
    this.send(`+${pid}`);
  }

  release(pid: number): void {
    Reaper.live.delete(pid);
    this.send(`-${pid}`);
  }

  guardDir(path: string): void {
    Reaper.liveDirs.add(path);
    this.send(`d${path}`);
  }

  releaseDir(path: string): void {
    Reaper.liveDirs.delete(path);
    this.send(`u${path}`);
  }

  /** Ends the watcher (anything still guarded is killed by it); resolves once it is gone, at most 2 s. */
  close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, 2_000);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      child.once('exit', done);
      child.stdin?.end();
    });
  }

  private send(line: string): void {
    if (line.includes('\n')) return;
    if (this.early) this.early.push(line);
    else this.child?.stdin?.write(`${line}\n`);
  }
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

/** Running, as opposed to gone or a zombie waiting for its new parent to reap it. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** The watcher's main loop: reads its orders until stdin closes, then kills and removes what is left. */
export function runReaper(): void {
  const guarded = new Set<number>();
  const dirs = new Set<string>();
  let partial = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const arg = line.slice(1);
      const pid = Number.parseInt(arg, 10);
      if (line[0] === 'd' && arg.startsWith('/')) dirs.add(arg);
      else if (line[0] === 'u') dirs.delete(arg);
      else if (!Number.isInteger(pid) || pid <= 1) continue;
      else if (line[0] === '+') guarded.add(pid);
      else if (line[0] === '-') guarded.delete(pid);
    }
  });
  const finish = (): void => {
    for (const pid of guarded) killGroup(pid);
    // SIGKILL takes effect at the victim's next scheduling; its files go only after it is gone.
    const deadline = Date.now() + 5_000;
    const cleanUp = (): void => {
      if ([...guarded].some(isRunning) && Date.now() < deadline) {
        setImmediate(cleanUp);
        return;
      }
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    };
    cleanUp();
  };
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  // The watcher itself must survive the signals that kill the adapter's group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', finish);
  process.on('SIGHUP', () => undefined);
}
