/**
 * The OCaml value representation (4.x and 5.x, 64-bit), read through an abstract memory.
 * A value is a word: odd = an immediate integer (2n+1), even = a pointer to the first
 * field of a block whose header is the word before it:
 *   bits 0-7 tag, bits 8-9 colour (GC), bits 10-63 wosize (fields, in words).
 * Nothing here trusts memory: every pointer is checked (alignment, the caller's address
 * predicate, readability, a size that stays inside valid memory) before it is followed.
 */

/** What the decoder needs from a debugger. Words are little-endian, 64-bit. */
export interface OcamlMemory {
  /** The 8-byte word at addr, or undefined when it cannot be read. */
  readWord(addr: bigint): Promise<bigint | undefined>;
  readBytes(addr: bigint, length: number): Promise<Buffer | undefined>;
  /** The function or data symbol containing addr (a trailing ` + N` is ignored). */
  symbolAt?(addr: bigint): Promise<string | undefined>;
}

export type AddressCheck = (addr: bigint) => boolean;

export interface AddressRange {
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

/** A predicate for `isValidAddress` from ranges (the image's data and bss, the heap). */
export function rangePredicate(ranges: readonly AddressRange[]): AddressCheck {
  return (addr) => ranges.some((r) => addr >= r.start && addr < r.end);
}

/** Default when the caller knows no ranges: anything but the first page and non-canonical addresses. */
export const anyPlausibleAddress: AddressCheck = (addr) => addr >= 0x1000n && addr < 0x0000_8000_0000_0000n;

export const Tag = {
  /** 5.x only: a continuation (effects). */
  Cont: 245,
  Lazy: 246,
  Closure: 247,
  Object: 248,
  Infix: 249,
  Forward: 250,
  Abstract: 251,
  String: 252,
  Double: 253,
  DoubleArray: 254,
  Custom: 255,
} as const;

export interface BlockHeader {
  wosize: number;
  /** 0-3; meaning differs between 4.x (white/gray/blue/black) and 5.x. */
  colour: number;
  tag: number;
  raw: bigint;
}

const MASK64 = (1n << 64n) - 1n;

export function decodeHeader(word: bigint): BlockHeader {
  const w = word & MASK64;
  const wosize = w >> 10n;
  return {
    // Garbage headers can be huge; clamp so arithmetic stays exact (they fail the size check anyway).
    wosize: wosize > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wosize),
    colour: Number((w >> 8n) & 3n),
    tag: Number(w & 0xffn),
    raw: w,
  };
}

export function isImmediate(word: bigint): boolean {
  return (word & 1n) === 1n;
}

/** The integer an immediate holds (signed: `0xffff…fb` is -3). */
export function untag(word: bigint): bigint {
  return BigInt.asIntN(64, word & MASK64) >> 1n;
}

/** The immediate for an integer. */
export function tagInt(n: bigint | number): bigint {
  return BigInt.asUintN(64, (BigInt(n) << 1n) | 1n);
}

export type BlockProblem = 'null' | 'unaligned' | 'outside valid memory' | 'unreadable' | 'malformed';

export type BlockRead =
  | { ok: true; pointer: bigint; header: BlockHeader }
  | { ok: false; pointer: bigint; problem: BlockProblem; detail?: string; header?: BlockHeader };

/** Validates a pointer and reads its header; never reads outside what `isValid` allows. */
export async function readBlock(mem: OcamlMemory, word: bigint, isValid: AddressCheck): Promise<BlockRead> {
  const pointer = word & MASK64;
  if (pointer === 0n) return { ok: false, pointer, problem: 'null' };
  if (pointer % 8n !== 0n) return { ok: false, pointer, problem: 'unaligned' };
  if (!isValid(pointer - 8n) || !isValid(pointer)) return { ok: false, pointer, problem: 'outside valid memory' };
  const raw = await mem.readWord(pointer - 8n);
  if (raw === undefined) return { ok: false, pointer, problem: 'unreadable' };
  const header = decodeHeader(raw);
  const bad = sizeProblem(header);
  if (bad) return { ok: false, pointer, problem: 'malformed', detail: bad, header };
  // Infix headers hold an offset, not a size (their fields belong to the enclosing closure).
  if (header.tag !== Tag.Infix && header.wosize > 0 && !isValid(pointer + BigInt(header.wosize) * 8n - 1n)) {
    return { ok: false, pointer, problem: 'malformed', detail: `${header.wosize} words run past valid memory`, header };
  }
  return { ok: true, pointer, header };
}

function sizeProblem(h: BlockHeader): string | undefined {
  switch (h.tag) {
    case Tag.String:
      return h.wosize === 0 ? 'a string of 0 words' : undefined;
    case Tag.Double:
      return h.wosize !== 1 ? `a float of ${h.wosize} words` : undefined;
    case Tag.Closure:
      return h.wosize < 2 ? `a closure of ${h.wosize} words` : undefined;
    case Tag.Object:
      return h.wosize < 2 ? `an object of ${h.wosize} words` : undefined;
    case Tag.Custom:
      return h.wosize < 1 ? 'a custom block without operations' : undefined;
    case Tag.Forward:
    case Tag.Lazy:
      return h.wosize < 1 ? `a lazy value of ${h.wosize} words` : undefined;
    case Tag.Infix:
      return h.wosize < 2 ? `an infix offset of ${h.wosize} words` : undefined;
    default:
      return undefined;
  }
}

/** Field i of the block at pointer (no checks beyond the read). */
export function readField(mem: OcamlMemory, pointer: bigint, i: number): Promise<bigint | undefined> {
  return mem.readWord(pointer + BigInt(i) * 8n);
}

export interface OcamlString {
  bytes: Buffer;
  /** The string's real length (may exceed bytes.length when truncated). */
  length: number;
  truncated: boolean;
}

/**
 * The bytes of a String_tag block: its length is wosize*8 - 1 - (its last byte), the
 * padding scheme that keeps a NUL after the text. Reads at most maxBytes of text.
 */
export async function readStringBlock(mem: OcamlMemory, pointer: bigint, header: BlockHeader, maxBytes: number): Promise<OcamlString | undefined> {
  const total = header.wosize * 8;
  const last = await mem.readBytes(pointer + BigInt(total - 1), 1);
  if (!last || last.length < 1 || last[0] > 7) return undefined;
  const length = total - 1 - last[0];
  const want = Math.min(length, Math.max(0, maxBytes));
  const bytes = want === 0 ? Buffer.alloc(0) : await mem.readBytes(pointer, want);
  if (!bytes || bytes.length < want) return undefined;
  return { bytes: bytes.subarray(0, want), length, truncated: want < length };
}

/** A String_tag value as JS text (latin1, byte for byte), or undefined when it is not one. */
export async function readOcamlString(mem: OcamlMemory, word: bigint, isValid: AddressCheck, maxBytes = 4096): Promise<OcamlString | undefined> {
  if (isImmediate(word)) return undefined;
  const block = await readBlock(mem, word, isValid);
  if (!block.ok || block.header.tag !== Tag.String) return undefined;
  return readStringBlock(mem, block.pointer, block.header, maxBytes);
}

export async function readDouble(mem: OcamlMemory, addr: bigint): Promise<number | undefined> {
  const b = await mem.readBytes(addr, 8);
  return b && b.length >= 8 ? b.readDoubleLE(0) : undefined;
}

/** A NUL-terminated C string of at most max bytes (custom operations' identifiers). */
export async function readCString(mem: OcamlMemory, addr: bigint, max = 64): Promise<string | undefined> {
  // In small steps: a long read could run off the end of mapped memory after a short name.
  const parts: Buffer[] = [];
  for (let off = 0; off < max; off += 8) {
    const b = await mem.readBytes(addr + BigInt(off), 8);
    if (!b) return undefined;
    const end = b.indexOf(0);
    if (end >= 0) return Buffer.concat([...parts, b.subarray(0, end)]).toString('latin1');
    parts.push(b);
  }
  return undefined;
}

/** `symbolAt` without a trailing `+ offset`, or undefined. */
export async function symbolName(mem: OcamlMemory, addr: bigint): Promise<string | undefined> {
  if (!mem.symbolAt) return undefined;
  const s = await mem.symbolAt(addr);
  const name = s?.replace(/\s*\+\s*(?:0x)?[0-9a-f]+$/i, '').trim();
  return name ? name : undefined;
}

export const hex = (n: bigint): string => `0x${(n & MASK64).toString(16)}`;
