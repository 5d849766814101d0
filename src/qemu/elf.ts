/**
 * Just enough ELF reading to refuse bad images with a clear sentence before QEMU or gdb see them,
 * and to know how an image boots (multiboot header, PVH note, class, entry point) and which
 * platform built it (tell-tale symbols).
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface ElfInfo {
  path: string;
  bits: 32 | 64;
  machine: 'x86' | 'x86_64' | 'other';
  entry: bigint;
  /** Offset of a multiboot v1 header in the first 8 KiB, if any. */
  multibootOffset?: number;
  /** Multiboot flags (bit 16 = a.out kludge: load addresses given in the header). */
  multibootFlags?: number;
  /** The 32-bit entry of a PVH boot note (XEN_ELFNOTE_PHYS32_ENTRY), if the image has one. */
  pvhEntry?: number;
  /** The GNU build id (hex), if the linker wrote one. */
  buildId?: string;
  hasDebugInfo: boolean;
  /** A symbol table is present (a stripped image has none). */
  hasSymbols: boolean;
  sectionNames: string[];
}

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

interface Section {
  name: string;
  type: number;
  offset: number;
  size: number;
  /** sh_link: for a symbol table, the index of its string table. */
  link: number;
}

const MULTIBOOT_MAGIC = 0x1badb002;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const NT_GNU_BUILD_ID = 3;

async function openImage(path: string, role: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`The ${role} ${path} does not exist; build it first or fix the path in launch.json.`);
    if (code === 'EISDIR') throw new ImageError(`The ${role} ${path} is a directory, not an ELF file.`);
    throw new ImageError(`The ${role} ${path} cannot be read (${code ?? String(e)}).`);
  }
}

async function readAt(fh: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buf = Buffer.alloc(size);
  await fh.read(buf, 0, size, offset);
  return buf;
}

export async function readElfInfo(path: string, role = 'image'): Promise<ElfInfo> {
  const fh = await openImage(path, role);
  try {
    const { size } = await fh.stat();
    if (size === 0) throw new ImageError(`The ${role} ${path} is empty; rebuild it.`);
    const head = await readAt(fh, 0, Math.min(size, 8192 + 64));
    if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) {
      throw new ImageError(`The ${role} ${path} is not an ELF file.`);
    }
    const bits = head[4] === 2 ? 64 : head[4] === 1 ? 32 : undefined;
    if (!bits || head[5] !== 1) throw new ImageError(`The ${role} ${path} is not a little-endian 32- or 64-bit ELF file.`);
    if (bits === 64 && head.length < 64) throw new ImageError(`The ${role} ${path} is truncated.`);
    const em = head.readUInt16LE(18);
    const machine = em === 62 ? 'x86_64' : em === 3 ? 'x86' : 'other';
    const entry = bits === 64 ? head.readBigUInt64LE(24) : BigInt(head.readUInt32LE(24));

    let multibootOffset: number | undefined;
    let multibootFlags: number | undefined;
    for (let off = 0; off + 12 <= Math.min(head.length, 8192); off += 4) {
      if (head.readUInt32LE(off) !== MULTIBOOT_MAGIC) continue;
      const flags = head.readUInt32LE(off + 4);
      if (((MULTIBOOT_MAGIC + flags + head.readUInt32LE(off + 8)) >>> 0) === 0) {
        multibootOffset = off;
        multibootFlags = flags;
        break;
      }
    }

    const sections = await readSections(fh, head, bits, size);
    if (sections === undefined) throw new ImageError(`The ${role} ${path} is truncated or damaged (its section table is outside the file).`);
    let pvhEntry: number | undefined;
    let buildId: string | undefined;
    for (const s of sections.filter((x) => x.type === SHT_NOTE && x.size < 1 << 20)) {
      const notes = readNotes(await readAt(fh, s.offset, s.size));
      pvhEntry ??= notes.pvhEntry;
      buildId ??= notes.buildId;
    }
    return {
      path,
      bits,
      machine,
      entry,
      multibootOffset,
      multibootFlags,
      pvhEntry,
      buildId,
      hasDebugInfo: sections.some((s) => s.name === '.debug_info' && s.size > 0),
      hasSymbols: sections.some((s) => s.type === SHT_SYMTAB),
      sectionNames: sections.map((s) => s.name),
    };
  } finally {
    await fh.close();
  }
}

async function readSections(fh: FileHandle, hdr: Buffer, bits: 32 | 64, size: number): Promise<Section[] | undefined> {
  const shoff = bits === 64 ? Number(hdr.readBigUInt64LE(40)) : hdr.readUInt32LE(32);
  const shentsize = hdr.readUInt16LE(bits === 64 ? 58 : 46);
  const shnum = hdr.readUInt16LE(bits === 64 ? 60 : 48);
  const shstrndx = hdr.readUInt16LE(bits === 64 ? 62 : 50);
  if (shoff === 0 || shnum === 0) return [];
  if (shoff + shentsize * shnum > size || shstrndx >= shnum) return undefined;
  const table = await readAt(fh, shoff, shentsize * shnum);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const b = i * shentsize;
    return {
      nameOff: table.readUInt32LE(b),
      type: table.readUInt32LE(b + 4),
      offset: bits === 64 ? Number(table.readBigUInt64LE(b + 24)) : table.readUInt32LE(b + 16),
      size: bits === 64 ? Number(table.readBigUInt64LE(b + 32)) : table.readUInt32LE(b + 20),
      link: table.readUInt32LE(b + (bits === 64 ? 40 : 24)),
    };
  });
  const strs = raw[shstrndx]!;
  if (strs.offset + strs.size > size) return undefined;
  const strtab = await readAt(fh, strs.offset, strs.size);
  // A section reaching past the end of the file stays in the list (sh_link indices must hold), emptied.
  return raw.map((r) => {
    const end = strtab.indexOf(0, r.nameOff);
    return { name: strtab.toString('latin1', r.nameOff, end < 0 ? strtab.length : end), type: r.type, offset: r.offset, size: r.size, link: r.link };
  }).map((s) => (s.type === 8 /* NOBITS */ || s.offset + s.size <= size || s.size === 0 ? s : { ...s, type: 0, size: 0 }));
}

/** What the note sections say: the PVH entry ("Xen", XEN_ELFNOTE_PHYS32_ENTRY) and the GNU build id. */
function readNotes(notes: Buffer): { pvhEntry?: number; buildId?: string } {
  const out: { pvhEntry?: number; buildId?: string } = {};
  let off = 0;
  while (off + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(off);
    const descsz = notes.readUInt32LE(off + 4);
    const type = notes.readUInt32LE(off + 8);
    const nameStart = off + 12;
    const descStart = nameStart + ((namesz + 3) & ~3);
    if (descStart + descsz > notes.length) break;
    const name = notes.toString('latin1', nameStart, nameStart + Math.max(0, namesz - 1));
    if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY && descsz >= 4) out.pvhEntry ??= notes.readUInt32LE(descStart);
    if (name === 'GNU' && type === NT_GNU_BUILD_ID) out.buildId ??= notes.toString('hex', descStart, descStart + descsz);
    off = descStart + ((descsz + 3) & ~3);
  }
  return out;
}

/** Why an image and a symbols file do not belong together, if they do not. */
export function mismatchProblem(image: ElfInfo, symbols: ElfInfo): string | undefined {
  if (image.path === symbols.path) return undefined;
  if (image.buildId && symbols.buildId && image.buildId !== symbols.buildId) {
    return `The symbols file ${symbols.path} does not match the image ${image.path} (their build ids differ): rebuild both, or point "symbols" at the debug file built with this image.`;
  }
  // A boot copy keeps the entry point (truncated to 32 bits when the copy is ELF32).
  const mask = image.bits === 32 || symbols.bits === 32 ? 0xffffffffn : 0xffffffffffffffffn;
  if ((image.entry & mask) !== (symbols.entry & mask)) {
    return (
      `The symbols file ${symbols.path} does not match the image ${image.path} (entry point 0x${symbols.entry.toString(16)} ` +
      `instead of 0x${image.entry.toString(16)}): rebuild both, or point "symbols" at the debug file built with this image.`
    );
  }
  return undefined;
}

/**
 * Which of `names` the image's symbol table defines. Reads each `.symtab` entry's own name: linkers
 * share string-table suffixes (`main` may start inside `ukboot_main`), so searching the table for a
 * string would miss names. Functions only DWARF knows (a renamed `main`) are gdb's to find.
 */
export async function findSymbols(path: string, names: readonly string[]): Promise<Set<string>> {
  const wanted = new Set(names);
  const found = new Set<string>();
  const fh = await openImage(path, 'image');
  try {
    const { size } = await fh.stat();
    const head = await readAt(fh, 0, Math.min(size, 64));
    if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46) return found;
    const bits = head[4] === 2 ? 64 : 32;
    const sections = (await readSections(fh, head, bits, size)) ?? [];
    const symtab = sections.find((s) => s.type === SHT_SYMTAB);
    const strtab = symtab ? sections[symtab.link] : undefined;
    if (!symtab || !strtab || symtab.size > 256 << 20 || strtab.size > 256 << 20) return found;
    const [syms, strs] = await Promise.all([readAt(fh, symtab.offset, symtab.size), readAt(fh, strtab.offset, strtab.size)]);
    const entSize = bits === 64 ? 24 : 16;
    const shndxAt = bits === 64 ? 6 : 14;
    for (let off = 0; off + entSize <= syms.length; off += entSize) {
      // An undefined symbol names what another object should have provided: not present.
      if (syms.readUInt16LE(off + shndxAt) === 0) continue;
      const start = syms.readUInt32LE(off);
      if (start >= strs.length) continue;
      const end = strs.indexOf(0, start);
      const name = strs.toString('latin1', start, end < 0 ? strs.length : end);
      if (wanted.has(name)) found.add(name);
    }
    return found;
  } finally {
    await fh.close();
  }
}

/** Whether a 32-bit ELF is a real 32-bit program (its own DWARF) rather than a boot copy of a 64-bit one. */
export function isThirtyTwoBitGuest(info: ElfInfo): boolean {
  return info.bits === 32 && info.machine === 'x86' && info.hasDebugInfo;
}

/** Checks that an ELF can be loaded by gdb for the guest, with a reason when it cannot. */
export function symbolsProblem(info: ElfInfo, guestBits: 32 | 64 = 64): string | undefined {
  if (guestBits === 64 && info.bits === 32) {
    return (
      `The symbols file ${info.path} is a 32-bit ELF, but the guest runs in 64-bit mode: gdb would fail with ` +
      `"Remote 'g' packet reply is too long". Point "symbols" at the 64-bit ELF with debug info (for Unikraft, the .dbg file).`
    );
  }
  if (info.machine === 'other') return `The symbols file ${info.path} is not an x86 ELF.`;
  return undefined;
}

/** Checks that QEMU's -kernel can boot an image, with a reason when it cannot. */
export function bootProblem(info: ElfInfo): string | undefined {
  if (info.machine === 'other') return `The image ${info.path} is not an x86 ELF, so QEMU cannot boot it.`;
  if (info.bits === 64 && info.multibootOffset === undefined && info.pvhEntry === undefined) {
    return (
      `The image ${info.path} is a 64-bit ELF with neither a multiboot header nor a PVH note; QEMU's -kernel cannot boot it. ` +
      `Boot a multiboot (a.out kludge), PVH or ELF32 build of it and give the 64-bit ELF as "symbols".`
    );
  }
  return undefined;
}
