/**
 * Anything else QEMU's -kernel boots: a multiboot image (a.out kludge or ELF32) or a PVH ELF.
 */
import { genericExit } from './exits';
import type { PlatformProfile } from './types';
import { virtioDevices } from './types';

export const generic: PlatformProfile = {
  name: 'generic',
  label: 'Multiboot / PVH image',
  tellTales: [],
  score: () => 0.5,
  guestCommandLine: (input) => input.cmdline,
  qemuArgs: (input) => virtioDevices(input),
  entrySymbols: ['main', 'kmain', 'kernel_main'],
  exitPorts: [0xf4, 0x501],
  exitStatus: genericExit,
};
