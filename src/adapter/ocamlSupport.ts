/**
 * The debugger's OCaml side for MirageOS images: OCaml names for frames and function breakpoints,
 * uncaught exceptions decided at the raise, and OCaml values read from guest memory. The knowledge
 * of OCaml itself is src/ocaml/; this part reads the guest through gdb for it.
 */
import { findSymbols } from '../elf';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import {
  ARGUMENT_REGISTERS,
  arityFromStaticClosures,
  DOMAIN_STATE_REGISTER,
  RAISE_FUNCTIONS,
  START_PROGRAM,
  classifyRaise,
  decodeModuleBlock,
  decodeValue,
  demangle,
  displayName,
  formatException,
  readExceptionPointer,
  toGdbRegex,
  type OcamlChild,
  type OcamlMemory,
  type OcamlValue,
} from '../ocaml';

/** Memory is read in aligned lines of this many bytes and kept until the guest runs again. */
const LINE = 64n;

/** Guest memory through gdb, cached for one stop (values are read word by word). */
export class GuestMemory implements OcamlMemory {
  private readonly lines = new Map<bigint, Promise<Buffer | undefined>>();
  private readonly symbols = new Map<bigint, Promise<string | undefined>>();

  constructor(private readonly gdb: Gdb) {}

  /** The guest ran: what was read may have changed. */
  forget(): void {
    this.lines.clear();
  }

  async readWord(addr: bigint): Promise<bigint | undefined> {
    const bytes = await this.readBytes(addr, 8);
    return bytes?.readBigUInt64LE(0);
  }

  async readBytes(addr: bigint, length: number): Promise<Buffer | undefined> {
    if (length <= 0) return Buffer.alloc(0);
    const first = addr - (addr % LINE);
    const end = addr + BigInt(length);
    // The lines not read yet are asked for in one command (a unit's data is read whole for an arity).
    const missing: bigint[] = [];
    for (let line = first; line < end; line += LINE) if (!this.lines.has(line)) missing.push(line);
    if (missing.length > 1) this.fetch(missing[0]!, missing[missing.length - 1]! + LINE);
    const parts: Buffer[] = [];
    for (let line = first; line < end; line += LINE) {
      const data = await this.line(line);
      if (!data) return undefined;
      parts.push(data);
    }
    const all = Buffer.concat(parts);
    const start = Number(addr - first);
    return all.subarray(start, start + length);
  }

  symbolAt(addr: bigint): Promise<string | undefined> {
    let s = this.symbols.get(addr);
    if (!s) {
      // gdb prints a code pointer with its symbol: `(void (*)()) 0x1229c7 <caml_start_program+123>`.
      s = mi
        .dataEvaluateExpression(this.gdb, `(void (*)())0x${addr.toString(16)}`)
        .then((text) => /<([^+>]+)(?:\+\d+)?>/.exec(text)?.[1])
        .catch(() => undefined);
      this.symbols.set(addr, s);
    }
    return s;
  }

  private line(at: bigint): Promise<Buffer | undefined> {
    if (!this.lines.has(at)) this.fetch(at, at + LINE);
    return this.lines.get(at)!;
  }

  /** Reads the lines of [from, to) in one command; each line's promise is cached (unreadable: undefined). */
  private fetch(from: bigint, to: bigint): void {
    const read = mi.dataReadMemoryBytes(this.gdb, from, Number(to - from)).catch(() => []);
    for (let at = from; at < to; at += LINE) {
      if (this.lines.has(at)) continue;
      this.lines.set(
        at,
        read.then((blocks) => {
          const b = blocks.find((x) => x.begin <= at && x.end >= at + LINE);
          return b ? b.contents.subarray(Number(at - b.begin), Number(at - b.begin + LINE)) : undefined;
        }),
      );
    }
  }
}

export interface RaiseStop {
  /** Nothing will catch it. */
  uncaught: boolean;
  /** The exception as OCaml prints it: `Failure("deliberate")`. */
  text?: string;
}

export class OcamlSupport {
  readonly memory: GuestMemory;

  private constructor(private readonly gdb: Gdb) {
    this.memory = new GuestMemory(gdb);
  }

  /** OCaml support for an image whose symbol table has the OCaml runtime's entry, else undefined. */
  static async detect(gdb: Gdb, symbols: string): Promise<OcamlSupport | undefined> {
    const found = await findSymbols(symbols, [START_PROGRAM]).catch(() => new Set<string>());
    return found.has(START_PROGRAM) ? new OcamlSupport(gdb) : undefined;
  }

  /** `camlHello__depth_88` → `Hello.depth`; anything else as it is. */
  frameName(func: string): string {
    return displayName(func);
  }

  /** Whether a function name is OCaml's (so its mangled name is worth showing too). */
  isOcamlFunction(func: string | undefined): boolean {
    return !!func && demangle(func) !== undefined;
  }

  /**
   * The linker name of a function named the OCaml way (`Hello.depth`, `depth`, `Stdlib.(^)`), for
   * a function breakpoint; undefined when the name is not OCaml's or nothing matches.
   */
  async resolveFunction(name: string): Promise<string | undefined> {
    if (/^caml/.test(name)) return undefined;
    const regex = toGdbRegex(name);
    if (!regex) return undefined;
    const found = await mi.symbolInfoFunctions(this.gdb, regex).catch(() => []);
    const names = [...new Set(found.map((f) => f.name))];
    // Nested modules or several stamps: the first found is the one gdb would list first.
    return names[0];
  }

  /** Where raises can be caught: OCaml's raise and the C runtime's. */
  raiseFunctions(): string[] {
    return ['caml_raise_exn', 'caml_raise_exception'];
  }

  /** At the first instruction of a raise function: will it be caught, and what is it? */
  async atRaise(func: 'caml_raise_exn' | 'caml_raise_exception', threadId: number): Promise<RaiseStop> {
    this.memory.forget();
    const where = RAISE_FUNCTIONS[func];
    const at = { threadId, level: 0 };
    const reg = async (r: string): Promise<bigint | undefined> => {
      const v = await mi.dataEvaluateExpression(this.gdb, `(unsigned long)$${r}`, at).catch(() => '');
      return /^\d+$/.test(v) ? BigInt(v) : undefined;
    };
    const exn = await reg(where.exception);
    const domainState = await reg('domainState' in where ? where.domainState : DOMAIN_STATE_REGISTER);
    const text = exn !== undefined ? await formatException(exn, this.memory).catch(() => undefined) : undefined;
    const ep = domainState !== undefined ? await readExceptionPointer(this.memory, domainState) : undefined;
    if (ep === undefined) return { uncaught: false, text };
    const verdict = await classifyRaise(this.memory, ep);
    // Handed back to C through a callback: that C code decides; its own raise is seen again.
    return { uncaught: verdict.kind === 'uncaught', text };
  }

  /** The exception a crash function got as its first argument (caml_fatal_uncaught_exception). */
  async exceptionArgument(threadId: number): Promise<string | undefined> {
    const v = await mi.dataEvaluateExpression(this.gdb, '(unsigned long)$rdi', { threadId, level: 0 }).catch(() => '');
    return /^\d+$/.test(v) ? formatException(BigInt(v), this.memory).catch(() => undefined) : undefined;
  }

  /** The module path of an OCaml function or initialiser (`Hello` for `camlHello__depth_88`). */
  moduleOf(func: string): string | undefined {
    const name = demangle(func);
    return name && name.kind !== 'module' ? name.module : undefined;
  }

  /**
   * The arguments of an OCaml function stopped at its first instruction: the calling convention's
   * registers, decoded (OCaml's DWARF names none, so they are `arg1`, `arg2`, …). As many as its
   * arity, read from its static closure; elsewhere in the function the registers hold other things.
   */
  async entryArguments(threadId: number, level: number, func: string): Promise<OcamlChild[]> {
    const at = { threadId, level: 0 };
    const word = async (expr: string): Promise<bigint | undefined> => {
      const v = await mi.dataEvaluateExpression(this.gdb, `(unsigned long)(${expr})`, at).catch(() => '');
      return /^\d+$/.test(v) ? BigInt(v) : undefined;
    };
    const entryOnly = [note('arguments', 'known at the function\'s first instruction only (OCaml keeps no argument locations)')];
    if (level !== 0) return entryOnly;
    // Where the function starts, where the CPU is, and its unit's static data, asked together.
    const unit = demangle(func)?.modulePath.join('__');
    const [start, pc, from, to] = await Promise.all([
      word(`&'${func}'`),
      word('$pc'),
      unit ? word(`&'caml${unit}__data_begin'`) : undefined,
      unit ? word(`&'caml${unit}__data_end'`) : undefined,
    ]);
    if (start === undefined || pc !== start) return entryOnly;
    const arity = from !== undefined && to !== undefined ? await arityFromStaticClosures(this.memory, start, { start: from, end: to }).catch(() => undefined) : undefined;
    const count = Math.min(Math.abs(arity ?? 2), ARGUMENT_REGISTERS.length);
    // The registers are asked together; each value is then read in order.
    const registers = ARGUMENT_REGISTERS.slice(0, count);
    const words = await Promise.all(registers.map((r) => word(`$${r}`)));
    const out: OcamlChild[] = [];
    for (const [i, r] of registers.entries()) {
      const v = words[i];
      if (v === undefined) continue;
      out.push({ ...(await decodeValue(v, this.memory)), name: `arg${i + 1}${arity === undefined ? '?' : ''} (${r})` });
    }
    return out;
  }

  /** A module's globals: the fields of its module block `caml<Module>`. */
  async moduleGlobals(module: string): Promise<OcamlValue | undefined> {
    const symbol = `caml${module.replaceAll('.', '__')}`;
    const v = await mi.dataEvaluateExpression(this.gdb, `(unsigned long)&'${symbol}'`).catch(() => '');
    if (!/^\d+$/.test(v)) return undefined;
    return decodeModuleBlock(BigInt(v), this.memory);
  }

  /** Decodes one word the user pointed at (`ocaml: $rax`, a register's hover). */
  async decode(word: bigint): Promise<OcamlValue> {
    return decodeValue(word, this.memory);
  }
}

/** A row that says something instead of showing a value. */
function note(name: string, text: string): OcamlChild {
  return { name, value: text, type: '', kind: 'invalid', word: 0n };
}
