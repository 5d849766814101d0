/**
 * The QEMU argument plan: an argument array (never a shell string) that boots an image paused, with
 * the gdb stub and the serial console on Unix sockets in a private directory.
 */
import { join } from 'node:path';

export interface QemuPlanInput {
  kernel: string;
  cmdline?: string;
  memoryMiB?: number;
  cpus?: number;
  /** Directory only the user can enter; sockets live there. */
  privateDir: string;
  /** Where QEMU itself writes every console byte (kept even while nobody reads the socket). */
  consoleLog: string;
  /** Add to the console log instead of starting it afresh (a restarted recording keeps the first run's output). */
  consoleLogAppend?: boolean;
  /** The isa-debug-exit ports the platform writes its exit status to (default: 0xf4, our own convention). */
  exitPorts?: readonly number[];
  /** Extra arguments from the user, appended as given. */
  extraArgs?: string[];
  /** Start paused (-S) so gdb sees the very first instruction. */
  paused?: boolean;
  /** No console socket (`-serial null`): a replay shows the recorded console instead of a second copy. */
  noConsole?: boolean;
  /**
   * The console goes straight to `consoleLog` (a file chardev), no socket: a recording must not
   * depend on how fast somebody reads a socket (a write the socket refused is retried when the host
   * says so, which the replay cannot reproduce).
   */
  consoleFile?: boolean;
}

export interface QemuPlan {
  args: string[];
  gdbSocket: string;
  consoleSocket: string;
  qmpSocket: string;
}

/** QEMU option values are comma-separated lists: a comma inside a value is written twice. */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

export function planQemu(input: QemuPlanInput): QemuPlan {
  const gdbSocket = join(input.privateDir, 'gdb.sock');
  const consoleSocket = join(input.privateDir, 'console.sock');
  const qmpSocket = join(input.privateDir, 'qmp.sock');
  const args = [
    '-accel', 'tcg',
    '-nodefaults',
    '-display', 'none',
    // Instead of -no-reboot: a reset (a triple fault) or a power-off pauses the machine, so gdb
    // stops at the faulting instruction; QMP then says which of the two it was.
    '-action', 'reboot=shutdown,shutdown=pause',
    '-qmp', `unix:${qemuOptValue(qmpSocket)},server=on,wait=off`,
    '-m', String(input.memoryMiB ?? 128),
    '-smp', String(input.cpus ?? 1),
    '-kernel', input.kernel,
    ...(input.noConsole
      ? ['-serial', 'null']
      : input.consoleFile
        ? ['-chardev', `file,id=console,path=${qemuOptValue(input.consoleLog)}${input.consoleLogAppend ? ',append=on' : ''}`, '-serial', 'chardev:console']
        : [
          '-chardev',
          `socket,id=console,path=${qemuOptValue(consoleSocket)},server=on,wait=off,logfile=${qemuOptValue(input.consoleLog)}${input.consoleLogAppend ? ',logappend=on' : ''}`,
          '-serial', 'chardev:console',
        ]),
    '-gdb', `unix:${qemuOptValue(gdbSocket)},server=on,wait=off`,
    // Lets a guest end QEMU with an exit status, at the port its platform writes (Solo5: the device's default, 0x501).
    ...(input.exitPorts ?? [0xf4]).flatMap((port) => ['-device', `isa-debug-exit,iobase=0x${port.toString(16)},iosize=0x04`]),
  ];
  if (input.cmdline !== undefined && input.cmdline !== '') args.push('-append', input.cmdline);
  if (input.paused !== false) args.push('-S');
  args.push(...(input.extraArgs ?? []));
  return { args, gdbSocket, consoleSocket, qmpSocket };
}
