/**
 * An image's code as its file holds it: the bytes of its executable sections, and the addresses
 * its symbols name there (functions, assembly labels). A function's first byte is a known instruction boundary, from which
 * x86's variable-length instructions can be decoded in one linear sweep (the way gdb and objdump
 * disassemble), without asking the target for anything.
 */
import { ElfFile, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, SHT_SYMTAB } from './file';
import { forEachSymbol } from './symbols';

/** Executable sections larger than this in total are left to the target to read. */
const MAX_CODE = 256 << 20;
const STT_FUNC = 2;

interface CodeSection {
  start: bigint;
  end: bigint;
  bytes: Buffer;
}

export class ImageCode {
  private constructor(
    readonly bits: 32 | 64,
    private readonly sections: CodeSection[],
    /** Function starts, ascending. */
    private readonly starts: bigint[],
  ) {}

  /** Reads the executable sections and function symbols of the ELF at `path`. */
  static async read(path: string): Promise<ImageCode> {
    const file = await ElfFile.open(path);
    try {
      const all = await file.sections();
      const code = all.filter((s) => s.flags & SHF_EXECINSTR && s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && s.inFile && s.size > 0);
      if (code.reduce((n, s) => n + s.size, 0) > MAX_CODE) return new ImageCode(file.header.bits, [], []);
      const sections = await Promise.all(code.map(async (s) => ({ start: s.addr, end: s.addr + BigInt(s.size), bytes: await file.contents(s) })));
      sections.sort((a, b) => (a.start < b.start ? -1 : 1));
      const starts: bigint[] = [];
      const symtab = all.find((s) => s.type === SHT_SYMTAB && s.inFile);
      const strtab = symtab ? all[symtab.link] : undefined;
      if (symtab && strtab && symtab.size <= MAX_CODE && strtab.size <= MAX_CODE) {
        const [syms, strs] = await Promise.all([file.contents(symtab), file.contents(strtab)]);
        // Every symbol in the code, as objdump restarts at each: functions, and labels or data of assembly.
        forEachSymbol(syms, strs, file.header, (sym) => {
          if (sym.type <= STT_FUNC && sym.shndx !== 0 && sym.value !== 0n && sections.some((c) => sym.value >= c.start && sym.value < c.end)) starts.push(sym.value);
        });
      }
      starts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return new ImageCode(file.header.bits, sections, starts.filter((a, i) => i === 0 || a !== starts[i - 1]));
    } finally {
      await file.close();
    }
  }

  /** The section's bytes from `address` on (to the section's end), or undefined outside the code. */
  bytesFrom(address: bigint): Buffer | undefined {
    const s = this.section(address);
    return s?.bytes.subarray(Number(address - s.start));
  }

  /** The bytes of [from, to) when both lie in one code section. */
  bytes(from: bigint, to: bigint): Buffer | undefined {
    const s = this.section(from);
    return s && to <= s.end && to >= from ? s.bytes.subarray(Number(from - s.start), Number(to - s.start)) : undefined;
  }

  /**
   * The nearest known instruction boundary before `address` (a function's start, or its section's
   * start), in the same section; undefined outside the code or before any boundary.
   */
  boundaryBefore(address: bigint): bigint | undefined {
    const s = this.section(address);
    if (!s || address <= s.start) return undefined;
    let lo = 0;
    let hi = this.starts.length - 1;
    let found: bigint | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! < address) {
        found = this.starts[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found !== undefined && found >= s.start ? found : s.start;
  }

  private section(address: bigint): CodeSection | undefined {
    return this.sections.find((s) => address >= s.start && address < s.end);
  }
}
