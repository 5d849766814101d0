/**
 * A platform profile knows how its images boot under QEMU, how the guest command line is passed,
 * where its application starts, and how to recognise its images.
 */
import type { BootImage } from '../bootImage';
import type { GuestExit } from './exits';
import type { SchedulerLayout } from './threads/types';

export type { GuestExit } from './exits';

export type PlatformName = 'rumprun' | 'mirage' | 'unikraft' | 'generic';

/** What detection looks at: the image itself and the files around it. */
export interface ImageFacts {
  path: string;
  info: BootImage;
  /** The tell-tale symbols found in the image (or its debug file). */
  symbols: ReadonlySet<string>;
  /** A MirageOS `config.ml` sits in the image's directory or a parent of it. */
  nearConfigMl: boolean;
}

export interface NetConfig {
  /** QEMU user networking; `hostfwd` entries such as `tcp::8080-:80`. */
  hostfwd?: string[];
}

export interface DiskConfig {
  /** Host file with the disk image. */
  path: string;
  /** Where the guest mounts it (Rumprun). */
  mountpoint?: string;
}

export interface GuestInput {
  kernel: string;
  cmdline?: string;
  net?: NetConfig;
  disks?: DiskConfig[];
  /**
   * The run is recorded for a replay: disk I/O goes through `blkreplay` (its completions are events
   * to replay) and writes are kept in a throw-away layer, so that the replay reads what the recording read.
   */
  recorded?: boolean;
}

export interface PlatformProfile {
  name: PlatformName;
  label: string;
  /** The symbols whose presence says "this platform built the image". */
  tellTales: readonly string[];
  /** How sure this profile is that the image is its own: 0 = not at all. */
  score(facts: ImageFacts): number;
  /** The `-append` text for `cmdline` (undefined: no -append). */
  guestCommandLine(input: GuestInput): string | undefined;
  /** QEMU arguments this platform needs (devices, machine options, net and disks). */
  qemuArgs(input: GuestInput): string[];
  /** Where `stopAtEntry: true` stops: the application's entry, first one the image has. */
  entrySymbols: readonly string[];
  /** The isa-debug-exit ports the platform writes its exit status to. */
  exitPorts: readonly number[];
  /** The guest's own exit from QEMU's exit code and the console's last lines. */
  exitStatus(code: number, console: readonly string[]): GuestExit;
  /** Why this image cannot be launched the usual way, if it cannot (e.g. Solo5 hvt). */
  launchProblem?(facts: ImageFacts): string | undefined;
  /**
   * The platform's own thread scheduler, whose threads the debugger lists (threads/). Absent: the
   * guest runs one thread per vCPU as far as the debugger can tell (Solo5, generic kernels).
   */
  scheduler?: SchedulerLayout;
}

/** The id of the guest's user-network backend (a recording replays its packets through a filter). */
export const NETDEV_ID = 'net0';

/** `-netdev user` + virtio-net, and virtio block devices: the common way to give a guest a NIC and disks. */
export function virtioDevices(input: GuestInput): string[] {
  const args: string[] = [];
  if (input.net) {
    const fwd = (input.net.hostfwd ?? []).map((f) => `,hostfwd=${f.replaceAll(',', ',,')}`).join('');
    args.push('-netdev', `user,id=${NETDEV_ID}${fwd}`, '-device', `virtio-net-pci,netdev=${NETDEV_ID}`);
  }
  (input.disks ?? []).forEach((d, i) => {
    const file = d.path.replaceAll(',', ',,');
    if (input.recorded) {
      args.push(
        '-drive', `if=none,format=raw,id=disk${i}-direct,file=${file},snapshot=on`,
        '-drive', `driver=blkreplay,if=none,image=disk${i}-direct,id=disk${i}`,
        '-device', `virtio-blk-pci,drive=disk${i}`,
      );
    } else {
      args.push('-drive', `if=virtio,format=raw,id=disk${i},file=${file}`);
    }
  });
  return args;
}
