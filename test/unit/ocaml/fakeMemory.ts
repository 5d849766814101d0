// A sparse 64-bit memory for the OCaml decoder's tests, and a builder that lays out
// blocks the way the OCaml runtime does (header word, then fields).
import { tagInt, type OcamlMemory } from '../../../src/ocaml/heap';

export interface FakeSymbol {
  address: bigint;
  size?: bigint;
  name: string;
}

export class FakeMemory implements OcamlMemory {
  private readonly words = new Map<bigint, bigint>();
  private symbols: FakeSymbol[] = [];
  /** Every address asked for, to check what the decoder reads. */
  readonly reads: bigint[] = [];

  setWord(addr: bigint, value: bigint): void {
    if (addr % 8n !== 0n) throw new Error(`unaligned setWord ${addr.toString(16)}`);
    this.words.set(addr, BigInt.asUintN(64, value));
  }

  setBytes(addr: bigint, bytes: Uint8Array): void {
    bytes.forEach((b, i) => {
      const a = addr + BigInt(i);
      const base = a - (a % 8n);
      const shift = (a % 8n) * 8n;
      const old = this.words.get(base) ?? 0n;
      this.words.set(base, (old & ~(0xffn << shift)) | (BigInt(b) << shift));
    });
  }

  has(addr: bigint): boolean {
    return this.words.has(addr - (addr % 8n));
  }

  addSymbols(list: FakeSymbol[]): void {
    this.symbols = [...this.symbols, ...list].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  async readWord(addr: bigint): Promise<bigint | undefined> {
    this.reads.push(addr);
    if (addr % 8n === 0n) return this.words.get(addr);
    const b = await this.readBytes(addr, 8);
    return b ? b.readBigUInt64LE(0) : undefined;
  }

  async readBytes(addr: bigint, length: number): Promise<Buffer | undefined> {
    this.reads.push(addr);
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      const a = addr + BigInt(i);
      const w = this.words.get(a - (a % 8n));
      if (w === undefined) return undefined;
      out[i] = Number((w >> ((a % 8n) * 8n)) & 0xffn);
    }
    return out;
  }

  /** Like gdb's `info symbol`: the sized symbol containing addr, or the last sizeless one before it. */
  async symbolAt(addr: bigint): Promise<string | undefined> {
    let best: FakeSymbol | undefined;
    for (let i = 0; i < this.symbols.length; i++) {
      const s = this.symbols[i];
      if (s.address > addr) break;
      const end = s.size !== undefined ? s.address + s.size : this.symbols.slice(i + 1).find((n) => n.address > s.address)?.address ?? s.address + 1n;
      if (addr < end && (!best || best.size === undefined || s.size !== undefined)) best = s;
    }
    if (!best) return undefined;
    return addr === best.address ? best.name : `${best.name} + ${addr - best.address}`;
  }
}

export const int = (n: number | bigint): bigint => tagInt(n);

/** Allocates OCaml blocks in a FakeMemory, upwards from `base`. */
export class HeapBuilder {
  private next: bigint;

  constructor(
    readonly mem: FakeMemory,
    base = 0x200000n,
  ) {
    this.next = base;
  }

  get top(): bigint {
    return this.next;
  }

  header(wosize: number, tag: number, colour = 0): bigint {
    return (BigInt(wosize) << 10n) | (BigInt(colour) << 8n) | BigInt(tag);
  }

  /** A block; returns the pointer to field 0. */
  block(tag: number, fields: bigint[], colour = 0): bigint {
    return this.raw(this.header(fields.length, tag, colour), fields);
  }

  /** Header word then words, as given (for malformed blocks). */
  raw(header: bigint, words: bigint[]): bigint {
    this.mem.setWord(this.next, header);
    const p = this.next + 8n;
    words.forEach((w, i) => this.mem.setWord(p + BigInt(i) * 8n, w));
    this.next = p + BigInt(Math.max(words.length, 0)) * 8n;
    return p;
  }

  string(text: string | Buffer): bigint {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    const wosize = Math.floor(bytes.length / 8) + 1;
    const buf = Buffer.alloc(wosize * 8);
    bytes.copy(buf);
    buf[wosize * 8 - 1] = wosize * 8 - 1 - bytes.length;
    const words = Array.from({ length: wosize }, (_, i) => buf.readBigUInt64LE(i * 8));
    return this.block(252, words);
  }

  float(x: number): bigint {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return this.block(253, [b.readBigUInt64LE(0)]);
  }

  floatArray(xs: number[]): bigint {
    const b = Buffer.alloc(8);
    return this.block(254, xs.map((x) => (b.writeDoubleLE(x), b.readBigUInt64LE(0))));
  }

  list(items: bigint[]): bigint {
    let tail = int(0);
    // Cells are allocated last-first, so the list's head is the last block built.
    for (let i = items.length - 1; i >= 0; i--) tail = this.block(0, [items[i], tail]);
    return tail;
  }

  exnConstructor(name: string, id: number): bigint {
    return this.block(248, [this.string(name), int(id)]);
  }

  exn(constructor: bigint, ...args: bigint[]): bigint {
    return this.block(0, [constructor, ...args]);
  }

  /** A 4.12+ closure: code, closinfo (arity, start of env), [direct code], env. */
  closure(code: bigint, arity: number, env: bigint[] = [], direct?: bigint): bigint {
    const fields = direct !== undefined ? [code, 0n, direct, ...env] : [code, 0n, ...env];
    fields[1] = closinfo(arity, direct !== undefined ? 3 : 2);
    return this.block(247, fields);
  }
}

export function closinfo(arity: number, startEnv: number): bigint {
  return BigInt.asUintN(64, (BigInt.asUintN(8, BigInt(arity)) << 56n) | (BigInt(startEnv) << 1n) | 1n);
}
