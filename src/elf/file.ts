/**
 * The one place that reads ELF headers: the file header, the section table (with names) and the
 * program header table, of 32- and 64-bit files in either byte order. Section and segment contents
 * are read on demand, so a large image costs a few small reads.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Why a file cannot be read as ELF; `message` is a generic sentence, callers may say it their way. */
export type ElfProblem = 'missing' | 'directory' | 'unreadable' | 'empty' | 'not-elf' | 'invalid' | 'truncated' | 'damaged';

export class ElfError extends Error {
  constructor(
    readonly problem: ElfProblem,
    message: string,
    /** The file system's error code, for `unreadable`. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ElfError';
  }
}

export interface ElfHeader {
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_machine: 3 is x86, 62 is x86-64. */
  machine: number;
  entry: bigint;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  addr: bigint;
  offset: number;
  size: number;
  /** sh_link: for a symbol table, the index of its string table. */
  link: number;
  /** sh_flags: SHF_ALLOC (2) in memory, SHF_EXECINSTR (4) code. */
  flags: number;
  /** The contents lie inside the file (a truncated file loses its last sections' contents). */
  inFile: boolean;
}

export interface ElfSegment {
  type: number;
  flags: number;
  vaddr: bigint;
  memsz: bigint;
}

export const SHT_SYMTAB = 2;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const PT_LOAD = 1;
export const PF_X = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;

const MAGIC = 0x7f454c46;
/** More sections than the format can number is a damaged table, not a file to trust. */
const MAX_SECTIONS = 65535;
/** A section name table larger than this is damage, not names. */
const MAX_NAMES = 16 << 20;

/** Whether the file starts with the ELF magic (a cheap test before reading it as ELF). */
export async function isElfFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32BE(0) === MAGIC;
  } finally {
    await fh.close();
  }
}

export class ElfFile {
  private sectionList: Promise<ElfSection[]> | undefined;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly size: number,
    readonly header: ElfHeader,
    private readonly ident: Buffer,
  ) {}

  /** Opens and checks the file header; rejects with an ElfError saying what is wrong. */
  static async open(path: string): Promise<ElfFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ElfError('missing', `${path} does not exist`, code);
      if (code === 'EISDIR') throw new ElfError('directory', `${path} is a directory, not an ELF file`, code);
      throw new ElfError('unreadable', `${path} cannot be read (${code ?? String(e)})`, code);
    }
    try {
      const stat = await fh.stat();
      if (stat.isDirectory()) throw new ElfError('directory', `${path} is a directory, not an ELF file`, 'EISDIR');
      const size = stat.size;
      if (size === 0) throw new ElfError('empty', `${path} is empty`);
      const ident = Buffer.alloc(Math.min(size, 64));
      await fh.read(ident, 0, ident.length, 0);
      if (ident.length < 52 || ident.readUInt32BE(0) !== MAGIC) throw new ElfError('not-elf', `${path} is not an ELF file`);
      const bits = ident[4] === 2 ? 64 : ident[4] === 1 ? 32 : undefined;
      if (!bits || (ident[5] !== 1 && ident[5] !== 2)) throw new ElfError('invalid', `${path} is not a valid ELF file`);
      if (bits === 64 && ident.length < 64) throw new ElfError('truncated', `${path} is truncated`);
      const littleEndian = ident[5] === 1;
      const header: ElfHeader = {
        bits,
        littleEndian,
        machine: littleEndian ? ident.readUInt16LE(18) : ident.readUInt16BE(18),
        entry: bits === 64 ? (littleEndian ? ident.readBigUInt64LE(24) : ident.readBigUInt64BE(24)) : BigInt(littleEndian ? ident.readUInt32LE(24) : ident.readUInt32BE(24)),
      };
      return new ElfFile(path, fh, size, header, ident);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  /** Up to `size` bytes at `offset` (fewer at the end of the file). */
  async read(offset: number, size: number): Promise<Buffer> {
    const buf = Buffer.alloc(Math.max(0, Math.min(size, this.size - offset)));
    if (buf.length > 0) await this.fh.read(buf, 0, buf.length, offset);
    return buf;
  }

  /** A section's contents; empty when they are not in the file. */
  contents(section: ElfSection): Promise<Buffer> {
    return section.inFile && section.type !== SHT_NOBITS ? this.read(section.offset, section.size) : Promise.resolve(Buffer.alloc(0));
  }

  /**
   * The section table with names. A file without one has no sections; a table outside the file,
   * or a name table index past it, is damage (ElfError `damaged`).
   */
  sections(): Promise<ElfSection[]> {
    this.sectionList ??= this.readSections();
    return this.sectionList;
  }

  /** The program headers; empty when the file has none or they cannot be read. */
  async segments(): Promise<ElfSegment[]> {
    const { bits } = this.header;
    const phoff = this.word(this.ident, bits === 64 ? 0x20 : 0x1c);
    const phentsize = this.u16(this.ident, bits === 64 ? 0x36 : 0x2a);
    const phnum = this.u16(this.ident, bits === 64 ? 0x38 : 0x2c);
    // 0xffff (PN_XNUM) keeps the real count elsewhere; executables never need it.
    if (phoff === 0 || phnum === 0 || phnum === 0xffff || phentsize < (bits === 64 ? 56 : 32)) return [];
    const table = await this.read(phoff, phnum * phentsize);
    if (table.length < phnum * phentsize) return [];
    return Array.from({ length: phnum }, (_, i) => {
      const o = i * phentsize;
      return {
        type: this.u32(table, o),
        flags: this.u32(table, bits === 64 ? o + 4 : o + 24),
        vaddr: bits === 64 ? this.u64(table, o + 16) : BigInt(this.u32(table, o + 8)),
        memsz: bits === 64 ? this.u64(table, o + 40) : BigInt(this.u32(table, o + 20)),
      };
    });
  }

  private async readSections(): Promise<ElfSection[]> {
    const { bits } = this.header;
    const shoff = this.word(this.ident, bits === 64 ? 0x28 : 0x20);
    const shentsize = this.u16(this.ident, bits === 64 ? 0x3a : 0x2e);
    let shnum = this.u16(this.ident, bits === 64 ? 0x3c : 0x30);
    let shstrndx = this.u16(this.ident, bits === 64 ? 0x3e : 0x32);
    if (shoff === 0 || shentsize < (bits === 64 ? 64 : 40)) return [];
    const damaged = (): ElfError => new ElfError('damaged', `${this.path} is truncated or damaged (its section table is outside the file)`);
    if (shoff + shentsize > this.size) throw damaged();
    // Extended numbering: the real counts live in section 0.
    if (shnum === 0 || shstrndx === 0xffff) {
      const first = await this.read(shoff, shentsize);
      if (shnum === 0) shnum = this.word(first, bits === 64 ? 32 : 20);
      if (shstrndx === 0xffff) shstrndx = this.u32(first, bits === 64 ? 40 : 24);
    }
    if (shnum === 0) return [];
    if (shnum > MAX_SECTIONS || shstrndx >= shnum || shoff + shentsize * shnum > this.size) throw damaged();
    const table = await this.read(shoff, shentsize * shnum);
    const raw = Array.from({ length: shnum }, (_, i) => {
      const o = i * shentsize;
      return {
        nameOff: this.u32(table, o),
        type: this.u32(table, o + 4),
        flags: bits === 64 ? Number(this.u64(table, o + 8) & 0xffffffffn) : this.u32(table, o + 8),
        addr: bits === 64 ? this.u64(table, o + 16) : BigInt(this.u32(table, o + 12)),
        offset: this.word(table, bits === 64 ? o + 24 : o + 16),
        size: this.word(table, bits === 64 ? o + 32 : o + 20),
        link: this.u32(table, bits === 64 ? o + 40 : o + 24),
      };
    });
    const strs = raw[shstrndx]!;
    if (strs.offset + strs.size > this.size || strs.size > MAX_NAMES) throw damaged();
    const names = await this.read(strs.offset, strs.size);
    return raw.map((r, index) => {
      const end = names.indexOf(0, r.nameOff);
      const name = r.nameOff < names.length ? names.toString('latin1', r.nameOff, end < 0 ? names.length : end) : '';
      const inFile = r.type === SHT_NOBITS || r.size === 0 || r.offset + r.size <= this.size;
      return { index, name, type: r.type, flags: r.flags, addr: r.addr, offset: r.offset, size: r.size, link: r.link, inFile };
    });
  }

  private u16(b: Buffer, o: number): number {
    return this.header.littleEndian ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  private u32(b: Buffer, o: number): number {
    return this.header.littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }

  private u64(b: Buffer, o: number): bigint {
    return this.header.littleEndian ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
  }

  /** An address-sized field as a file offset or size (files are far below 2^53 bytes). */
  private word(b: Buffer, o: number): number {
    return this.header.bits === 64 ? Number(this.u64(b, o)) : this.u32(b, o);
  }
}
