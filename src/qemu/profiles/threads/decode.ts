/**
 * From the words read for a thread to the thread: fields at the offsets gdb measured, the state
 * from the layout's rules, and the registers it would resume with, from its saved context.
 */
import type { Field, MeasuredLayout } from './expression';
import type { CalleeSaved, GuestThread, SavedRegisters, SchedulerLayout, StartTrampoline, StateRule, ThreadState } from './types';

const MASK64 = (1n << 64n) - 1n;

/** What was read for one thread. */
export interface ThreadWords {
  address: bigint;
  /** Index into the layout's `lists`. */
  list: number;
  /** The thread structure. */
  words: readonly bigint[];
  /** 1 + the CPU whose current thread it is (per-CPU array layouts), else 0. */
  cpu: number;
  /** Words at the saved stack pointer, when read. */
  stack?: readonly bigint[];
  /** The name string's first words (pointer names), when read. */
  name?: readonly bigint[];
}

/** An unsigned field of up to 8 bytes, from little-endian words. */
export function fieldValue(words: readonly bigint[], f: Field): bigint {
  let v = 0n;
  for (let i = 0; i < f.size; i++) {
    const at = f.offset + i;
    const byte = ((words[at >> 3] ?? 0n) >> BigInt((at & 7) * 8)) & 0xffn;
    v |= byte << BigInt(8 * i);
  }
  return v;
}

/** The bytes of a field (a name array) up to the first NUL; `complete` is false when there was none. */
export function fieldString(words: readonly bigint[], f: Field): { text: string; complete: boolean } {
  const bytes: number[] = [];
  for (let i = 0; i < f.size; i++) {
    const at = f.offset + i;
    const byte = Number(((words[at >> 3] ?? 0n) >> BigInt((at & 7) * 8)) & 0xffn);
    if (byte === 0) return { text: Buffer.from(bytes).toString('utf8'), complete: true };
    bytes.push(byte);
  }
  return { text: Buffer.from(bytes).toString('utf8'), complete: false };
}

interface Facts {
  flags: number;
  onExitedList: boolean;
  running: boolean;
  hasDeadline: boolean;
}

function matches(rule: StateRule, f: Facts): boolean {
  const ft = rule.flags;
  if (ft?.all !== undefined && (f.flags & ft.all) !== ft.all) return false;
  if (ft?.any !== undefined && (f.flags & ft.any) === 0) return false;
  if (ft?.none !== undefined && (f.flags & ft.none) !== 0) return false;
  if (rule.onExitedList !== undefined && rule.onExitedList !== f.onExitedList) return false;
  if (rule.running !== undefined && rule.running !== f.running) return false;
  if (rule.hasDeadline !== undefined && rule.hasDeadline !== f.hasDeadline) return false;
  return true;
}

export function stateOf(rules: readonly StateRule[], f: Facts): ThreadState {
  return rules.find((r) => matches(r, f))?.state ?? 'blocked';
}

/**
 * The registers a thread resumes with. A thread that never ran sits at a start trampoline: its
 * pops are replayed over the stack words until the start function (`entry`), with the
 * callee-saved registers 0. Any other thread was switched out: the pushed registers are at `sp`
 * (last pushed lowest), the return address into the switch's caller above them, and the thread
 * resumes there with rsp just past it, which is what a debugger needs to unwind its stack.
 */
export function savedContext(
  layout: SchedulerLayout,
  ip: bigint,
  sp: bigint,
  stack: readonly bigint[],
  trampolines: ReadonlyMap<bigint, StartTrampoline>,
): { saved: SavedRegisters; entry?: bigint } | undefined {
  if (ip === 0n || sp === 0n) return undefined;
  let at = 0;
  let pc = ip;
  const args: { rdi?: bigint; rsi?: bigint } = {};
  let started = false;
  for (let hops = 0; hops < 4; hops++) {
    const t = trampolines.get(pc);
    if (!t) break;
    started = true;
    for (const pop of t.pops) {
      const v = stack[at++];
      if (v === undefined) return undefined;
      if (pop === 'ip') pc = v;
      else args[pop] = v;
    }
  }
  if (started) {
    const zero = { rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
    return { saved: { ip: pc, sp: (sp + 8n * BigInt(at)) & MASK64, ...zero, ...args }, entry: pc };
  }
  const pushed = layout.switchPushes.length;
  const ret = stack[pushed];
  if (ret === undefined) return undefined;
  const regs: Record<CalleeSaved, bigint> = { rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
  layout.switchPushes.forEach((reg, k) => {
    regs[reg] = stack[pushed - 1 - k]!;
  });
  return { saved: { ip: ret, sp: (sp + 8n * BigInt(pushed + 1)) & MASK64, ...regs } };
}

/** The saved stack pointer of a thread (0: none). */
export function savedSp(m: MeasuredLayout, w: Pick<ThreadWords, 'words'>): bigint {
  return fieldValue(w.words, m.sp);
}

/** A thread's state-deciding facts, before its stack is read (to know whether to read it). */
export function isRunning(layout: SchedulerLayout, m: MeasuredLayout, w: ThreadWords): boolean {
  return 'array' in layout.running ? w.cpu > 0 : (Number(fieldValue(w.words, m.flags)) & layout.running.flags) !== 0;
}

export function decodeThread(
  layout: SchedulerLayout,
  m: MeasuredLayout,
  w: ThreadWords,
  trampolines: ReadonlyMap<bigint, StartTrampoline>,
): { thread: GuestThread; nameComplete: boolean } {
  const flags = Number(fieldValue(w.words, m.flags) & 0xffffffffn);
  const running = isRunning(layout, m, w);
  const wakeup = m.wakeup ? fieldValue(w.words, m.wakeup) : 0n;
  const hasDeadline = layout.wakeup !== undefined && !layout.wakeup.none.includes(wakeup);
  const onExitedList = layout.lists[w.list]?.exited === true;
  const state = stateOf(layout.states, { flags, onExitedList, running, hasDeadline });
  // An inline name is all there is even without a NUL; a null name pointer is no name.
  const name = layout.name.inline
    ? { ...fieldString(w.words, m.name), complete: true }
    : w.name
      ? fieldString(w.name, { offset: 0, size: w.name.length * 8 })
      : { text: '', complete: fieldValue(w.words, m.name) === 0n };
  const thread: GuestThread = { id: w.address, name: name.text, state, flags };
  if (state === 'running') thread.cpu = 'array' in layout.running ? w.cpu - 1 : 0;
  if (state === 'sleeping' && hasDeadline) thread.wakeup = wakeup;
  if (state !== 'running' && w.stack) {
    const ctx = savedContext(layout, fieldValue(w.words, m.ip), fieldValue(w.words, m.sp), w.stack, trampolines);
    if (ctx) {
      thread.saved = ctx.saved;
      if (ctx.entry !== undefined) thread.entry = ctx.entry;
    }
  }
  return { thread, nameComplete: name.complete };
}
