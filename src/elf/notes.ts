/**
 * ELF notes: the boot and build facts images carry in note sections. The PVH entry point
 * (`Xen`, XEN_ELFNOTE_PHYS32_ENTRY) says QEMU can boot a 64-bit image directly; the GNU build id
 * tells whether an image and a debug file come from the same build.
 */

export interface ElfNote {
  name: string;
  type: number;
  desc: Buffer;
}

const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const NT_GNU_BUILD_ID = 3;

/** The notes of one note section, in order; a damaged tail is left out. */
export function parseNotes(data: Buffer, littleEndian = true): ElfNote[] {
  const u32 = (o: number): number => (littleEndian ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const notes: ElfNote[] = [];
  let off = 0;
  while (off + 12 <= data.length) {
    const namesz = u32(off);
    const descsz = u32(off + 4);
    const type = u32(off + 8);
    const nameStart = off + 12;
    const descStart = nameStart + ((namesz + 3) & ~3);
    if (descStart + descsz > data.length) break;
    const name = data.toString('latin1', nameStart, nameStart + Math.max(0, namesz - 1));
    notes.push({ name, type, desc: data.subarray(descStart, descStart + descsz) });
    off = descStart + ((descsz + 3) & ~3);
  }
  return notes;
}

/** The 32-bit PVH entry point, if a note gives one. */
export function pvhEntry(notes: readonly ElfNote[], littleEndian = true): number | undefined {
  const note = notes.find((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY && n.desc.length >= 4);
  if (!note) return undefined;
  return littleEndian ? note.desc.readUInt32LE(0) : note.desc.readUInt32BE(0);
}

/** The GNU build id as hex, if the linker wrote one. */
export function buildId(notes: readonly ElfNote[]): string | undefined {
  return notes.find((n) => n.name === 'GNU' && n.type === NT_GNU_BUILD_ID)?.desc.toString('hex');
}
