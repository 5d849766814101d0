/**
 * Exactly which bytes hold the instructions a disassembly request wants, found without the
 * target: the image's own code (ImageCode) decoded for instruction lengths by iced-x86, from the
 * pc forward and, backward, from the symbols before it (known boundaries) up to the pc. gdb is
 * then asked for those bytes and no more: its time grows with every byte it disassembles.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageCode } from '../elf';

type Iced = typeof import('iced-x86');
let iced: Iced | undefined;

/**
 * The decoder (a WebAssembly module), loaded the first time it is needed: from beside the bundle
 * (dist/, where the build copies it; the extension ships no node_modules), else from node_modules.
 */
function loadDecoder(): Iced {
  const beside = join(__dirname, 'iced_x86.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  iced ??= (existsSync(beside) ? require(beside) : require('iced-x86')) as Iced;
  return iced;
}

/**
 * Loads the decoder and runs it once ahead of the first request (WebAssembly compiles a function
 * on its first call: the first sweep would otherwise take milliseconds).
 */
export function warmDecoder(): void {
  try {
    sweep(Uint8Array.of(0x55, 0x48, 0x89, 0xe5, 0xc3), 64, 8);
  } catch {
    /* no decoder: windows are guessed (exactWindow says so) */
  }
}

/** The longest x86 instruction. */
const MAX_INSN = 15;
/** How far back a sweep may start: beyond this, the usual windows are cheaper. */
const MAX_SWEEP = 1 << 20;

/**
 * Offsets of the instructions decoded linearly from `bytes`' start, at most `max`, and where
 * decoding ended (an instruction never straddles the end: one that would is left out).
 */
function sweep(bytes: Uint8Array, bits: 32 | 64, max: number): { offsets: number[]; end: number } {
  const { Decoder, DecoderError, DecoderOptions, Instruction } = loadDecoder();
  const decoder = new Decoder(bits, bytes, DecoderOptions.None);
  const insn = new Instruction();
  const offsets: number[] = [];
  let at = 0;
  try {
    // Two calls into the WebAssembly module an instruction: decode, and where it ended.
    while (offsets.length < max && at < bytes.length) {
      decoder.decodeOut(insn);
      const next = decoder.position;
      // One cut off by the end of the bytes is not an instruction of these bytes.
      if (next <= at || (next === bytes.length && decoder.lastError === DecoderError.NoMoreBytes)) break;
      offsets.push(at);
      at = next;
    }
  } finally {
    insn.free();
    decoder.free();
  }
  return { offsets, end: at };
}

/**
 * [lo, hi): `before` whole instructions ending at `base` and `after` from it on (fewer where the
 * code ends); undefined when the image's bytes cannot tell (not its code, or a sweep that does not
 * land on `base`).
 */
export function exactWindow(code: ImageCode, base: bigint, before: number, after: number): { lo: bigint; hi: bigint } | undefined {
  try {
    return windowIn(code, base, before, after);
  } catch {
    // The decoder could not be loaded (a damaged install): the usual guessed windows serve.
    return undefined;
  }
}

function windowIn(code: ImageCode, base: bigint, before: number, after: number): { lo: bigint; hi: bigint } | undefined {
  let hi = base;
  if (after > 0) {
    const bytes = code.bytesFrom(base);
    if (!bytes) return undefined;
    const { offsets, end } = sweep(bytes.subarray(0, (after + 1) * MAX_INSN), code.bits, after + 1);
    hi = base + BigInt(offsets.length > after ? offsets[after]! : end);
  }
  let lo = base;
  if (before > 0) {
    // Back one known boundary at a time, each stretch decoded once; a stretch whose decoding does
    // not land on the boundary after it (data inside the code) ends the way back.
    let to = base;
    let count = 0;
    for (let from = code.boundaryBefore(base); from !== undefined && count < before && base - from <= MAX_SWEEP; from = code.boundaryBefore(from)) {
      const bytes = code.bytes(from, to);
      if (!bytes) break;
      const { offsets, end } = sweep(bytes, code.bits, Number.MAX_SAFE_INTEGER);
      if (end !== bytes.length) break;
      const take = Math.min(before - count, offsets.length);
      lo = from + BigInt(offsets[offsets.length - take] ?? 0);
      count += take;
      to = from;
    }
    // Not even the stretch before the base lines up: these bytes are not what gdb will decode.
    if (count === 0) return undefined;
  }
  return { lo, hi };
}
