// Lines that start a new guest run. After one, a follow-up message (an exit
// status, a halt) can no longer be explained by a crash from the previous run.
const BOOT: readonly RegExp[] = [
  /^Solo5: Bindings version/,
  /^Solo5: Memory map:/,
  /^Xen Minimal OS!?/,
  /^Powered by\b/,
  /^Unikraft\b.*\bboot/i,
  /^rumprun\b.*\bboot/i,
  /^rump kernel bare metal bootstrap/,
  /^SeaBIOS \(version/,
  /^Booting from ROM/,
];

export function isBootMarker(line: string): boolean {
  for (const re of BOOT) if (re.test(line)) return true;
  return false;
}
