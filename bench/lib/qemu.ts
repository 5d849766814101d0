/**
 * A fixture guest under QEMU (TCG), paused at reset (-S) with its GDB stub on a Unix socket in a
 * private directory: the way test/fixtures/README.md and the brief start it.
 */
import { existsSync, mkdtempSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { killTree, removeDir, spawnTracked, trackDir } from './procs';

export interface Guest {
  dir: string;
  sock: string;
  /** QEMU's QMP socket: given to our adapter's attach (`qmp`), as a user who started QEMU with -qmp would. */
  qmp: string;
  log: string;
  proc: ChildProcess;
  /** Resolves once the stub's socket exists (QEMU listens on it from then on). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function qemuArgs(kernel: string, cmdline: string, dir: string): string[] {
  return [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
    '-kernel', kernel, '-append', cmdline,
    '-serial', `file:${join(dir, 'console.log')}`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-gdb', `unix:${join(dir, 'gdb.sock')},server=on,wait=off`, '-S',
    '-qmp', `unix:${join(dir, 'qmp.sock')},server=on,wait=off`,
  ];
}

/** Starts QEMU; `ready` settles on the sockets' creation (a directory watch, not a timer). */
export function startGuest(kernel: string, cmdline: string, timeoutMs = 15_000): Guest {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'ukbench-')));
  const sock = join(dir, 'gdb.sock');
  const qmp = join(dir, 'qmp.sock');
  const proc = spawnTracked('qemu-system-x86_64', qemuArgs(kernel, cmdline, dir), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const watcher = watch(dir, (_event, name) => {
      if ((name === 'gdb.sock' || name === 'qmp.sock') && existsSync(sock) && existsSync(qmp)) done();
    });
    const timer = setTimeout(() => fail(new Error(`QEMU did not open its GDB stub within ${timeoutMs} ms. ${stderr}`)), timeoutMs);
    const onExit = (code: number | null): void => fail(new Error(`QEMU exited (${code}) before its GDB stub was up: ${stderr.trim()}`));
    proc.once('exit', onExit);
    proc.once('error', (e) => fail(e));
    function cleanup(): void {
      watcher.close();
      clearTimeout(timer);
      proc.off('exit', onExit);
    }
    function done(): void {
      cleanup();
      resolve();
    }
    function fail(e: Error): void {
      cleanup();
      reject(e);
    }
    // It may already be there (the watch started after the spawn).
    if (existsSync(sock) && existsSync(qmp)) done();
  });
  ready.catch(() => undefined);
  return {
    dir,
    sock,
    qmp,
    log: join(dir, 'console.log'),
    proc,
    ready,
    async stop() {
      await killTree(proc);
      removeDir(dir);
    },
  };
}
