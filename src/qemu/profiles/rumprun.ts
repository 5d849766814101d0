/**
 * Rumprun (hw platform): a `rumprun-bake`d image booted by multiboot. Its command line is a JSON
 * configuration; `cmdline` in launch.json is the application's arguments (argv[1] on), and net/disks become JSON
 * entries with their QEMU devices. A Rumprun guest never leaves QEMU by itself: it halts.
 */
import { basename } from 'node:path';
import { genericExit } from './exits';
import { rumprunScheduler } from './threads/rumprun';
import { virtioDevices, type GuestInput, type PlatformProfile } from './types';

export function rumprunConfig(input: GuestInput): string {
  // `cmdline` holds the arguments; argv[0] is the image's name, as the `rumprun` launcher writes it.
  const args = input.cmdline?.trim();
  const argv = args ? `${basename(input.kernel)} ${args}` : basename(input.kernel);
  // Rumprun's parser takes repeated keys for several devices, which JSON.stringify cannot write.
  const parts = [`"cmdline": ${JSON.stringify(argv)}`];
  if (input.net) parts.push(`"net": ${JSON.stringify({ if: 'vioif0', type: 'inet', method: 'dhcp' })}`);
  (input.disks ?? []).forEach((d, i) => {
    parts.push(
      `"blk": ${JSON.stringify({ source: 'dev', path: `/dev/ld${i}a`, fstype: 'blk', mountpoint: d.mountpoint ?? `/disk${i}` })}`,
    );
  });
  return `{${parts.join(', ')}}`;
}

export const rumprun: PlatformProfile = {
  name: 'rumprun',
  label: 'Rumprun',
  tellTales: ['bmk_sched_init', 'rumprun_main', 'rumpuser_init'],
  score: (f) => (f.symbols.has('bmk_sched_init') || f.symbols.has('rumprun_main') ? 10 : /\.bin$/.test(f.path) ? 1 : 0),
  guestCommandLine: rumprunConfig,
  // -nodefaults already leaves out the VGA card that would take Rumprun's console from the serial port.
  qemuArgs: (input) => virtioDevices(input),
  entrySymbols: ['main'],
  // A Rumprun guest halts; the console's `_exit(N)` line is its status if QEMU is ended otherwise.
  exitPorts: [],
  exitStatus: genericExit,
  scheduler: rumprunScheduler,
};
