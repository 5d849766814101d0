/**
 * Whether QEMU's `-kernel` can boot an image and gdb can load its symbols, said in one sentence
 * before either program sees the files: the image must be an x86 ELF with a multiboot header or a
 * PVH note (or an ELF32 copy of a 64-bit kernel), the symbols a 64-bit ELF for a 64-bit guest, and
 * both from the same build.
 */
import { ElfError, ElfFile, describe, type ElfInfo } from '../elf';

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** What booting needs to know of an image. */
export interface BootImage extends Pick<ElfInfo, 'path' | 'bits' | 'machine' | 'entry' | 'hasDebugInfo' | 'hasSymbols' | 'sectionNames' | 'pvhEntry' | 'buildId'> {
  /** Offset of a multiboot v1 header in the first 8 KiB, if any. */
  multibootOffset?: number;
  /** Multiboot flags (bit 16 = a.out kludge: load addresses given in the header). */
  multibootFlags?: number;
}

const MULTIBOOT_MAGIC = 0x1badb002;
/** Multiboot v1 looks for its header in the image's first 8 KiB. */
const MULTIBOOT_SEARCH = 8192;

/** Reads an image (or symbols file), refusing what is not a little-endian x86 ELF with a sentence naming `role`. */
export async function readBootImage(path: string, role = 'image'): Promise<BootImage & ElfInfo> {
  let file: ElfFile;
  try {
    file = await ElfFile.open(path);
  } catch (e) {
    throw imageError(e, path, role);
  }
  try {
    if (!file.header.littleEndian) throw new ImageError(`The ${role} ${path} is not a little-endian 32- or 64-bit ELF file.`);
    const [info, head] = await Promise.all([describe(file), file.read(0, MULTIBOOT_SEARCH)]);
    return { ...info, ...multibootHeader(head) };
  } catch (e) {
    throw imageError(e, path, role);
  } finally {
    await file.close();
  }
}

function imageError(e: unknown, path: string, role: string): Error {
  if (!(e instanceof ElfError)) return e instanceof Error ? e : new Error(String(e));
  switch (e.problem) {
    case 'missing': return new ImageError(`The ${role} ${path} does not exist; build it first or fix the path in launch.json.`);
    case 'directory': return new ImageError(`The ${role} ${path} is a directory, not an ELF file.`);
    case 'unreadable': return new ImageError(`The ${role} ${path} cannot be read (${e.code ?? e.message}).`);
    case 'empty': return new ImageError(`The ${role} ${path} is empty; rebuild it.`);
    case 'not-elf': return new ImageError(`The ${role} ${path} is not an ELF file.`);
    case 'invalid': return new ImageError(`The ${role} ${path} is not a little-endian 32- or 64-bit ELF file.`);
    case 'truncated': return new ImageError(`The ${role} ${path} is truncated.`);
    case 'damaged': return new ImageError(`The ${role} ${path} is truncated or damaged (its section table is outside the file).`);
  }
}

/** A multiboot v1 header: the magic, the flags, and a checksum making the three sum to zero. */
function multibootHeader(head: Buffer): { multibootOffset?: number; multibootFlags?: number } {
  for (let off = 0; off + 12 <= head.length; off += 4) {
    if (head.readUInt32LE(off) !== MULTIBOOT_MAGIC) continue;
    const flags = head.readUInt32LE(off + 4);
    if (((MULTIBOOT_MAGIC + flags + head.readUInt32LE(off + 8)) >>> 0) === 0) return { multibootOffset: off, multibootFlags: flags };
  }
  return {};
}

/** Why an image and a symbols file do not belong together, if they do not. */
export function mismatchProblem(image: BootImage, symbols: BootImage): string | undefined {
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

/** Whether a 32-bit ELF is a real 32-bit program (its own DWARF) rather than a boot copy of a 64-bit one. */
export function isThirtyTwoBitGuest(info: BootImage): boolean {
  return info.bits === 32 && info.machine === 'x86' && info.hasDebugInfo;
}

/** Checks that an ELF can be loaded by gdb for the guest, with a reason when it cannot. */
export function symbolsProblem(info: BootImage, guestBits: 32 | 64 = 64): string | undefined {
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
export function bootProblem(info: BootImage): string | undefined {
  if (info.machine === 'other') return `The image ${info.path} is not an x86 ELF, so QEMU cannot boot it.`;
  if (info.bits === 64 && info.multibootOffset === undefined && info.pvhEntry === undefined) {
    return (
      `The image ${info.path} is a 64-bit ELF with neither a multiboot header nor a PVH note; QEMU's -kernel cannot boot it. ` +
      `Boot a multiboot (a.out kludge), PVH or ELF32 build of it and give the 64-bit ELF as "symbols".`
    );
  }
  return undefined;
}
