/**
 * Where each platform's crashes go through: the functions the adapter breaks on so that a guest
 * stops *at* its crash, with its live stack, instead of after it.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashFrame, CrashReport, Platform } from '../crash/report';
import type { PlatformName } from '../qemu/profiles';

export interface CrashPath {
  /** The function to break on. */
  symbol: string;
  platform: Platform;
  kind: string;
  /** What it means, for a person. */
  label: string;
  /** Which exception filter enables it (`ocaml`: either OCaml exception filter). */
  filter: 'crash' | 'exit' | 'ocaml';
  /** Condition for the breakpoint, where the function also serves clean endings. */
  condition?: string;
  /**
   * Break on the function's first instruction (`*symbol`), where the condition can read the
   * arguments from their ABI registers: for functions of any image, whose parameter names vary.
   */
  atEntry?: boolean;
  /** Left out on these platforms, whose own crash paths lead through this function. */
  notOn?: readonly PlatformName[];
  /** An OCaml raise: whether it stops depends on whether anything will catch it (ocamlSupport.ts). */
  ocamlRaise?: 'caml_raise_exn' | 'caml_raise_exception';
}

/**
 * The crash functions of the current platform versions (Solo5 0.12, Unikraft 0.17, Rumprun) and
 * the generic ones of any C image. A path the image does not have is not set. The trap handlers
 * among them have their saved registers read by trapFrame.ts.
 */
export const CRASH_PATHS: readonly CrashPath[] = [
  // Solo5 (MirageOS) and images that follow its conventions.
  { symbol: 'solo5_abort', platform: 'solo5', kind: 'abort', label: 'solo5_abort() called', filter: 'crash' },
  { symbol: 'cpu_trap_handler', platform: 'solo5', kind: 'trap', label: 'CPU trap', filter: 'crash' },
  { symbol: 'trap_handler', platform: 'solo5', kind: 'trap', label: 'CPU trap', filter: 'crash' },
  { symbol: 'solo5_exit', platform: 'solo5', kind: 'exit', label: 'solo5_exit() with a non-zero status', filter: 'exit', condition: '(int)$rdi != 0', atEntry: true },
  // OCaml runtime under MirageOS: raises, decided at the raise (before the stack unwinds), then the fatal paths.
  { symbol: 'caml_raise_exn', platform: 'mirage', kind: 'exception', label: 'OCaml exception', filter: 'ocaml', atEntry: true, ocamlRaise: 'caml_raise_exn' },
  { symbol: 'caml_raise_exception', platform: 'mirage', kind: 'exception', label: 'OCaml exception', filter: 'ocaml', atEntry: true, ocamlRaise: 'caml_raise_exception' },
  { symbol: 'caml_fatal_uncaught_exception', platform: 'mirage', kind: 'exception', label: 'Uncaught OCaml exception', filter: 'crash' },
  { symbol: 'caml_fatal_error', platform: 'mirage', kind: 'fatal-error', label: 'OCaml runtime fatal error', filter: 'crash' },
  { symbol: 'caml_raise_out_of_memory', platform: 'mirage', kind: 'out-of-memory', label: 'Out of memory', filter: 'crash' },
  // Rumprun (bmk) and the NetBSD rump kernel.
  { symbol: 'bmk_platform_halt', platform: 'rumprun', kind: 'panic', label: 'Rumprun halted on a panic', filter: 'crash', condition: '$rdi != 0', atEntry: true },
  { symbol: 'cpu_fattrap', platform: 'rumprun', kind: 'trap', label: 'Fatal CPU trap', filter: 'crash' },
  { symbol: 'rumpuser_exit', platform: 'rumprun', kind: 'exit', label: 'rump kernel exit', filter: 'exit' },
  { symbol: '__assert13', platform: 'rumprun', kind: 'assertion', label: 'Assertion failed', filter: 'crash' },
  // Unikraft 0.17: a crash is ukplat_terminate(UKPLAT_CRASH) (UK_CRASH, unhandled page faults and
  // traps); the trap handlers below it in the stack hold the faulting registers.
  { symbol: 'ukplat_terminate', platform: 'unikraft', kind: 'crash', label: 'Unikraft crash (ukplat_terminate(UKPLAT_CRASH))', filter: 'crash', condition: '(int)$rdi == 3', atEntry: true },
  { symbol: 'do_unhandled_trap', platform: 'unikraft', kind: 'trap', label: 'Unhandled trap', filter: 'crash' },
  // Any C image: libc and kernel conventions.
  { symbol: 'panic', platform: 'generic', kind: 'panic', label: 'Kernel panic', filter: 'crash', notOn: ['rumprun'] },
  { symbol: 'abort', platform: 'generic', kind: 'abort', label: 'abort() called', filter: 'crash' },
  { symbol: '__assert_fail', platform: 'generic', kind: 'assertion', label: 'Assertion failed', filter: 'crash' },
  { symbol: '__stack_chk_fail', platform: 'generic', kind: 'stack-smash', label: 'Stack corruption detected', filter: 'crash' },
  { symbol: 'exit', platform: 'generic', kind: 'exit', label: 'exit() with a non-zero status', filter: 'exit', condition: '(int)$rdi != 0', atEntry: true },
];

export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  {
    filter: 'crash',
    label: 'Crashes',
    description: 'Stop where the guest panics, aborts, traps or raises an uncaught exception (on the platform\'s crash functions), and when the console shows a crash.',
    default: true,
  },
  {
    filter: 'ocaml-uncaught',
    label: 'Uncaught OCaml exceptions',
    description: 'MirageOS: stop where an OCaml exception is raised that nothing will catch, before the stack unwinds.',
    default: true,
  },
  {
    filter: 'ocaml-all',
    label: 'All OCaml exceptions',
    description: 'MirageOS: stop at every OCaml raise, caught or not.',
    default: false,
  },
  {
    filter: 'exit',
    label: 'Non-zero exits',
    description: 'Stop where the guest exits with a non-zero status.',
    default: false,
  },
];

/**
 * The text trace of a report, as shown in exceptionInfo details and copied by users. A line
 * `--- page fault: handled by trap_handler ---` marks where the trap handler's own frames begin
 * (the stack of the faulting code ends above it). `path` shortens file names (the exception widget
 * shows `kernel.c:281`, relative to the workspace).
 */
export function formatTrace(report: CrashReport, path: (file: string) => string = (file) => file): string {
  const lines = [`${report.kind}: ${report.message}`];
  const regs = Object.entries(report.registers);
  if (regs.length > 0) lines.push(regs.map(([k, v]) => `${k}=${v}`).join(' '));
  report.frames.forEach((f, i) => {
    if (report.handler && i === report.handler.from) lines.push(`--- ${report.handler.label} ---`);
    lines.push(`#${i} ${formatFrame(f, path)}`);
  });
  return lines.join('\n');
}

export function formatFrame(f: CrashFrame, path: (file: string) => string = (file) => file): string {
  const where = f.file ? ` at ${path(f.file)}${f.line ? `:${f.line}` : ''}` : '';
  const linkage = f.linkageName ? ` [${f.linkageName}]` : '';
  return `${f.address || '?'} in ${f.function ?? '??'}${linkage}${where}`;
}
