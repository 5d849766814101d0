/**
 * Just enough ELF reading to refuse bad images with a clear sentence before QEMU or gdb see them,
 * and to know how an image boots (multiboot header, class, entry point).
 */
import { open } from 'node:fs/promises';

export interface ElfInfo {
  path: string;
  bits: 32 | 64;
  machine: 'x86' | 'x86_64' | 'other';
  entry: bigint;
  /** Offset of a multiboot v1 header in the first 8 KiB, if any. */
  multibootOffset?: number;
  /** Multiboot flags (bit 16 = a.out kludge: load addresses given in the header). */
  multibootFlags?: number;
  hasDebugInfo: boolean;
  sectionNames: string[];
}

export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

const MULTIBOOT_MAGIC = 0x1badb002;

export async function readElfInfo(path: string, role = 'image'): Promise<ElfInfo> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`The ${role} ${path} does not exist; build it first or fix the path in launch.json.`);
    if (code === 'EISDIR') throw new ImageError(`The ${role} ${path} is a directory, not an ELF file.`);
    throw new ImageError(`The ${role} ${path} cannot be read (${code ?? String(e)}).`);
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) throw new ImageError(`The ${role} ${path} is empty; rebuild it.`);
    const head = Buffer.alloc(Math.min(size, 8192 + 64));
    await fh.read(head, 0, head.length, 0);
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

    const sectionNames = await readSectionNames(fh, bits, size);
    if (sectionNames === undefined) throw new ImageError(`The ${role} ${path} is truncated or damaged (its section table is outside the file).`);
    return {
      path,
      bits,
      machine,
      entry,
      multibootOffset,
      multibootFlags,
      hasDebugInfo: sectionNames.includes('.debug_info'),
      sectionNames,
    };
  } finally {
    await fh.close();
  }
}

async function readSectionNames(
  fh: import('node:fs/promises').FileHandle,
  bits: 32 | 64,
  size: number,
): Promise<string[] | undefined> {
  const hdr = Buffer.alloc(64);
  await fh.read(hdr, 0, 64, 0);
  const shoff = bits === 64 ? Number(hdr.readBigUInt64LE(40)) : hdr.readUInt32LE(32);
  const shentsize = hdr.readUInt16LE(bits === 64 ? 58 : 46);
  const shnum = hdr.readUInt16LE(bits === 64 ? 60 : 48);
  const shstrndx = hdr.readUInt16LE(bits === 64 ? 62 : 50);
  if (shoff === 0 || shnum === 0) return [];
  if (shoff + shentsize * shnum > size || shstrndx >= shnum) return undefined;
  const table = Buffer.alloc(shentsize * shnum);
  await fh.read(table, 0, table.length, shoff);
  const secOffset = (i: number): number =>
    bits === 64 ? Number(table.readBigUInt64LE(i * shentsize + 24)) : table.readUInt32LE(i * shentsize + 16);
  const secSize = (i: number): number =>
    bits === 64 ? Number(table.readBigUInt64LE(i * shentsize + 32)) : table.readUInt32LE(i * shentsize + 20);
  const strOff = secOffset(shstrndx);
  const strSize = secSize(shstrndx);
  if (strOff + strSize > size) return undefined;
  const strtab = Buffer.alloc(strSize);
  await fh.read(strtab, 0, strSize, strOff);
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const nameOff = table.readUInt32LE(i * shentsize);
    const end = strtab.indexOf(0, nameOff);
    names.push(strtab.toString('latin1', nameOff, end < 0 ? strSize : end));
  }
  return names;
}

/** Checks that an ELF can be loaded by gdb for an x86_64 guest, with a reason when it cannot. */
export function symbolsProblem(info: ElfInfo): string | undefined {
  if (info.bits === 32) {
    return (
      `The symbols file ${info.path} is a 32-bit ELF, but the guest runs in 64-bit mode: gdb would fail with ` +
      `"Remote 'g' packet reply is too long". Point "symbols" at the 64-bit ELF with debug info (for Unikraft, the .dbg file).`
    );
  }
  if (info.machine !== 'x86_64') return `The symbols file ${info.path} is not an x86_64 ELF.`;
  return undefined;
}

/** Checks that QEMU's -kernel can boot an image, with a reason when it cannot. */
export function bootProblem(info: ElfInfo): string | undefined {
  if (info.machine === 'other') return `The image ${info.path} is not an x86 ELF, so qemu-system-x86_64 cannot boot it.`;
  if (info.bits === 64 && info.multibootOffset === undefined) {
    return (
      `The image ${info.path} is a 64-bit ELF without a multiboot header; QEMU's -kernel cannot boot it. ` +
      `Boot a multiboot (a.out kludge) or ELF32 build of it and give the 64-bit ELF as "symbols".`
    );
  }
  return undefined;
}
