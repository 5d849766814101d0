/**
 * Custom blocks (Custom_tag 255): field 0 points to C `struct custom_operations`, whose
 * first member is the identifier string; the data follows from field 1. The identifiers
 * the runtime itself registers tell boxed integers, bigarrays (Cstruct buffers) and channels.
 */
import { hex, readCString, readField, type AddressCheck, type OcamlMemory } from './heap';

export interface BigarrayInfo {
  data: bigint;
  kind: string;
  dims: bigint[];
  fortran: boolean;
}

export interface CustomValue {
  /** The operations' identifier (`_j`, `_bigarr02`, …) when readable. */
  id?: string;
  text: string;
  type: string;
  bigarray?: BigarrayInfo;
}

// enum caml_ba_kind, in order.
const BIGARRAY_KINDS = [
  'float32', 'float64', 'int8_signed', 'int8_unsigned', 'int16_signed', 'int16_unsigned', 'int32', 'int64', 'int',
  'nativeint', 'complex32', 'complex64', 'char', 'float16',
];

/** Reads the custom block at pointer; the operations and their name may live in C data (isReadable). */
export async function readCustom(mem: OcamlMemory, pointer: bigint, isReadable: AddressCheck): Promise<CustomValue> {
  const ops = await readField(mem, pointer, 0);
  const idPtr = ops !== undefined && isReadable(ops) ? await mem.readWord(ops) : undefined;
  const id = idPtr !== undefined && isReadable(idPtr) ? await readCString(mem, idPtr) : undefined;
  const data = pointer + 8n;
  switch (id) {
    case '_j': {
      const w = await mem.readWord(data);
      return { id, text: w === undefined ? '<int64>' : `${BigInt.asIntN(64, w)}L`, type: 'int64' };
    }
    case '_n': {
      const w = await mem.readWord(data);
      return { id, text: w === undefined ? '<nativeint>' : `${BigInt.asIntN(64, w)}n`, type: 'nativeint' };
    }
    case '_i': {
      const b = await mem.readBytes(data, 4);
      return { id, text: b && b.length >= 4 ? `${b.readInt32LE(0)}l` : '<int32>', type: 'int32' };
    }
    case '_bigarr02':
      return readBigarray(mem, data);
    case '_chan':
      return { id, text: '<channel>', type: 'channel' };
    case undefined:
      return { text: '<custom>', type: 'custom' };
    default:
      return { id, text: `<custom ${id}>`, type: `custom ${id}` };
  }
}

/** struct caml_ba_array { void *data; intnat num_dims; intnat flags; proxy; intnat dim[]; } */
async function readBigarray(mem: OcamlMemory, base: bigint): Promise<CustomValue> {
  const [data, numDims, flags] = [await mem.readWord(base), await mem.readWord(base + 8n), await mem.readWord(base + 16n)];
  if (data === undefined || numDims === undefined || flags === undefined || numDims > 16n) return { id: '_bigarr02', text: '<bigarray>', type: 'bigarray' };
  const dims: bigint[] = [];
  for (let i = 0n; i < numDims; i++) dims.push((await mem.readWord(base + 32n + i * 8n)) ?? 0n);
  const kind = BIGARRAY_KINDS[Number(flags & 0xffn)] ?? `kind ${flags & 0xffn}`;
  const fortran = (flags & 0x100n) !== 0n;
  return {
    id: '_bigarr02',
    text: `<bigarray ${kind}${fortran ? ' fortran' : ''} [${dims.join('x')}] @ ${hex(data)}>`,
    type: `bigarray (${kind})`,
    bigarray: { data, kind, dims, fortran },
  };
}
