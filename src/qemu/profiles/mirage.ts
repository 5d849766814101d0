/**
 * MirageOS on Solo5: the `virtio` target boots under QEMU by multiboot; the `hvt` target needs
 * the solo5-hvt tender and KVM. The command line carries Solo5 and MirageOS boot parameters as given.
 */
import { solo5Exit } from './exits';
import type { PlatformProfile } from './types';
import { virtioDevices } from './types';

export const mirage: PlatformProfile = {
  name: 'mirage',
  label: 'MirageOS (Solo5 virtio)',
  tellTales: ['solo5_app_main', 'caml_startup', 'caml_main'],
  score: (f) =>
    (f.symbols.has('solo5_app_main') ? 10 : 0) + (/\.(virtio|hvt)$/.test(f.path) ? 3 : 0) + (f.nearConfigMl ? 2 : 0),
  guestCommandLine: (input) => input.cmdline,
  qemuArgs: (input) => ['-machine', 'acpi=off', ...virtioDevices(input)],
  entrySymbols: ['solo5_app_main', 'caml_main', 'main'],
  exitPorts: [0x501],
  exitStatus: solo5Exit,
  launchProblem: (f) =>
    /\.hvt$/.test(f.path)
      ? `${f.path} is a Solo5 hvt image: hvt runs under the solo5-hvt tender with KVM, which this machine cannot use. ` +
        'Build the virtio target (`mirage configure -t virtio`) and debug dist/*.virtio instead.'
      : undefined,
};
