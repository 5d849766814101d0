// Just enough of ELF to tell what a symbolizer can get out of an image: is it
// an ELF at all, and does it carry DWARF or at least a symbol table. Reads the
// section headers only, never the whole (possibly large) file.
import { open } from 'node:fs/promises';

export interface ElfInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  machine: number;
  sections: string[];
  /** DWARF line/function information is present (.debug_info with contents). */
  hasDebugInfo: boolean;
  /** A full symbol table (.symtab) is present, so at least function names can be found. */
  hasSymbols: boolean;
  /** Only exported functions are named (.dynsym). */
  hasDynamicSymbols: boolean;
  /** The image names a separate debug file (.gnu_debuglink). */
  hasDebugLink: boolean;
  /** Address ranges of executable loadable segments, [start, end). Empty when the image has no program headers. */
  code: Array<{ start: bigint; end: bigint }>;
}

export class ElfError extends Error {}

const SHT_NOBITS = 8;
const MAX_SECTIONS = 65535;

export async function readElfInfo(path: string): Promise<ElfInfo> {
  const file = await open(path, 'r');
  try {
    const ident = Buffer.alloc(64);
    const { bytesRead } = await file.read(ident, 0, 64, 0);
    if (bytesRead < 52 || ident.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(`${path} is not an ELF file`);
    const bits = ident[4] === 2 ? 64 : ident[4] === 1 ? 32 : 0;
    const le = ident[5] === 1;
    if (bits === 0 || (ident[5] !== 1 && ident[5] !== 2)) throw new ElfError(`${path} is not a valid ELF file`);
    const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const word = (b: Buffer, o: number): number =>
      bits === 64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o);

    const machine = u16(ident, 18);
    const code = await readCodeRanges(file, ident, bits, le);
    const shoff = word(ident, bits === 64 ? 0x28 : 0x20);
    const shentsize = u16(ident, bits === 64 ? 0x3a : 0x2e);
    let shnum = u16(ident, bits === 64 ? 0x3c : 0x30);
    let shstrndx = u16(ident, bits === 64 ? 0x3e : 0x32);
    const minEntry = bits === 64 ? 64 : 40;
    if (shoff === 0 || shentsize < minEntry) {
      return { bits, littleEndian: le, machine, sections: [], hasDebugInfo: false, hasSymbols: false, hasDynamicSymbols: false, hasDebugLink: false, code };
    }
    const readAt = async (offset: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const r = await file.read(buf, 0, length, offset);
      if (r.bytesRead < length) throw new ElfError(`${path} is truncated (section headers run past the end)`);
      return buf;
    };
    // Extended numbering: the real counts live in section 0.
    if (shnum === 0 || shstrndx === 0xffff) {
      const first = await readAt(shoff, shentsize);
      if (shnum === 0) shnum = word(first, bits === 64 ? 32 : 20);
      if (shstrndx === 0xffff) shstrndx = u32(first, bits === 64 ? 40 : 24);
    }
    if (shnum > MAX_SECTIONS || shstrndx >= shnum) throw new ElfError(`${path} has a corrupt section table`);
    const table = await readAt(shoff, shnum * shentsize);
    const header = (i: number) => {
      const o = i * shentsize;
      return {
        name: u32(table, o),
        type: u32(table, o + 4),
        offset: word(table, bits === 64 ? o + 24 : o + 16),
        size: word(table, bits === 64 ? o + 32 : o + 20),
      };
    };
    const strtab = header(shstrndx);
    const names = await readAt(strtab.offset, Math.min(strtab.size, 1 << 20));
    const sections: string[] = [];
    let hasDebugInfo = false;
    let hasSymbols = false;
    let hasDynamicSymbols = false;
    let hasDebugLink = false;
    for (let i = 0; i < shnum; i++) {
      const h = header(i);
      const end = names.indexOf(0, h.name);
      const name = h.name < names.length ? names.toString('latin1', h.name, end < 0 ? names.length : end) : '';
      sections.push(name);
      const withContents = h.type !== SHT_NOBITS && h.size > 0;
      if ((name === '.debug_info' || name === '.zdebug_info') && withContents) hasDebugInfo = true;
      if (name === '.symtab' && withContents) hasSymbols = true;
      if (name === '.dynsym' && withContents) hasDynamicSymbols = true;
      if (name === '.gnu_debuglink') hasDebugLink = true;
    }
    return { bits, littleEndian: le, machine, sections, hasDebugInfo, hasSymbols, hasDynamicSymbols, hasDebugLink, code };
  } finally {
    await file.close();
  }
}

const PT_LOAD = 1;
const PF_X = 1;

type FileHandle = Awaited<ReturnType<typeof open>>;

/** Executable PT_LOAD segments: where a program counter or return address can point. */
async function readCodeRanges(file: FileHandle, ident: Buffer, bits: 32 | 64, le: boolean): Promise<Array<{ start: bigint; end: bigint }>> {
  const u16 = (o: number): number => (le ? ident.readUInt16LE(o) : ident.readUInt16BE(o));
  const phoff = bits === 64 ? (le ? ident.readBigUInt64LE(0x20) : ident.readBigUInt64BE(0x20)) : BigInt(le ? ident.readUInt32LE(0x1c) : ident.readUInt32BE(0x1c));
  const phentsize = u16(bits === 64 ? 0x36 : 0x2a);
  const phnum = u16(bits === 64 ? 0x38 : 0x2c);
  if (phoff === 0n || phnum === 0 || phnum === 0xffff || phentsize < (bits === 64 ? 56 : 32)) return [];
  const table = Buffer.alloc(phnum * phentsize);
  const { bytesRead } = await file.read(table, 0, table.length, Number(phoff));
  if (bytesRead < table.length) return [];
  const ranges: Array<{ start: bigint; end: bigint }> = [];
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const u32 = (at: number): number => (le ? table.readUInt32LE(at) : table.readUInt32BE(at));
    const u64 = (at: number): bigint => (le ? table.readBigUInt64LE(at) : table.readBigUInt64BE(at));
    const type = u32(o);
    const flags = bits === 64 ? u32(o + 4) : u32(o + 24);
    const vaddr = bits === 64 ? u64(o + 16) : BigInt(u32(o + 8));
    const memsz = bits === 64 ? u64(o + 40) : BigInt(u32(o + 20));
    if (type === PT_LOAD && flags & PF_X && memsz > 0n) ranges.push({ start: vaddr, end: vaddr + memsz });
  }
  return ranges;
}
