/**
 * The human-readable report: what a person reading a CI log needs first (what
 * crashed, where), then registers and the backtrace.
 */
import type { CrashFrame, CrashReport, SourceLocation } from '../crash/report';

export interface Style {
  bold(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export const COLORS: Style = { bold: wrap(1, 22), red: wrap(31, 39), cyan: wrap(36, 39), dim: wrap(2, 22) };
export const PLAIN: Style = { bold: (s) => s, red: (s) => s, cyan: (s) => s, dim: (s) => s };

// Registers in the order people scan them; the rest follow alphabetically.
const REGISTER_ORDER = [
  'rip', 'eip', 'rsp', 'esp', 'rbp', 'ebp', 'rflags', 'eflags', 'cr2', 'ec',
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'cs', 'ss', 'cr0', 'cr3', 'cr4',
];

export function formatReports(reports: readonly CrashReport[], source: string, lines: number, style: Style): string {
  if (reports.length === 0) return `No crash found in ${source} (${lines} line${lines === 1 ? '' : 's'}).\n`;
  const head = `${reports.length} crash${reports.length === 1 ? '' : 'es'} found in ${source}:\n`;
  return head + reports.map((r, i) => formatReport(r, i + 1, style)).join('');
}

export function formatReport(report: CrashReport, index: number, style: Style): string {
  const out: string[] = [];
  out.push('');
  out.push(`${style.bold(`Crash ${index}:`)} ${style.red(style.bold(report.kind))} ${style.dim(`(${report.platform}, line ${report.line})`)}`);
  const [first, ...more] = report.message.split('\n');
  out.push(`  ${first}`);
  for (const m of more) out.push(`  ${m}`);
  if (report.source?.file) out.push(`  ${style.dim('raised at')} ${where(report.source)}`);
  const regs = Object.keys(report.registers).sort(byRegisterOrder);
  if (regs.length > 0) {
    out.push(`  ${style.bold('Registers:')}`);
    for (let i = 0; i < regs.length; i += 4) {
      out.push(`    ${regs.slice(i, i + 4).map((r) => `${r.padEnd(6)} ${report.registers[r].padEnd(18)}`).join(' ').trimEnd()}`);
    }
  }
  if (report.frames.length > 0) {
    out.push(`  ${style.bold('Backtrace:')}`);
    report.frames.forEach((f, i) => out.push(...formatFrame(f, i, style)));
  }
  for (const note of report.notes ?? []) out.push(`  ${style.dim(`note: ${note}`)}`);
  return `${out.join('\n')}\n`;
}

function formatFrame(frame: CrashFrame, index: number, style: Style): string[] {
  const num = `#${index}`.padEnd(4);
  const parts: string[] = [];
  if (frame.address) parts.push(style.dim(frame.address));
  if (frame.function) parts.push(`${frame.address ? 'in ' : ''}${style.cyan(frame.function)}`);
  if (frame.file) parts.push(`at ${where(frame)}`);
  const lines = [`    ${num}${parts.join(' ')}`];
  for (const caller of frame.inlinedBy ?? []) {
    lines.push(`          ${style.dim('inlined into')} ${caller.function ? style.cyan(caller.function) : '??'}${caller.file ? ` at ${where(caller)}` : ''}`);
  }
  return lines;
}

function where(loc: SourceLocation): string {
  return loc.line !== undefined ? `${loc.file}:${loc.line}` : `${loc.file}`;
}

function byRegisterOrder(a: string, b: string): number {
  const ia = REGISTER_ORDER.indexOf(a);
  const ib = REGISTER_ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
