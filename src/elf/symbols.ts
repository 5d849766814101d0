/**
 * Symbol table entries (`.symtab`), each read with its own name. Linkers share string-table
 * suffixes (`main` may start inside `ukboot_main`), so a name is only ever found through the entry
 * that points at it, never by searching the string table.
 */

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STT_*: 1 object, 2 function, … */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
  /** The section it is defined in; 0 (SHN_UNDEF) when another object was to define it. */
  shndx: number;
}

export interface SymbolTableLayout {
  bits: 32 | 64;
  littleEndian: boolean;
}

/** Calls `fn` with each entry's name and fields, without building a list (tables can be large). */
export function forEachSymbol(symtab: Buffer, strtab: Buffer, layout: SymbolTableLayout, fn: (symbol: ElfSymbol) => void): void {
  const le = layout.littleEndian;
  const u16 = (o: number): number => (le ? symtab.readUInt16LE(o) : symtab.readUInt16BE(o));
  const u32 = (o: number): number => (le ? symtab.readUInt32LE(o) : symtab.readUInt32BE(o));
  const u64 = (o: number): bigint => (le ? symtab.readBigUInt64LE(o) : symtab.readBigUInt64BE(o));
  const entSize = layout.bits === 64 ? 24 : 16;
  for (let off = 0; off + entSize <= symtab.length; off += entSize) {
    const start = u32(off);
    const end = start < strtab.length ? strtab.indexOf(0, start) : -1;
    const name = start < strtab.length ? strtab.toString('latin1', start, end < 0 ? strtab.length : end) : '';
    const info = layout.bits === 64 ? symtab[off + 4]! : symtab[off + 12]!;
    fn({
      name,
      value: layout.bits === 64 ? u64(off + 8) : BigInt(u32(off + 4)),
      size: layout.bits === 64 ? u64(off + 16) : BigInt(u32(off + 8)),
      type: info & 0xf,
      bind: info >> 4,
      shndx: u16(layout.bits === 64 ? off + 6 : off + 14),
    });
  }
}

export function parseSymbols(symtab: Buffer, strtab: Buffer, layout: SymbolTableLayout): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  forEachSymbol(symtab, strtab, layout, (s) => out.push(s));
  return out;
}
