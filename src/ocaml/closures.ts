/**
 * Closures (Closure_tag 247, and Infix_tag 249 pointers into one) in the 4.12+ layout:
 *   field 0  code pointer (for arity > 1: a caml_curryN that takes one argument at a time)
 *   field 1  closinfo = arity (signed, top 8 bits) | start of environment << 1 | 1
 *   field 2  for |arity| > 1: the code for a full application (the function itself)
 *   then the environment (free variables) from the start of environment on.
 * Mutually recursive functions share one block; the later ones are Infix pointers whose
 * header's size is their offset, in words, from the block's start.
 */
import { displayName } from './names';
import { hex, isImmediate, readBlock, readField, symbolName, Tag, type AddressCheck, type BlockRead, type OcamlMemory } from './heap';

export interface Closinfo {
  arity: number;
  /** Field index of the first environment field, from this closure's code pointer. */
  startEnv: number;
}

export function decodeClosinfo(info: bigint): Closinfo | undefined {
  if (!isImmediate(info)) return undefined;
  return { arity: Number(BigInt.asIntN(8, info >> 56n)), startEnv: Number(BigInt.asUintN(64, info << 8n) >> 9n) };
}

export interface ClosureLayout {
  code: bigint;
  arity?: number;
  /** Index of the first environment field, counted from this closure's field 0. */
  startEnv: number;
  /** Fields that belong to this closure (from its code pointer to the block's end). */
  fields: number;
  /** The full-application code when arity > 1. */
  direct?: bigint;
  /** For an infix pointer: its offset in words into the enclosing closure block. */
  infixOffset?: number;
  /** What to call it: `Hello.depth`, `Hello.depth (partial)`, or the code address. */
  name: string;
}

type Block = Extract<BlockRead, { ok: true }>;

/** The layout of a Closure_tag or Infix_tag block; undefined for an infix pointer outside a closure. */
export async function readClosure(mem: OcamlMemory, b: Block, isValid: AddressCheck): Promise<ClosureLayout | undefined> {
  let fields = b.header.wosize;
  let infixOffset: number | undefined;
  if (b.header.tag === Tag.Infix) {
    infixOffset = b.header.wosize;
    const outer = await readBlock(mem, b.pointer - BigInt(infixOffset) * 8n, isValid);
    if (!outer.ok || outer.header.tag !== Tag.Closure || outer.header.wosize <= infixOffset + 1) return undefined;
    fields = outer.header.wosize - infixOffset;
  }
  const code = (await readField(mem, b.pointer, 0)) ?? 0n;
  const info = await readField(mem, b.pointer, 1);
  const ci = info === undefined ? undefined : decodeClosinfo(info);
  const startEnv = ci && ci.startEnv >= 2 && ci.startEnv <= fields ? ci.startEnv : 2;
  const direct = ci && Math.abs(ci.arity) > 1 && startEnv >= 3 ? await readField(mem, b.pointer, 2) : undefined;
  let name = await functionName(mem, direct ?? code);
  const sym = (await symbolName(mem, direct ?? code)) ?? '';
  if (/^caml_curry\d+(?:_\d+)+(?:_app)?$/.test(sym) && fields - 1 >= startEnv) {
    // A partial application built by caml_curryN: its last field is the closure applied.
    const applied = await readField(mem, b.pointer, fields - 1);
    const inner = applied !== undefined && !isImmediate(applied) ? await readBlock(mem, applied, isValid) : undefined;
    if (inner?.ok && (inner.header.tag === Tag.Closure || inner.header.tag === Tag.Infix)) {
      name = `${await functionName(mem, await fullApplicationCode(mem, inner.pointer))} (partial)`;
    }
  }
  return { code, arity: ci?.arity, startEnv, fields, direct, infixOffset, name };
}

/** The code that runs the function itself: field 2 when arity > 1, else field 0. */
async function fullApplicationCode(mem: OcamlMemory, pointer: bigint): Promise<bigint> {
  const code = (await readField(mem, pointer, 0)) ?? 0n;
  const info = await readField(mem, pointer, 1);
  const ci = info === undefined ? undefined : decodeClosinfo(info);
  if (!ci || Math.abs(ci.arity) <= 1) return code;
  return (await readField(mem, pointer, 2)) ?? code;
}

/** The OCaml name of the code at addr, the symbol when it is not OCaml, else the address. */
export async function functionName(mem: OcamlMemory, addr: bigint): Promise<string> {
  const sym = await symbolName(mem, addr);
  return sym ? displayName(sym) : hex(addr);
}
