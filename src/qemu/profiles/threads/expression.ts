/**
 * The gdb expressions that read a thread list. Measured with gdb 13 against QEMU 7.2's gdbstub:
 * an evaluation round trip costs about 0.15 ms and a target read about 0.05 ms, but gdb spends
 * about 1.2 µs parsing every character of an expression (and much more on runs of blanks), and a
 * comparable time on every character it prints back. A first design, one expression with the whole
 * walk and every field by name (about 1.8 kB a thread), took 70 ms for 32 rows. So the expressions
 * are short and blank-free: the layout's types and symbols are resolved once, when the reader opens
 * (`probeExpression`), and the per-stop expressions use plain numbers:
 *
 * 1. the walk: gdb expressions cannot loop, but they can assign convenience variables, evaluate
 *    only the taken branch of `?:` and build arrays with `{…}`, left to right. One array literal
 *    moves a cursor (`$ut`, a long) along each list, one element per thread (about 25 characters),
 *    as many elements as the list had last time plus a few; a list that has grown past them is
 *    followed on from its last thread in one more evaluation.
 * 2. the thread structures, as words: `{*(long(*)[14])0x116020,…}`.
 * 3. the saved stacks and the name strings, the same way, in one evaluation.
 *
 * Everything is `long`: gdb wants array elements of one size, and prints them as plain numbers.
 */
import type { SchedulerLayout } from './types';

/** Stack words read at a saved stack pointer: six pushed registers and the return address, or a start trampoline's pops. */
export const STACK_WORDS = 8;

/** Where a member is in the thread structure, and how many bytes it has. */
export interface Field {
  offset: number;
  size: number;
}

/** The layout as gdb measured it in this image: offsets, sizes and addresses. */
export interface MeasuredLayout {
  /** Words in a thread structure (sizeof rounded up). */
  words: number;
  name: Field;
  flags: Field;
  ip: Field;
  sp: Field;
  wakeup?: Field;
  /** Offset of the link's next pointer in a thread. */
  next: number;
  /** Per list: the address of its first-element pointer, or its offset in the scheduler structure. */
  heads: bigint[];
  /** Chained schedulers: the address of the pointer to the first, and the offset of `next` in one. */
  schedulers?: { first: bigint; next: number };
  /** Per-CPU current array: its address and length. */
  current?: { address: bigint; cpus: number };
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The probe's questions, in order; `probeResults` reads the answers back. */
function probeParts(layout: SchedulerLayout): [string, string][] {
  const t = `((${layout.threadType}*)0)`;
  const at = (key: string, m: string): [string, string][] => [
    [`${key}.offset`, `(long)&${t}->${m}`],
    [`${key}.size`, `sizeof(${t}->${m})+0L`],
  ];
  const parts: [string, string][] = [
    ['sizeof', `sizeof(${layout.threadType})+0L`],
    ...at('name', layout.name.member),
    ...at('flags', layout.flags),
    ...at('ip', layout.context.ip),
    ...at('sp', layout.context.sp),
    ...(layout.wakeup ? at('wakeup', layout.wakeup.member) : []),
    ['next', `(long)&${t}->${layout.link}.tqe_next`],
  ];
  const s = layout.schedulers;
  if (s) {
    parts.push(['schedulers.first', `(long)&${s.first}`], ['schedulers.next', `(long)&((${s.type}*)0)->${s.next}`]);
    layout.lists.forEach((l, i) => parts.push([`head${i}`, `(long)&((${s.type}*)0)->${l.head}.tqh_first`]));
  } else {
    layout.lists.forEach((l, i) => parts.push([`head${i}`, `(long)&${l.head}.tqh_first`]));
  }
  if ('array' in layout.running) {
    const a = layout.running.array;
    parts.push(['current.address', `(long)&${a}`], ['current.cpus', `sizeof(${a})/sizeof(${a}[0])+0L`]);
  }
  return parts;
}

/**
 * Checks the layout without reading the target (addresses, offsets and sizes only): gdb fails with
 * its own message when a type, member or symbol is missing.
 */
export function probeExpression(layout: SchedulerLayout): string {
  return `{${probeParts(layout).map(([, e]) => e).join(',')}}`;
}

/** The probe's numbers as a measured layout. */
export function measuredLayout(layout: SchedulerLayout, numbers: readonly bigint[]): MeasuredLayout {
  const parts = probeParts(layout);
  if (numbers.length !== parts.length) throw new Error(`the probe gave ${numbers.length} numbers for ${parts.length} questions`);
  const v = new Map(parts.map(([k], i) => [k, numbers[i]!]));
  const big = (k: string): bigint => v.get(k)!;
  const get = (k: string): number => Number(big(k));
  const field = (k: string): Field => ({ offset: get(`${k}.offset`), size: get(`${k}.size`) });
  const m: MeasuredLayout = {
    words: Math.ceil(get('sizeof') / 8),
    name: field('name'),
    flags: field('flags'),
    ip: field('ip'),
    sp: field('sp'),
    next: get('next'),
    heads: layout.lists.map((_, i) => big(`head${i}`)),
  };
  if (layout.wakeup) m.wakeup = field('wakeup');
  if (layout.schedulers) m.schedulers = { first: big('schedulers.first'), next: get('schedulers.next') };
  if ('array' in layout.running) m.current = { address: big('current.address'), cpus: get('current.cpus') };
  return m;
}

/** Convenience variables of the walk: short (their length is paid on every element) and unlikely to be a user's. */
const U = '$ut';
const S = '$us';

/**
 * How many elements the walk spends on each list: `rows[k][i]` for list i of scheduler k (one
 * scheduler, implicit, for layouts without a chain). The reader sizes it from the last read.
 */
export interface WalkPlan {
  rows: number[][];
}

/** One step along a list: the next thread, or 0 at its end (and after it). */
function advance(m: MeasuredLayout): string {
  return `${U}=${U}?*(long*)(${U}+${m.next}):0L`;
}

/**
 * The walk as one flat array of longs, left to right:
 * - the per-CPU current thread pointers (array layouts);
 * - per scheduler k (chained layouts: first `$us` = the scheduler), per list i, `rows[k][i]`
 *   elements: the list's first thread, then one step each; 0 once the list has ended;
 * - chained layouts: the scheduler after the last one planned (0 when there is none).
 * Every value assigned is a long: a convenience variable takes the type of what it is given, and
 * the elements must stay the same size.
 */
export function walkExpression(m: MeasuredLayout, plan: WalkPlan): string {
  const el: string[] = [];
  if (m.current) for (let c = 0; c < m.current.cpus; c++) el.push(`*(long*)${hex(m.current.address + 8n * BigInt(c))}`);
  const s = m.schedulers;
  plan.rows.forEach((lists, k) => {
    if (s) el.push(k === 0 ? `${S}=*(long*)${hex(s.first)}` : `${S}=${S}?*(long*)(${S}+${s.next}):0L`);
    lists.forEach((rows, i) => {
      if (rows < 1) return;
      el.push(s ? `${U}=${S}?*(long*)(${S}+${hex(m.heads[i]!)}):0L` : `${U}=*(long*)${hex(m.heads[i]!)}`);
      for (let r = 1; r < rows; r++) el.push(advance(m));
    });
  });
  if (s) el.push(`${S}?*(long*)(${S}+${s.next}):0L`);
  return `{${el.join(',')}}`;
}

/** More steps along a list whose elements ran out, from its last thread read. */
export function walkOnExpression(m: MeasuredLayout, from: bigint, rows: number): string {
  const el = [`${U}=*(long*)${hex(from + BigInt(m.next))}`];
  for (let r = 1; r < rows; r++) el.push(advance(m));
  return `{${el.join(',')}}`;
}

/** `words` words at each address: `{*(long(*)[8])0x1000,…}`. */
export function wordsExpression(addresses: readonly bigint[], words: number): string {
  return `{${addresses.map((a) => `*(long(*)[${words}])${hex(a)}`).join(',')}}`;
}
