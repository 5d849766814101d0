/**
 * Where each platform's crashes go through: the functions the adapter breaks on so that a guest
 * stops *at* its crash, with its live stack, instead of after it.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { CrashFrame, CrashReport, Platform } from '../crash/report';

export interface CrashPath {
  /** The function to break on. */
  symbol: string;
  platform: Platform;
  kind: string;
  /** What it means, for a person. */
  label: string;
  /** Which exception filter enables it. */
  filter: 'crash' | 'exit';
  /** Condition for the breakpoint (exits only matter when non-zero). */
  condition?: string;
  /**
   * The handler's argument that points at a saved trap frame with `rip`, `rsp` and `rbp` members,
   * from which the faulting frame is rebuilt (the handler runs where gdb cannot unwind past it).
   */
  trapFrame?: string;
}

export const CRASH_PATHS: readonly CrashPath[] = [
  // Solo5 (MirageOS) and images that follow its conventions.
  { symbol: 'solo5_abort', platform: 'solo5', kind: 'abort', label: 'solo5_abort() called', filter: 'crash' },
  { symbol: 'cpu_trap_handler', platform: 'solo5', kind: 'trap', label: 'CPU trap', filter: 'crash', trapFrame: 'regs' },
  { symbol: 'trap_handler', platform: 'solo5', kind: 'trap', label: 'CPU trap', filter: 'crash', trapFrame: 'regs' },
  { symbol: '__stack_chk_fail', platform: 'solo5', kind: 'stack-smash', label: 'Stack corruption detected', filter: 'crash' },
  { symbol: 'solo5_exit', platform: 'solo5', kind: 'exit', label: 'solo5_exit() with a non-zero status', filter: 'exit', condition: 'status != 0' },
  // OCaml runtime under MirageOS.
  { symbol: 'caml_fatal_uncaught_exception', platform: 'mirage', kind: 'exception', label: 'Uncaught OCaml exception', filter: 'crash' },
  { symbol: 'caml_fatal_error', platform: 'mirage', kind: 'fatal-error', label: 'OCaml runtime fatal error', filter: 'crash' },
  { symbol: 'caml_raise_out_of_memory', platform: 'mirage', kind: 'out-of-memory', label: 'Out of memory', filter: 'crash' },
  // Rumprun (bmk) and the NetBSD rump kernel.
  { symbol: 'bmk_platform_halt', platform: 'rumprun', kind: 'panic', label: 'Rumprun halted on a panic', filter: 'crash', condition: 'panicstring != 0' },
  { symbol: 'cpu_fattrap', platform: 'rumprun', kind: 'trap', label: 'Fatal CPU trap', filter: 'crash' },
  { symbol: 'rumpuser_exit', platform: 'rumprun', kind: 'exit', label: 'rump kernel exit', filter: 'exit' },
  // Unikraft.
  { symbol: 'ukplat_crash', platform: 'unikraft', kind: 'crash', label: 'ukplat_crash() called', filter: 'crash' },
  { symbol: 'do_unhandled_trap', platform: 'unikraft', kind: 'trap', label: 'Unhandled trap', filter: 'crash' },
  // C libraries everywhere.
  { symbol: '__assert_fail', platform: 'generic', kind: 'assertion', label: 'Assertion failed', filter: 'crash' },
  { symbol: '__assert13', platform: 'rumprun', kind: 'assertion', label: 'Assertion failed', filter: 'crash' },
];

export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  {
    filter: 'crash',
    label: 'Crashes',
    description: 'Stop where the guest panics, aborts, traps or raises an uncaught exception (on the platform\'s crash functions), and when the console shows a crash.',
    default: true,
  },
  {
    filter: 'exit',
    label: 'Non-zero exits',
    description: 'Stop where the guest exits with a non-zero status.',
    default: false,
  },
];

/** The text trace of a report, as shown in exceptionInfo details and copied by users. */
export function formatTrace(report: CrashReport): string {
  const lines = [`${report.kind}: ${report.message}`];
  const regs = Object.entries(report.registers);
  if (regs.length > 0) lines.push(regs.map(([k, v]) => `${k}=${v}`).join(' '));
  report.frames.forEach((f, i) => lines.push(`#${i} ${formatFrame(f)}`));
  return lines.join('\n');
}

export function formatFrame(f: CrashFrame): string {
  const where = f.file ? ` at ${f.file}${f.line ? `:${f.line}` : ''}` : '';
  return `${f.address || '?'} in ${f.function ?? '??'}${where}`;
}
