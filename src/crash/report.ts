/**
 * The crash report: the one shape every detector produces and every consumer
 * (adapter, Crash Trace view, language server, CLI) reads. Its JSON form is the
 * `unikernel-trace analyze --json` schema: this file's types (optional fields may be added, none removed).
 */

export type Platform = 'solo5' | 'mirage' | 'rumprun' | 'unikraft' | 'xen' | 'includeos' | 'generic';

export const PLATFORMS: readonly Platform[] = ['solo5', 'mirage', 'rumprun', 'unikraft', 'xen', 'includeos', 'generic'];

/**
 * What happened, in one word that is the same on every platform (a divide
 * error is `divide-error` whether Solo5, Unikraft, Rumprun or Mini-OS reports it):
 *
 * - `page-fault`, `general-protection`, `invalid-opcode`, `divide-error`,
 *   `breakpoint`, `double-fault`: the x86 exceptions people meet most, by name
 *   (a process killed by SIGFPE, `Floating point exception`, is a divide error).
 * - `trap`: any other CPU exception (debug, NMI, overflow, bound range, device not
 *   available, invalid TSS, segment not present, stack segment, x87/SIMD floating
 *   point, alignment check, machine check, control protection), a triple fault,
 *   a Xen domain crashed by the hypervisor, or a trap whose vector is unknown.
 * - `panic`: the kernel gave up (panic(), UK_CRASH, `PANIC:`, a pvpanic signal).
 * - `abort`: abort() and its platform forms (solo5_abort, Rumprun's `_lwpabort`).
 * - `assertion`: a failed assertion (assert, UK_ASSERT, Expects, Assert_failure).
 * - `stack-smash`: the stack protector found a corrupted stack.
 * - `exception`: an uncaught language exception (OCaml's, Stack_overflow included).
 * - `out-of-memory`: allocation failed and the kernel or runtime stopped.
 * - `emulation-failure`: the hypervisor could not run the guest's instruction
 *   (`KVM internal error`).
 * - `init-failure`: boot stopped because an initialiser failed (before `main`).
 * - `exit`: a non-zero exit status with no crash before it to explain it.
 */
export const CRASH_KINDS = [
  'page-fault', 'general-protection', 'invalid-opcode', 'divide-error', 'breakpoint', 'double-fault', 'trap',
  'panic', 'abort', 'assertion', 'stack-smash', 'exception', 'out-of-memory', 'emulation-failure', 'init-failure', 'exit',
] as const;

export type CrashKind = (typeof CRASH_KINDS)[number];

/** A place in source code, as printed by the console or found by the symbolizer. */
export interface SourceLocation {
  function?: string;
  file?: string;
  line?: number;
}

export interface CrashFrame {
  /**
   * Hex string `0x…`. Empty when the console gave only a source location and no
   * address (OCaml backtraces print `file "x.ml", line 10` and nothing else).
   */
  address: string;
  function?: string;
  file?: string;
  line?: number;
  /** The linker's name when `function` is the source language's (OCaml's `camlHello__depth_88` for `Hello.depth`). */
  linkageName?: string;
  /** Set when the address is a return address (a caller's frame), so symbolizers look at `address - 1`. */
  returnAddress?: boolean;
  /**
   * Set when the address was picked out of a raw stack dump rather than a
   * printed backtrace: it may be a stale value. With the image at hand, such
   * frames outside its code are dropped (symbolizeReport).
   */
  fromStackDump?: boolean;
  /** Functions this frame's code was inlined into, innermost caller first (from the symbolizer). */
  inlinedBy?: SourceLocation[];
}

export interface CrashReport {
  platform: Platform;
  /**
   * One of CRASH_KINDS (see there). Typed as a string because consumers also
   * build reports from live debugger state; the console detectors only ever
   * produce CrashKind values.
   */
  kind: string;
  message: string;
  /** 1-based line in the log where the crash starts. */
  line: number;
  /** Lower-case names, canonical hex values (`0x1f`, no leading zeros). */
  registers: Record<string, string>;
  frames: CrashFrame[];
  /** Where the console says the crash was raised (e.g. an assertion's `file:line`). */
  source?: SourceLocation;
  /** Remarks for a human, e.g. `image has no debug information`. */
  notes?: string[];
  /**
   * A live trap whose faulting code's frames were rebuilt from the saved trap frame: `frames` holds
   * those first, then, from index `from` on, the trap handler's own frames (`label`: `page fault:
   * handled by trap_handler`). Absent: the frames are one stack.
   */
  handler?: { from: number; label: string };
}

/** Canonical hex: `0x` + lower-case digits without leading zeros; undefined when not hex. */
export function normalizeHex(value: string): string | undefined {
  const m = /^(?:0x)?([0-9a-f]+)$/i.exec(value.trim());
  if (!m) return undefined;
  const digits = m[1].replace(/^0+(?=.)/, '').toLowerCase();
  return `0x${digits}`;
}

/** Register names as GDB spells them: lower case, `r08` → `r8`. */
export function normalizeRegisterName(name: string): string {
  const lower = name.trim().toLowerCase();
  const m = /^r0([0-9])$/.exec(lower);
  return m ? `r${m[1]}` : lower;
}

interface TrapInfo {
  kind: CrashKind;
  name: string;
}

// x86 exception vectors; the six most common have their own kind, the rest are `trap`.
const TRAPS: Record<number, TrapInfo> = {
  0: { kind: 'divide-error', name: 'divide error' },
  1: { kind: 'trap', name: 'debug' },
  2: { kind: 'trap', name: 'NMI' },
  3: { kind: 'breakpoint', name: 'breakpoint' },
  4: { kind: 'trap', name: 'overflow' },
  5: { kind: 'trap', name: 'bound range exceeded' },
  6: { kind: 'invalid-opcode', name: 'invalid opcode' },
  7: { kind: 'trap', name: 'device not available' },
  8: { kind: 'double-fault', name: 'double fault' },
  10: { kind: 'trap', name: 'invalid TSS' },
  11: { kind: 'trap', name: 'segment not present' },
  12: { kind: 'trap', name: 'stack segment fault' },
  13: { kind: 'general-protection', name: 'general protection' },
  14: { kind: 'page-fault', name: 'page fault' },
  16: { kind: 'trap', name: 'x87 floating point' },
  17: { kind: 'trap', name: 'alignment check' },
  18: { kind: 'trap', name: 'machine check' },
  19: { kind: 'trap', name: 'SIMD floating point' },
  21: { kind: 'trap', name: 'control protection' },
};

const MNEMONICS: Record<string, number> = {
  DE: 0, DB: 1, NMI: 2, BP: 3, OF: 4, BR: 5, UD: 6, NM: 7, DF: 8, TS: 10, NP: 11, SS: 12, GP: 13, PF: 14,
  MF: 16, AC: 17, MC: 18, XM: 19, XF: 19, CP: 21,
};

// Printed names (Unikraft, Mini-OS, Rumprun) squashed to letters only.
const NAMES: Record<string, number> = {
  divideerror: 0, divisionbyzero: 0, dividebyzero: 0, debug: 1, nmi: 2, int3: 3, breakpoint: 3, overflow: 4, bounds: 5,
  invalidopcode: 6, invalidop: 6, devicenotavailable: 7, nodevice: 7, doublefault: 8, invalidtss: 10,
  segmentnotpresent: 11, stacksegment: 12, stacksegmentfault: 12, stackerror: 12, generalprotection: 13,
  generalprotectionfault: 13, protectionfault: 13, pagefault: 14, coprocessor: 16, coprocessorerror: 16,
  alignmentcheck: 17, machinecheck: 18, simdcoprocessor: 19, simderror: 19, controlprotection: 21,
};

/** Kind and name for an x86 vector number. */
export function trapFromVector(vector: number): TrapInfo {
  return TRAPS[vector] ?? { kind: 'trap', name: `trap ${vector}` };
}

/** Kind for a Solo5-style mnemonic (`#PF`, `#GP`, `#9`). */
export function trapFromMnemonic(mnemonic: string): TrapInfo {
  const bare = mnemonic.replace(/^#/, '').toUpperCase();
  const vector = MNEMONICS[bare] ?? (/^\d+$/.test(bare) ? Number(bare) : undefined);
  return vector === undefined ? { kind: 'trap', name: mnemonic } : trapFromVector(vector);
}

/** Kind for a printed trap name (`page fault`, `general protection`). */
export function trapFromName(name: string): TrapInfo {
  const vector = NAMES[name.toLowerCase().replace(/[^a-z0-9]/g, '')];
  return vector === undefined ? { kind: 'trap', name } : { kind: trapFromVector(vector).kind, name };
}

/** Explains an x86 page-fault error code, e.g. `write to a non-present page`. */
export function describePageFaultCode(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  const value = Number.parseInt(code.replace(/^0x/i, ''), 16);
  if (!Number.isFinite(value) || value > 0xffff) return undefined;
  const access = value & 0x10 ? 'instruction fetch' : value & 0x2 ? 'write' : 'read';
  const page = value & 0x1 ? 'protection violation' : 'non-present page';
  const mode = value & 0x4 ? ', user mode' : '';
  return `${access}, ${page}${mode}`;
}

/** A frame from a console address; invalid hex gives undefined. */
export function frameAt(address: string, returnAddress = false): CrashFrame | undefined {
  const hex = normalizeHex(address);
  if (hex === undefined) return undefined;
  return returnAddress ? { address: hex, returnAddress: true } : { address: hex };
}

/** Whether `kind` is one of the documented kinds. */
export function isCrashKind(kind: string): kind is CrashKind {
  return (CRASH_KINDS as readonly string[]).includes(kind);
}

/** Vector number of a trap named by the console, or undefined when the name is unknown. */
export function vectorFromName(name: string): number | undefined {
  return NAMES[name.toLowerCase().replace(/[^a-z0-9]/g, '')];
}
