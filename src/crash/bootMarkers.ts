/**
 * Lines that start a new guest run. After one, a follow-up message (an exit
 * status, a halt) can no longer be explained by a crash from the previous run.
 * A platform's own banner also says whose run it is; a firmware line (a machine
 * reset) says nothing, so the run's platform is unknown until a banner follows.
 */
import type { Platform } from './report';

const BOOT: ReadonlyArray<readonly [RegExp, Platform | undefined]> = [
  [/^Solo5: Bindings version/, 'solo5'],
  [/^Solo5: Memory map:/, 'solo5'],
  [/^Xen Minimal OS!?/, 'xen'],
  [/^Powered by\b/, 'unikraft'],
  [/^Unikraft\b.*\bboot/i, 'unikraft'],
  [/^rumprun\b.*\bboot/i, 'rumprun'],
  [/^rump kernel bare metal bootstrap/, 'rumprun'],
  [/^SeaBIOS \(version/, undefined],
  [/^Booting from ROM/, undefined],
];

/** The run a boot line starts (with its platform when the banner names one), or undefined for any other line. */
export function bootMarker(line: string): { platform?: Platform } | undefined {
  for (const [re, platform] of BOOT) if (re.test(line)) return platform ? { platform } : {};
  return undefined;
}

export function isBootMarker(line: string): boolean {
  return bootMarker(line) !== undefined;
}
