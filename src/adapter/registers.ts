/**
 * The Registers scope: general-purpose registers first, with eflags decoded; segment, control and
 * the remaining (floating point, vector) registers in groups below. Values are hex.
 */
export const GENERAL = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'eflags',
];
const SEGMENT = ['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'k_gs_base'];
const CONTROL = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'];

export interface RegisterGroup {
  name: string;
  registers: string[];
}

/** Splits the names gdb knows into the groups the scope shows; empty names (gaps) are dropped. */
export function groupRegisters(names: readonly string[]): { general: string[]; groups: RegisterGroup[] } {
  const known = new Set(names.filter(Boolean));
  const pick = (list: string[]): string[] => list.filter((n) => known.has(n));
  const general = pick(GENERAL);
  const segment = pick(SEGMENT);
  const control = pick(CONTROL);
  const taken = new Set([...general, ...segment, ...control]);
  const other = [...known].filter((n) => !taken.has(n));
  const groups = [
    { name: 'Segment', registers: segment },
    { name: 'Control', registers: control },
    { name: 'Floating point and vector', registers: other },
  ].filter((g) => g.registers.length > 0);
  return { general, groups };
}

const EFLAGS: [number, string][] = [
  [0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'],
  [14, 'NT'], [16, 'RF'], [17, 'VM'], [18, 'AC'], [19, 'VIF'], [20, 'VIP'], [21, 'ID'],
];

/** `0x246` → `0x246 [ PF ZF IF ]`. */
export function decodeEflags(hex: string): string {
  if (!/^0x[0-9a-f]+$/i.test(hex)) return hex;
  const v = Number.parseInt(hex, 16);
  const set = EFLAGS.filter(([bit]) => (v >> bit) & 1).map(([, name]) => name);
  const iopl = (v >> 12) & 3;
  if (iopl) set.push(`IOPL=${iopl}`);
  return `${hex} [ ${set.join(' ')} ]`;
}
