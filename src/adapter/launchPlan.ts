/**
 * Launch and attach planning: everything that can be checked before a process starts is checked
 * here, with one sentence when it fails: the image boots under QEMU, the symbols fit it and gdb can
 * load them, the platform (given or detected) can launch it, the console log can be written, the
 * attach target exists. The result says how to start the machine.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { QemuStartOptions } from '../qemu/instance';
import { ImageError, bootProblem, isThirtyTwoBitGuest, mismatchProblem, readBootImage, symbolsProblem, type BootImage } from '../qemu/bootImage';
import type { ElfInfo } from '../elf';
import { tcpEndpoint } from '../qemu/endpoint';
import { NETDEV_ID, PROFILES, debugFileFor, detectPlatform, imageFacts, type PlatformProfile } from '../qemu/profiles';
import { ConfigError, normalizeTarget, type AttachArguments, type LaunchArguments } from './config';

/** Something to tell the user on the way (the Debug Console category). */
export type Say = (text: string, category: 'console' | 'important') => void;

export interface LaunchPlan {
  profile: PlatformProfile;
  /** The ELF gdb loads. */
  symbols: string;
  guestBits: 32 | 64;
  /** The image's entry point as a gdb location (`*0x…`). */
  kernelEntry: string;
  /** How QEMU starts; every QEMU of the session (a replay, a new recording) is this machine. */
  machine: QemuStartOptions;
  /** The guest's user-network backends (a recording replays their packets). */
  netdevs: string[];
}

export async function planLaunch(args: LaunchArguments, say: Say): Promise<LaunchPlan> {
  const kernelInfo = await readBootImage(args.kernel, 'image');
  const problem = bootProblem(kernelInfo);
  if (problem) throw new ImageError(problem);
  // A 32-bit image with its own DWARF is a 32-bit guest; without, it boots a 64-bit kernel (Unikraft).
  const guestBits = isThirtyTwoBitGuest(kernelInfo) && !args.symbols && !debugFileFor(args.kernel) ? 32 : 64;
  const bootCopy = kernelInfo.bits === 32 && guestBits === 64;
  const symbols = args.symbols ?? (bootCopy ? (debugFileFor(args.kernel) ?? `${args.kernel}.dbg`) : args.kernel);
  // Both read the symbols file: at once (the image itself is not read again when it is the symbols file).
  const [, facts] = await Promise.all([
    checkSymbols(symbols, guestBits, say, bootCopy && !args.symbols, kernelInfo),
    imageFacts(args.kernel, kernelInfo, symbols),
  ]);
  const profile = args.platform ? PROFILES[args.platform] : detectPlatform(facts);
  const platformProblem = profile.launchProblem?.(facts);
  if (platformProblem) throw new ImageError(platformProblem);
  if (args.consoleLog) await writeConsoleLogMeta(args.consoleLog, { symbols, kernel: args.kernel, platform: profile.name });
  // The platform's word is the one launch.json takes and the image's crash reports carry.
  say(`${profile.label}: platform "${profile.name}"${args.platform ? '' : ' (detected)'}, booting ${args.kernel}${args.noDebug ? ' without the debugger' : ''}\n`, 'console');
  const guest = { kernel: args.kernel, cmdline: args.cmdline, net: args.net, disks: args.disks, recorded: !!args.record && !args.noDebug };
  return {
    profile,
    symbols,
    guestBits,
    kernelEntry: `*0x${kernelInfo.entry.toString(16)}`,
    machine: {
      kernel: args.kernel,
      cmdline: profile.guestCommandLine(guest),
      memoryMiB: args.memory,
      cpus: args.cpus,
      qemuPath: args.qemuPath ?? (guestBits === 32 ? 'qemu-system-i386' : 'qemu-system-x86_64'),
      extraArgs: [...profile.qemuArgs(guest), ...(args.qemuArgs ?? [])],
      exitPorts: profile.exitPorts,
      cwd: args.cwd,
    },
    netdevs: args.net ? [NETDEV_ID] : [],
  };
}

/** The GDB stub to connect to, checked to exist when it is a socket file. */
export async function planAttach(args: AttachArguments, say: Say): Promise<{ target: string }> {
  const target = normalizeTarget(args.target, args.cwd ?? process.cwd());
  if (!tcpEndpoint(target) && !existsSync(target)) {
    throw new ConfigError(`Nothing is listening at ${target}: the socket does not exist. Start the guest with its GDB stub first.`);
  }
  if (args.symbols) await checkSymbols(args.symbols, 64, say, false);
  return { target };
}

/** The symbols gdb loads: a 64-bit ELF for a 64-bit guest, of the image's build; without DWARF, a warning. */
async function checkSymbols(path: string, guestBits: 32 | 64, say: Say, guessed: boolean, image?: BootImage & ElfInfo): Promise<void> {
  if (guessed && !existsSync(path)) {
    throw new ImageError(
      `The image is a 32-bit boot image and no 64-bit debug file was found next to it (looked for ${path}); set "symbols" to the ELF with debug info.`,
    );
  }
  const info = image?.path === path ? image : await readBootImage(path, 'symbols file');
  const problem = symbolsProblem(info, guestBits) ?? (image ? mismatchProblem(image, info) : undefined);
  if (problem) throw new ImageError(problem);
  if (!info.hasDebugInfo) say(`${path} has no debug information: breakpoints by line and variables will not work. Build with -g.\n`, 'important');
}

/**
 * Next to a console log the adapter writes, a note of which image printed it, so that the log can be
 * symbolized later (the console-log language server and `unikernel-trace` read it). Writing it first
 * also tells, before QEMU starts, whether the log's directory is usable.
 */
async function writeConsoleLogMeta(consoleLog: string, meta: { symbols: string; kernel: string; platform?: string }): Promise<void> {
  try {
    await writeFile(`${consoleLog}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' || code === 'EROFS' ? 'its directory is not writable' : String(code ?? e);
    throw new ConfigError(`"consoleLog" cannot be written at ${consoleLog}: ${why}. Choose a writable path.`);
  }
}
