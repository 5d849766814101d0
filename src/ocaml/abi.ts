/**
 * The amd64 native-code ABI of OCaml 4.13 (asmcomp/amd64/proc.ml, runtime/amd64.S,
 * runtime/caml/domain_state.tbl), with what a debugger needs to decide at a raise
 * whether the exception will be caught. Every number here was checked on the real
 * MirageOS image (test/unit/ocaml/fixtures/README.md has the gdb session).
 * OCaml 5 keeps the argument registers, r14 and r15, but not the rest: its exception
 * handlers live on fibers and its domain state differs, so this is 4.x only.
 */
import { anyPlausibleAddress, readBlock, symbolName, Tag, type AddressCheck, type AddressRange, type OcamlMemory } from './heap';
import { decodeClosinfo } from './closures';

/** Integer (value) arguments in order; floats are boxed, so every OCaml argument is here. */
export const ARGUMENT_REGISTERS = ['rax', 'rbx', 'rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9', 'r12', 'r13'] as const;
/** Holds Caml_state (the domain state) in OCaml code. */
export const DOMAIN_STATE_REGISTER = 'r14';
/** The minor-heap allocation pointer (Caml_state->young_ptr is stale while OCaml runs). */
export const ALLOC_POINTER_REGISTER = 'r15';
/** The global that points to the domain state, readable from C code too. */
export const DOMAIN_STATE_SYMBOL = 'Caml_state';
/** Absolute symbols amd64.S defines with each domain-state field's index (`domain_field_caml_exception_pointer` = 2). */
export const DOMAIN_FIELD_SYMBOL_PREFIX = 'domain_field_caml_';

export type ArgumentLocation = { register: string } | { stackOffset: number };

/**
 * Where argument i (0-based) is at the first instruction of an OCaml function: the first
 * ten in registers, the rest in the caller's outgoing area just above the return address.
 */
export function argumentLocation(i: number): ArgumentLocation {
  return i < ARGUMENT_REGISTERS.length ? { register: ARGUMENT_REGISTERS[i] } : { stackOffset: 8 + 8 * (i - ARGUMENT_REGISTERS.length) };
}

/** `arg1`…`argN` and where each is, for a function of `arity` arguments (10 when unknown). */
export function argumentsAtEntry(arity?: number): { name: string; location: ArgumentLocation }[] {
  const n = arity === undefined ? ARGUMENT_REGISTERS.length : Math.max(0, arity);
  return Array.from({ length: n }, (_, i) => ({ name: `arg${i + 1}`, location: argumentLocation(i) }));
}

/** Byte offsets into caml_domain_state of OCaml 4.13 (domain_state.tbl order, 8 bytes each). */
export const DOMAIN_STATE_413 = {
  young_limit: 0x00,
  young_ptr: 0x08,
  exception_pointer: 0x10,
  young_base: 0x18,
  young_start: 0x20,
  young_end: 0x28,
  exn_bucket: 0xc0,
  top_of_stack: 0xc8,
  bottom_of_stack: 0xd0,
  last_return_address: 0xd8,
  gc_regs: 0xe0,
  backtrace_active: 0xe8,
  backtrace_pos: 0xf0,
  local_roots: 0x120,
} as const;

export type DomainStateOffsets = Record<string, number>;

/**
 * Domain-state offsets from an image's own `domain_field_caml_<name>` absolute symbols
 * (index × 8), so another 4.x release's layout is read from that image, not assumed.
 */
export function domainStateOffsetsFromSymbols(symbols: Iterable<readonly [string, bigint]>): DomainStateOffsets {
  const out: DomainStateOffsets = {};
  for (const [name, value] of symbols) {
    if (name.startsWith(DOMAIN_FIELD_SYMBOL_PREFIX) && value < 1024n) out[name.slice(DOMAIN_FIELD_SYMBOL_PREFIX.length)] = Number(value) * 8;
  }
  return out;
}

/** Where the exception is at the first instruction of each runtime function that raises or reports one. */
export const RAISE_FUNCTIONS = {
  /** `raise` in OCaml code (compiled with -g) calls this; Caml_state in r14. */
  caml_raise_exn: { exception: 'rax' },
  /** C code's raise (caml_failwith, caml_raise_not_found, …); it calls caml_fatal_uncaught_exception itself when no handler is installed. */
  caml_raise: { exception: 'rdi' },
  /** Where caml_raise jumps to the handler: caml_raise_exception(Caml_state, exn). */
  caml_raise_exception: { exception: 'rsi', domainState: 'rdi' },
  /** After the stack is unwound: prints `Fatal error: exception …` and exits with 2. */
  caml_fatal_uncaught_exception: { exception: 'rdi' },
} as const satisfies Record<string, { exception: string; domainState?: string }>;

/** The function whose exception handler marks the boundary where OCaml was entered from C. */
export const START_PROGRAM = 'caml_start_program';

/**
 * One exception handler frame, pushed by `try` (and by caml_start_program for the whole
 * program and for each callback from C): [address] = the previous frame (0 ends the chain),
 * [address + 8] = the handler. caml_raise_exn sets rsp to Caml_state->exception_pointer,
 * pops the previous frame into it and returns into the handler.
 */
export interface HandlerFrame {
  address: bigint;
  previous: bigint;
  handler: bigint;
}

export type RaiseVerdict =
  /** Nothing catches it: the next stop would be caml_fatal_uncaught_exception. */
  | { kind: 'uncaught'; reason: string; frame?: HandlerFrame }
  /** An OCaml `try … with` will get it (it may still re-raise). */
  | { kind: 'caught'; frame: HandlerFrame; handlerSymbol?: string }
  /** It returns to C code that entered OCaml through caml_callback*: caml_callback re-raises it (`then`), caml_callback_exn hands it to its caller. */
  | { kind: 'toC'; frame: HandlerFrame; then: RaiseVerdict }
  | { kind: 'unknown'; reason: string };

export interface RaiseOptions {
  /** Whether handler is caml_start_program's; by default `symbolAt(handler)` names caml_start_program. */
  isStartProgramHandler?: (handler: bigint) => boolean | Promise<boolean>;
  /** Most callback boundaries followed (default 16). */
  maxBoundaries?: number;
}

/** Reads the handler chain from Caml_state->exception_pointer outwards, at most max frames. */
export async function readHandlerChain(mem: OcamlMemory, exceptionPointer: bigint, max = 64): Promise<HandlerFrame[]> {
  const out: HandlerFrame[] = [];
  let at = exceptionPointer;
  while (at !== 0n && out.length < max) {
    const [previous, handler] = [await mem.readWord(at), await mem.readWord(at + 8n)];
    if (previous === undefined || handler === undefined) break;
    out.push({ address: at, previous, handler });
    // The stack grows down: an outer frame is always at a higher address.
    if (previous !== 0n && previous <= at) break;
    at = previous;
  }
  return out;
}

/**
 * Will the exception being raised now be caught? Call it at caml_raise_exn (or at
 * caml_raise / caml_raise_exception) with Caml_state->exception_pointer:
 *  - 0: no handler at all (caml_raise then calls caml_fatal_uncaught_exception): uncaught.
 *  - its handler is not caml_start_program's: a `try` in OCaml code catches it.
 *  - caml_start_program's handler whose previous frame is 0: the outermost one, installed
 *    when caml_startup entered the program: uncaught.
 *  - caml_start_program's handler with a previous frame: a callback from C ends there
 *    (caml_callback* share that code); follow the chain as caml_callback would re-raise.
 */
export async function classifyRaise(mem: OcamlMemory, exceptionPointer: bigint, options: RaiseOptions = {}): Promise<RaiseVerdict> {
  const isStart = options.isStartProgramHandler ?? (async (h: bigint) => (await symbolName(mem, h)) === START_PROGRAM);
  let budget = options.maxBoundaries ?? 16;
  const step = async (ep: bigint): Promise<RaiseVerdict> => {
    if (ep === 0n) return { kind: 'uncaught', reason: 'no exception handler is installed' };
    const [previous, handler] = [await mem.readWord(ep), await mem.readWord(ep + 8n)];
    if (previous === undefined || handler === undefined) return { kind: 'unknown', reason: `cannot read the handler frame at 0x${ep.toString(16)}` };
    const frame: HandlerFrame = { address: ep, previous, handler };
    if (!(await isStart(handler))) return { kind: 'caught', frame, handlerSymbol: await symbolName(mem, handler) };
    if (previous === 0n) return { kind: 'uncaught', reason: `the top-level handler of ${START_PROGRAM}`, frame };
    if (previous <= ep) return { kind: 'unknown', reason: `the handler chain goes down the stack at 0x${ep.toString(16)}` };
    if (--budget < 0) return { kind: 'unknown', reason: 'too many callback boundaries' };
    return { kind: 'toC', frame, then: await step(previous) };
  };
  return step(exceptionPointer);
}

/** Reads Caml_state->exception_pointer, given the domain state's address (r14 in OCaml code, or *Caml_state). */
export async function readExceptionPointer(mem: OcamlMemory, domainState: bigint, offsets: DomainStateOffsets = DOMAIN_STATE_413): Promise<bigint | undefined> {
  const off = offsets.exception_pointer ?? DOMAIN_STATE_413.exception_pointer;
  return mem.readWord(domainState + BigInt(off));
}

/**
 * A function's arity from the static closure ocamlopt emits for a closed top-level function
 * (in its unit's data, between `caml<Unit>__data_begin` and `__data_end`): the Closure_tag
 * block whose code (arity 1) or direct-call code (arity > 1) is the function's address.
 * Undefined when there is none (local functions' closures are allocated at run time).
 */
export async function arityFromStaticClosures(mem: OcamlMemory, functionAddress: bigint, unitData: AddressRange, isValid: AddressCheck = anyPlausibleAddress): Promise<number | undefined> {
  const size = Number(unitData.end - unitData.start);
  if (size <= 0 || size > 1 << 20) return undefined;
  const bytes = await mem.readBytes(unitData.start, size);
  if (!bytes) return undefined;
  const word = (i: number): bigint => bytes.readBigUInt64LE(i * 8);
  for (let i = 0; i + 2 < Math.floor(size / 8); i++) {
    const h = word(i);
    if (Number(h & 0xffn) !== Tag.Closure) continue;
    const ci = decodeClosinfo(word(i + 2));
    if (!ci) continue;
    const direct = Math.abs(ci.arity) > 1 && i + 3 < size / 8 ? word(i + 3) : undefined;
    if ((Math.abs(ci.arity) <= 1 ? word(i + 1) : direct) !== functionAddress) continue;
    const block = await readBlock(mem, unitData.start + BigInt(i + 1) * 8n, isValid);
    if (block.ok && block.header.tag === Tag.Closure) return ci.arity;
  }
  return undefined;
}
