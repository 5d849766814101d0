/**
 * Unikraft: `build/<app>_qemu-x86_64` is an ELF32 boot image; the debug info lives in the `.dbg`
 * file next to it. The command line is `<kernel parameters> -- <application arguments>`.
 */
import type { PlatformProfile } from './types';
import { virtioDevices } from './types';

export const unikraft: PlatformProfile = {
  name: 'unikraft',
  label: 'Unikraft',
  tellTales: ['ukplat_entry', 'ukplat_crash', 'uk_boot_entry'],
  score: (f) => (f.symbols.has('ukplat_entry') ? 10 : 0) + (/_qemu-x86_64(\.dbg)?$/.test(f.path) ? 3 : 0),
  guestCommandLine: (input) => input.cmdline,
  qemuArgs: (input) => virtioDevices(input),
  entrySymbols: ['main'],
};
