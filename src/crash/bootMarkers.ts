/**
 * Lines that start a new guest run. After one, a follow-up message (an exit
 * status, a halt) can no longer be explained by a crash from the previous run.
 * A platform's own banner also says whose run it is; a firmware line (a machine
 * reset) says nothing, so the run's platform is unknown until a banner follows.
 */
import type { Platform } from './report';
import type { Triggers } from './detectors/types';

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

// Lines only one platform prints in the middle of a run: when a log was cut
// before its banner, they still say whose run it is.
const HINTS: ReadonlyArray<readonly [RegExp, Platform]> = [
  [/^=== calling "[^"]*" main ?\(\) ===/, 'rumprun'],
  [/^rump kernel halting/, 'rumprun'],
  [/^cannot handle page request order /, 'rumprun'],
  [/^\[ Kernel \] /, 'includeos'],
  [/^Solo5: /, 'solo5'],
];

/** Every line bootMarker may answer for, as triggers (for the collector's prefilter). */
export const CONTEXT_TRIGGERS: Triggers = {
  start: BOOT.filter(([re]) => !re.ignoreCase).map(([re]) => re.source.replace(/^\^/, '')),
  startIgnoreCase: BOOT.filter(([re]) => re.ignoreCase).map(([re]) => re.source.replace(/^\^/, '')),
};

// Asked of every line while a log's platform is unknown: one test first.
const ANY_HINT = new RegExp(HINTS.map(([re]) => `(?:${re.source})`).join('|'));

/** The platform a mid-run line belongs to, or undefined. */
export function runHint(line: string): Platform | undefined {
  if (!ANY_HINT.test(line)) return undefined;
  for (const [re, platform] of HINTS) if (re.test(line)) return platform;
  return undefined;
}

/** The run a boot line starts (with its platform when the banner names one), or undefined for any other line. */
export function bootMarker(line: string): { platform?: Platform } | undefined {
  for (const [re, platform] of BOOT) if (re.test(line)) return platform ? { platform } : {};
  return undefined;
}

export function isBootMarker(line: string): boolean {
  return bootMarker(line) !== undefined;
}
