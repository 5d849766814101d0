/**
 * Unikraft: `build/<app>_qemu-x86_64` is an ELF32 boot image; the debug info lives in the `.dbg`
 * file next to it. The command line is `<kernel parameters> -- <application arguments>`.
 */
import { unikraftExit } from './exits';
import { unikraftScheduler } from './threads/unikraft';
import type { PlatformProfile } from './types';
import { virtioDevices } from './types';

export const unikraft: PlatformProfile = {
  name: 'unikraft',
  label: 'Unikraft',
  tellTales: ['ukplat_entry', '_ukplat_entry', 'uk_boot_entry', 'ukplat_terminate'],
  score: (f) => (['ukplat_entry', '_ukplat_entry', 'uk_boot_entry'].some((s) => f.symbols.has(s)) ? 10 : 0) + (/_qemu-x86_64(\.dbg)?$/.test(f.path) ? 3 : 0),
  guestCommandLine: (input) => input.cmdline,
  qemuArgs: (input) => virtioDevices(input),
  entrySymbols: ['main'],
  exitPorts: [0x501],
  exitStatus: (code) => unikraftExit(code),
  scheduler: unikraftScheduler,
};
