/**
 * Makes sure no child outlives the adapter, even when the adapter is killed with SIGKILL: a small
 * watcher process (this same bundle, run with --reaper) holds a pipe to the adapter; when the pipe
 * closes for any reason it kills every process group it was told about.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';

export class Reaper {
  /** Every guarded pid in this process, for the adapter's own signal handlers. */
  private static readonly live = new Set<number>();

  /** Kills every guarded process group at once (synchronous: used while the adapter is being killed). */
  static killAllNow(): void {
    for (const pid of Reaper.live) killGroup(pid);
    Reaper.live.clear();
  }

  private constructor(private readonly child: ChildProcess | undefined) {}

  /** Starts the watcher; `script` is the bundle to run with --reaper (the adapter's own file). */
  static start(script: string | undefined = process.argv[1]): Reaper {
    if (!script) return new Reaper(undefined);
    const child = spawn(process.execPath, [script, '--reaper'], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.unref();
    // The pipe must not keep the adapter alive either.
    (child.stdin as (Writable & { unref?: () => void }) | null)?.unref?.();
    return new Reaper(child);
  }

  /** From now on, `pid`'s process group dies when the adapter does. */
  guard(pid: number): void {
    Reaper.live.add(pid);
    this.child?.stdin?.write(`+${pid}\n`);
  }

  /** `pid` ended normally; forget it (its number may be reused). */
  release(pid: number): void {
    Reaper.live.delete(pid);
    this.child?.stdin?.write(`-${pid}\n`);
  }

  /** Ends the watcher; anything still guarded is killed by it. */
  close(): void {
    this.child?.stdin?.end();
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

/** The watcher's main loop: reads +pid / -pid lines until stdin closes, then kills what is left. */
export function runReaper(): void {
  const guarded = new Set<number>();
  let partial = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const pid = Number.parseInt(line.slice(1), 10);
      if (!Number.isInteger(pid) || pid <= 1) continue;
      if (line[0] === '+') guarded.add(pid);
      else if (line[0] === '-') guarded.delete(pid);
    }
  });
  const finish = (): void => {
    for (const pid of guarded) killGroup(pid);
    process.exit(0);
  };
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  // The watcher itself must survive the signals that kill the adapter's group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', finish);
  process.on('SIGHUP', () => undefined);
}
