/**
 * Every process the bench starts, and the guarantee that none outlives it.
 *
 * Each child runs in its own process group (detached) and carries BENCH_TAG in its environment;
 * adapters pass the environment on to the gdb and QEMU they start. Teardown kills a child's whole
 * tree (collected from /proc before anything dies, so reparented grandchildren are not missed), and a
 * final sweep kills whatever still carries the tag. The sweep also runs on Ctrl-C, SIGTERM and errors.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

export const BENCH_TAG_VAR = 'UNIKERNEL_BENCH_RUN';
export const BENCH_TAG = `${process.pid}-${Date.now()}`;

/** The environment every child gets. */
export function benchEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, [BENCH_TAG_VAR]: BENCH_TAG, ...extra };
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Spawns in a new process group with the bench tag; the child is killed at the latest at exit. */
export function spawnTracked(file: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts, env: benchEnv(opts.env as Record<string, string> | undefined), detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** A private directory removed at the end. */
export function trackDir(dir: string): string {
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 4 (ppid) after the parenthesised command name, which may itself hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** All descendants of pid (children, grandchildren, …), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentOf(entry);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function killHard(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      /* gone, or not a group leader */
    }
  }
}

/** Kills a child and everything below it; resolves once the child itself has exited (bounded). */
export async function killTree(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const below = descendants(pid);
  const exited = child.exitCode !== null || child.signalCode !== null;
  const gone = exited
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
  killHard(pid);
  for (const d of below) killHard(d);
  await gone;
  live.delete(child);
}

/** Processes (other than this one) that carry this run's tag. */
export function taggedProcesses(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!env.includes(`${BENCH_TAG_VAR}=${BENCH_TAG}`)) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), cmd });
    } catch {
      /* vanished or not ours to read */
    }
  }
  return found;
}

/** Kills every tracked child and every tagged process; removes private directories. Synchronous. */
export function sweep(): { pid: number; cmd: string }[] {
  for (const child of live) {
    if (child.pid !== undefined) {
      for (const d of descendants(child.pid)) killHard(d);
      killHard(child.pid);
    }
  }
  live.clear();
  const left = taggedProcesses();
  for (const p of left) killHard(p.pid);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
  return left;
}

let installed = false;

/** Ctrl-C, SIGTERM, an uncaught error or a plain exit: nothing the bench started survives it. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    process.stderr.write(`\nbench: ${signal}, killing everything it started\n`);
    sweep();
    process.exit(code);
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));
  process.on('SIGHUP', onSignal('SIGHUP', 129));
  process.on('exit', () => {
    sweep();
  });
}

/** Resolves with the value, or rejects after ms with a sentence naming what did not happen. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
