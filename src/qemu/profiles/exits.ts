/**
 * How a guest's exit reaches QEMU's exit code, per platform. A guest leaves through the
 * isa-debug-exit device: writing V to its port makes QEMU exit with (V << 1) | 1. Solo5 writes the
 * same value for every ending, so its console says which ending it was.
 */

export interface GuestExit {
  /** The guest's own status (what its application returned or passed to exit). */
  status: number;
  /** One sentence for the Debug Console. */
  text: string;
}

/** QEMU's exit code back to the value the guest wrote, when the code is an isa-debug-exit one. */
export function debugExitValue(code: number): number | undefined {
  return code % 2 === 1 ? code >> 1 : undefined;
}

/** The last exit the console announced: `solo5_exit(N) called`, `=== _exit(N) called ===`, `solo5_abort() called`. */
export function consoleExitStatus(lines: readonly string[]): { status: number; said: string } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const exit = /\b(solo5_exit|_exit|exit)\((-?\d+)\) called/.exec(line);
    if (exit) return { status: Number(exit[2]), said: `${exit[1]}(${exit[2]})` };
    if (/\bsolo5_abort\(\) called|Solo5: ABORT\b/.test(line)) return { status: 255, said: 'solo5_abort()' };
  }
  return undefined;
}

/** Solo5 (and MirageOS on it): QEMU exits with 83 for success and abort alike; the console tells. */
export function solo5Exit(code: number, console: readonly string[]): GuestExit {
  const said = consoleExitStatus(console);
  if (said) return { status: said.status, text: `The guest exited with status ${said.status} (${said.said}).` };
  return genericExit(code, console);
}

/** Unikraft writes one value for a halt and another for a crash (QEMU exits 83 and 85). */
export function unikraftExit(code: number): GuestExit {
  if (code === 83) return { status: 0, text: 'The guest halted (Unikraft exit, QEMU exit code 83).' };
  if (code === 85) return { status: 1, text: 'The guest crashed (Unikraft crash exit, QEMU exit code 85).' };
  return genericExit(code, []);
}

/** Any other image: what the console announced, else the value it wrote to the exit device. */
export function genericExit(code: number, console: readonly string[]): GuestExit {
  const said = consoleExitStatus(console);
  if (said) return { status: said.status, text: `The guest exited with status ${said.status} (${said.said}).` };
  if (code === 0) return { status: 0, text: 'The guest powered the machine off (QEMU exit code 0).' };
  const value = debugExitValue(code);
  if (value !== undefined) return { status: value, text: `The guest exited with status ${value} through isa-debug-exit (QEMU exit code ${code}).` };
  return { status: code, text: `QEMU exited with code ${code}.` };
}
