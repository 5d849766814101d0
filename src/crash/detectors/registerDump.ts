/**
 * Register dumps in the shapes unikernels print them:
 *   Unikraft / Mini-OS  `RIP: 0000000000104a3b CS: 0008`, `RIP: e030:[<0000000000004a3b>]`
 *   Xen hypervisor      `rax: 0000000000000000   rbx: …`
 *   QEMU (-d cpu_reset) `RAX=0000000000000000 RBX=…`, `R8 =…`, `RFL=00000046`
 *   small kernels       `rip=0x1012a4 rsp=0x7fff00` (the same, with `0x`)
 */
import { normalizeHex, normalizeRegisterName } from '../report';

const KNOWN = new Set([
  'rip', 'rsp', 'rbp', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'eip', 'esp', 'ebp', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi',
  'rflags', 'eflags', 'rfl', 'efl', 'cs', 'ss', 'ds', 'es', 'fs', 'gs',
  'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'ec', 'fs_base', 'gs_base',
]);

function canonicalName(name: string): string | undefined {
  const n = normalizeRegisterName(name);
  if (!KNOWN.has(n)) return undefined;
  if (n === 'rfl') return 'rflags';
  if (n === 'efl') return 'eflags';
  return n;
}

// NAME: [seg:][<]hex[>]  — the segment form is Mini-OS `RIP: e030:[<…>]` and newer Unikraft `RIP: 0008:…`.
const COLON_PAIR = /\b([A-Za-z][A-Za-z0-9_]{1,7})\s*:\s+(?:([0-9a-fA-F]{4}):)?\[?<?(?:0x)?([0-9a-fA-F]+)>?\]?(?=\s|$)/g;
const EQUALS_PAIR = /\b([A-Za-z][A-Za-z0-9]{1,4})\s*=\s*((?:0x)?[0-9a-fA-F]+)\b/g;

/**
 * Registers of a `NAME: value` dump line, or undefined when the line is not one
 * (its first word must be a register name, so ordinary text is not mistaken).
 */
export function parseColonRegisters(line: string): Record<string, string> | undefined {
  const first = /^([A-Za-z][A-Za-z0-9_]{1,7})\s*:/.exec(line);
  if (!first || canonicalName(first[1]) === undefined) return undefined;
  const regs: Record<string, string> = {};
  let found = false;
  for (const m of line.matchAll(COLON_PAIR)) {
    const name = canonicalName(m[1]);
    const value = normalizeHex(m[3]);
    if (name === undefined || value === undefined) continue;
    if (m[2] !== undefined && (name === 'rip' || name === 'eip')) {
      regs.cs = normalizeHex(m[2]) as string;
    } else if (m[2] !== undefined && (name === 'rsp' || name === 'esp')) {
      regs.ss = normalizeHex(m[2]) as string;
    }
    regs[name] = value;
    found = true;
  }
  return found ? regs : undefined;
}

/** Registers of a `NAME=value` dump line (QEMU's, or `0x` values), or undefined. */
export function parseEqualsRegisters(line: string): Record<string, string> | undefined {
  const first = /^([A-Za-z][A-Za-z0-9]{1,4})\s*=/.exec(line);
  if (!first || canonicalName(first[1]) === undefined) return undefined;
  const regs: Record<string, string> = {};
  let found = false;
  for (const m of line.matchAll(EQUALS_PAIR)) {
    const name = canonicalName(m[1]);
    const value = normalizeHex(m[2]);
    if (name === undefined || value === undefined) continue;
    regs[name] = value;
    found = true;
  }
  return found ? regs : undefined;
}

const STACK_WALK = /^base is (?:0x)?([0-9a-fA-F]+)\s+caller is (?:0x)?([0-9a-fA-F]+)/;

/** The return address from a Mini-OS / Unikraft `base is 0x… caller is 0x…` line. */
export function parseStackWalk(line: string): string | undefined {
  const m = STACK_WALK.exec(line);
  return m ? normalizeHex(m[2]) : undefined;
}
