/**
 * Reading ELF files: what an image is (class, machine, entry), what it carries (debug info, symbol
 * tables, notes, build id) and where its code lives. The QEMU side decides from this how an image
 * boots, the crash side how far it can be symbolized.
 */
import { ElfFile, PF_X, PT_LOAD, SHT_NOBITS, SHT_NOTE, SHT_SYMTAB } from './file';
import { buildId, parseNotes, pvhEntry } from './notes';
import { forEachSymbol, type ElfSymbol } from './symbols';

export { ElfError, ElfFile, isElfFile, type ElfHeader, type ElfProblem, type ElfSection, type ElfSegment } from './file';
export { parseNotes, type ElfNote } from './notes';
export { parseSymbols, type ElfSymbol } from './symbols';

export interface CodeRange {
  start: bigint;
  end: bigint;
}

export interface ElfInfo {
  path: string;
  bits: 32 | 64;
  littleEndian: boolean;
  machine: 'x86' | 'x86_64' | 'other';
  entry: bigint;
  sectionNames: string[];
  /** DWARF is present (.debug_info, or the compressed .zdebug_info, with contents). */
  hasDebugInfo: boolean;
  /** A full symbol table (.symtab) is present, so at least function names can be found. */
  hasSymbols: boolean;
  /** Only exported functions are named (.dynsym). */
  hasDynamicSymbols: boolean;
  /** The image names a separate debug file (.gnu_debuglink). */
  hasDebugLink: boolean;
  /** Executable loadable segments, [start, end): where a pc or return address can point. Empty without program headers. */
  code: CodeRange[];
  /** The 32-bit entry of a PVH boot note, if the image has one. */
  pvhEntry?: number;
  /** The GNU build id (hex), if the linker wrote one. */
  buildId?: string;
}

/** Notes larger than this are not notes worth reading. */
const MAX_NOTES = 1 << 20;
/** Symbol tables larger than this are left unread. */
const MAX_SYMTAB = 256 << 20;

const MACHINES: Record<number, ElfInfo['machine']> = { 3: 'x86', 62: 'x86_64' };

export async function readElfInfo(path: string): Promise<ElfInfo> {
  const file = await ElfFile.open(path);
  try {
    return await describe(file);
  } finally {
    await file.close();
  }
}

/** The facts of an open file. */
export async function describe(file: ElfFile): Promise<ElfInfo> {
  const { header } = file;
  const [sections, segments] = await Promise.all([file.sections(), file.segments()]);
  const present = (names: string[]): boolean => sections.some((s) => names.includes(s.name) && s.inFile && s.size > 0 && s.type !== SHT_NOBITS);
  let notePvh: number | undefined;
  let noteBuildId: string | undefined;
  for (const s of sections.filter((x) => x.type === SHT_NOTE && x.inFile && x.size < MAX_NOTES)) {
    const notes = parseNotes(await file.contents(s), header.littleEndian);
    notePvh ??= pvhEntry(notes, header.littleEndian);
    noteBuildId ??= buildId(notes);
  }
  return {
    path: file.path,
    bits: header.bits,
    littleEndian: header.littleEndian,
    machine: MACHINES[header.machine] ?? 'other',
    entry: header.entry,
    sectionNames: sections.map((s) => s.name),
    hasDebugInfo: present(['.debug_info', '.zdebug_info']),
    hasSymbols: sections.some((s) => s.type === SHT_SYMTAB && s.inFile && s.size > 0),
    hasDynamicSymbols: present(['.dynsym']),
    hasDebugLink: sections.some((s) => s.name === '.gnu_debuglink'),
    code: segments.filter((p) => p.type === PT_LOAD && p.flags & PF_X && p.memsz > 0n).map((p) => ({ start: p.vaddr, end: p.vaddr + p.memsz })),
    pvhEntry: notePvh,
    buildId: noteBuildId,
  };
}

/** Calls `fn` for each entry of the file's `.symtab` (none when it has no readable one). */
async function eachSymbol(path: string, fn: (symbol: ElfSymbol) => void): Promise<void> {
  const file = await ElfFile.open(path);
  try {
    const sections = await file.sections();
    const symtab = sections.find((s) => s.type === SHT_SYMTAB);
    const strtab = symtab ? sections[symtab.link] : undefined;
    if (!symtab || !strtab || symtab.size > MAX_SYMTAB || strtab.size > MAX_SYMTAB) return;
    const [syms, strs] = await Promise.all([file.contents(symtab), file.contents(strtab)]);
    forEachSymbol(syms, strs, file.header, fn);
  } finally {
    await file.close();
  }
}

/** Every `.symtab` entry. */
export async function readSymbols(path: string): Promise<ElfSymbol[]> {
  const out: ElfSymbol[] = [];
  await eachSymbol(path, (s) => out.push(s));
  return out;
}

/**
 * Which of `names` the symbol table defines (undefined entries name what another object should
 * have provided: not present). Functions only DWARF knows (a renamed `main`) are gdb's to find.
 */
export async function findSymbols(path: string, names: readonly string[]): Promise<Set<string>> {
  const wanted = new Set(names);
  const found = new Set<string>();
  await eachSymbol(path, (s) => {
    if (s.shndx !== 0 && wanted.has(s.name)) found.add(s.name);
  });
  return found;
}
export { ImageCode } from './code';
