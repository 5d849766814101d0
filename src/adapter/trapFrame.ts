/**
 * The faulting frame of a trap. A trap handler runs where gdb cannot unwind past it (the CPU
 * switched stacks, or the entry stub has no unwind information), so the frames of the code that
 * faulted are rebuilt from the registers the trap entry saved: found by the handler's parameter
 * *name* (its position differs between platforms), with whatever members its structure has.
 */
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext, MiFrame } from '../mi/commands';
import type { Symbolizer } from '../crash/symbolizer';
import { trapFromVector, type CrashFrame } from '../crash/report';
import { hexAddress } from './format';

/** Where a trap handler keeps what the trap saved. */
export interface TrapSource {
  /** The parameter pointing at the saved registers (members `rip`, `rsp`, and maybe `rbp`, `cr2`, …). */
  frameParam?: string;
  /** The parameter holding the vector number. */
  vectorParam?: string;
  /** The vector, for a handler of one exception. */
  vector?: number;
  /** Parameters holding the faulting rip and cr2 themselves (no saved frame). */
  ripParam?: string;
  cr2Param?: string;
}

/** Trap handlers of the platforms as their current sources declare them. */
export const TRAP_HANDLERS: Readonly<Record<string, TrapSource>> = {
  // Solo5: void cpu_trap_handler(uint64_t num, struct trap_regs *regs): {cr2, ec, rip, cs, rflags, rsp, ss}.
  cpu_trap_handler: { frameParam: 'regs', vectorParam: 'num' },
  // Our multiboot fixture and kernels like it: void trap_handler(struct trap_regs *regs), with trapnum.
  trap_handler: { frameParam: 'regs' },
  // Unikraft 0.17: do_page_fault(struct __regs *regs, unsigned long error_code), do_unhandled_trap(int trapnr, char *str, struct __regs *regs, unsigned long error_code).
  do_page_fault: { frameParam: 'regs', vector: 14 },
  do_unhandled_trap: { frameParam: 'regs', vectorParam: 'trapnr' },
  do_gp_fault: { frameParam: 'regs', vector: 13 },
  // Rumprun: static void cpu_fattrap(const char *name, void *rip, unsigned long cr2).
  cpu_fattrap: { ripParam: 'rip', cr2Param: 'cr2' },
};

/** The System V AMD64 argument registers, for a parameter read at a function's first instruction. */
const ARG_REGISTERS = ['$rdi', '$rsi', '$rdx', '$rcx', '$r8', '$r9'];

export interface RebuiltTrap {
  /** The handler the trap went to, and its level in gdb's stack. */
  handler: string;
  level: number;
  registers: Record<string, string>;
  frames: CrashFrame[];
  trap?: { kind: string; name: string; vector: number };
  /** An expression for the saved register structure, valid in any frame. */
  savedRegisters?: string;
}

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/** The innermost frame of a trap handler in a stack, if the stack has one. */
export function findTrapHandler(frames: readonly MiFrame[]): { frame: MiFrame; source: TrapSource } | undefined {
  for (const frame of frames) {
    const source = frame.func ? TRAP_HANDLERS[frame.func] : undefined;
    if (source) return { frame, source };
  }
  return undefined;
}

export async function rebuildTrapFrames(
  gdb: Gdb,
  threadId: number,
  live: readonly MiFrame[],
  symbolizer: Symbolizer | undefined,
): Promise<RebuiltTrap | undefined> {
  const found = findTrapHandler(live);
  if (!found) return undefined;
  const { frame, source } = found;
  const at: FrameContext = { threadId, level: frame.level };
  const read = (expr: string, where: FrameContext = at): Promise<bigint | undefined> =>
    mi
      .dataEvaluateExpression(gdb, `(unsigned long)(${expr})`, where)
      .then((v) => (/^\d+$/.test(v) ? BigInt(v) : undefined))
      .catch(() => undefined);
  const param = await parameterReader(gdb, at, frame, read);

  let savedRegisters: string | undefined;
  const saved: Record<string, bigint | undefined> = {};
  if (source.frameParam) {
    const pointer = await param(source.frameParam);
    if (pointer) {
      savedRegisters = `((${pointer.type})${hex(pointer.value)})`;
      const names = ['rip', 'rsp', 'rbp', 'cr2', 'rflags', 'eflags', 'ec', 'trapnum'];
      const values = await Promise.all(names.map((m) => read(`${savedRegisters}->${m}`)));
      names.forEach((m, i) => (saved[m] = values[i]));
    }
  }
  if (source.ripParam) saved.rip = (await param(source.ripParam))?.value;
  if (source.cr2Param) saved.cr2 = (await param(source.cr2Param))?.value;
  const rip = saved.rip;
  if (rip === undefined) return undefined;

  const vectorValue = source.vector !== undefined ? BigInt(source.vector) : source.vectorParam ? (await param(source.vectorParam))?.value : saved.trapnum;
  const vector = vectorValue !== undefined && vectorValue < 32n ? Number(vectorValue) : undefined;
  const trap = vector !== undefined ? { ...trapFromVector(vector), vector } : undefined;
  const registers: Record<string, string> = { rip: hex(rip) };
  if (saved.ec !== undefined) registers.ec = hex(saved.ec);
  if (saved.rsp !== undefined) registers.rsp = hex(saved.rsp);
  if (saved.rbp !== undefined) registers.rbp = hex(saved.rbp);
  const flags = saved.rflags ?? saved.eflags;
  if (flags !== undefined) registers.rflags = hex(flags);
  const cr2 = saved.cr2 ?? (vector === 14 ? await read('$cr2') : undefined);
  if (cr2 !== undefined) registers.cr2 = hex(cr2);

  // Without a saved rsp there is nothing to unwind from: the faulting instruction is all there is.
  const frames =
    (saved.rsp !== undefined ? await unwindFrom(gdb, threadId, { rip, rsp: saved.rsp, rbp: saved.rbp ?? (await read('$rbp')) }).catch(() => undefined) : undefined) ??
    (await framePointerWalk(rip, saved.rbp, read, symbolizer));
  return { handler: frame.func ?? '', level: frame.level, registers, frames, trap, savedRegisters };
}

/**
 * Reads a handler's parameter with its type. gdb knows where an optimised parameter lives at each
 * address; where it does not, at the handler's first instruction, the ABI register of the
 * parameter's position holds it.
 */
async function parameterReader(
  gdb: Gdb,
  at: FrameContext,
  frame: MiFrame,
  read: (expr: string, where?: FrameContext) => Promise<bigint | undefined>,
): Promise<(name: string) => Promise<{ value: bigint; type: string } | undefined>> {
  const vars = await mi.stackListVariables(gdb, at).catch(() => []);
  const args = vars.filter((v) => v.arg);
  const atEntry = at.level === 0 && frame.func !== undefined && (await read(`$pc == (unsigned long)&${frame.func}`)) === 1n;
  return async (name) => {
    const index = args.findIndex((a) => a.name === name);
    const type = args[index]?.type ?? 'unsigned long';
    const value = (await read(name)) ?? (atEntry && index >= 0 && index < ARG_REGISTERS.length ? await read(ARG_REGISTERS[index]!) : undefined);
    return value === undefined ? undefined : { value, type };
  };
}

/**
 * gdb unwinds the faulting code from the saved registers: they are put in the vCPU for the time
 * of one backtrace and put back. gdb then uses the image's unwind tables, so code without frame
 * pointers (-O2) unwinds too.
 */
async function unwindFrom(gdb: Gdb, threadId: number, regs: { rip: bigint; rsp: bigint; rbp?: bigint }): Promise<CrashFrame[] | undefined> {
  const top: FrameContext = { threadId, level: 0 };
  const names = ['$rip', '$rsp', '$rbp'] as const;
  const original = await Promise.all(names.map((r) => mi.dataEvaluateExpression(gdb, `(unsigned long)${r}`, top)));
  if (original.some((v) => !/^\d+$/.test(v))) return undefined;
  let frames: MiFrame[];
  try {
    await mi.dataEvaluateExpression(gdb, `$rsp = ${hex(regs.rsp)}`, top);
    if (regs.rbp !== undefined) await mi.dataEvaluateExpression(gdb, `$rbp = ${hex(regs.rbp)}`, top);
    await mi.dataEvaluateExpression(gdb, `$rip = ${hex(regs.rip)}`, top);
    frames = await mi.stackListFrames(gdb, threadId, 0, 63);
  } finally {
    for (let i = names.length - 1; i >= 0; i--) {
      await mi.dataEvaluateExpression(gdb, `${names[i]} = ${original[i]}`, top).catch(() => undefined);
    }
  }
  const out: CrashFrame[] = [];
  for (const f of frames) {
    // Past the image's own code (the boot stub's zeroed return address, garbage) the walk ends.
    if (!f.func || f.func === '??') break;
    out.push({ address: hexAddress(f.addr), function: f.func, file: f.fullname ?? f.file, line: f.line, returnAddress: f.level > 0 || undefined });
  }
  return out.length > 0 ? out : undefined;
}

/** The fallback: the frame-pointer chain from the saved rbp, symbolized from the ELF. */
async function framePointerWalk(
  rip: bigint,
  rbp: bigint | undefined,
  read: (expr: string) => Promise<bigint | undefined>,
  symbolizer: Symbolizer | undefined,
): Promise<CrashFrame[]> {
  const pcs: { address: bigint; returnAddress: boolean }[] = [{ address: rip, returnAddress: false }];
  let fp = rbp;
  for (let depth = 0; fp && depth < 64; depth++) {
    const [ret, next] = await Promise.all([read(`*(unsigned long *)${fp + 8n}`), read(`*(unsigned long *)${fp}`)]);
    if (!ret || next === undefined) break;
    pcs.push({ address: ret, returnAddress: true });
    if (next <= fp) break;
    fp = next;
  }
  const resolved = symbolizer
    ? await symbolizer.symbolize(pcs.map((p) => ({ address: p.address, isReturnAddress: p.returnAddress }))).catch(() => undefined)
    : undefined;
  const frames = pcs.map((p, i): CrashFrame => {
    const r = resolved?.[i];
    return { address: hex(p.address), function: r?.function, file: r?.file, line: r?.line, returnAddress: p.returnAddress || undefined };
  });
  const end = frames.findIndex((f, i) => i > 0 && !f.function);
  return end > 0 ? frames.slice(0, end) : frames;
}
