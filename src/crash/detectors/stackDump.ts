/**
 * Return addresses out of a raw stack hex dump, for consoles that print only
 * rip/rsp and then the words at rsp (Unikraft's `uk_hexdumpk` lines:
 * `001ffe70  8f 4a 10 00 00 00 00 00  90 fe 1f 00 00 00 00 00  |.J..............|`).
 * Without the image, a word counts as a code address when it lies near rip and
 * away from the stack; symbolizeReport later drops those outside the image's code.
 */
import { MAX_FRAMES } from './types';
import type { CrashFrame } from '../report';

// Address column, then byte pairs (one or two blanks apart); the ASCII column is ignored.
const LINE = /^([0-9a-fA-F]{8,16}):?\s{1,2}((?:[0-9a-fA-F]{2}(?: {1,2}|$)){1,64})/;
const NEAR_CODE = 16n << 20n; // an image's code is within 16 MiB of its rip
// Saved frame pointers and locals point into the frames just above rsp; code may lie close below the stack.
const STACK_BELOW = 0x1000n;
const STACK_ABOVE = 0x10000n;
const MAX_WORDS = 512;
const MAX_RECOVERED = 16;

/** Collects the 8-byte little-endian words of a stack dump, line by line. */
export class StackDump {
  private readonly bytes = new Map<bigint, number>();

  get size(): number {
    return this.bytes.size;
  }

  /** Takes a hex dump line; false for any other line. */
  take(line: string): boolean {
    const m = LINE.exec(line);
    if (!m) return false;
    if (this.bytes.size >= MAX_WORDS * 8) return true;
    let address = BigInt(`0x${m[1]}`);
    for (const pair of m[2].trim().split(/\s+/)) this.bytes.set(address++, Number.parseInt(pair, 16));
    return true;
  }

  /** Aligned words, lowest address first. */
  words(): bigint[] {
    const starts = new Set<bigint>();
    for (const a of this.bytes.keys()) starts.add(a - (a % 8n));
    const out: bigint[] = [];
    for (const start of [...starts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      let value = 0n;
      let complete = true;
      for (let i = 7n; i >= 0n; i--) {
        const b = this.bytes.get(start + i);
        if (b === undefined) {
          complete = false;
          break;
        }
        value = (value << 8n) | BigInt(b);
      }
      if (complete) out.push(value);
    }
    return out;
  }

  /** Likely return addresses, as caller frames marked `fromStackDump`, given rip and rsp (hex strings). */
  frames(rip: string | undefined, rsp: string | undefined, room = MAX_FRAMES): CrashFrame[] {
    if (rip === undefined) return [];
    const pc = BigInt(rip);
    const sp = rsp === undefined ? undefined : BigInt(rsp);
    const out: CrashFrame[] = [];
    const seen = new Set<bigint>();
    for (const w of this.words()) {
      if (out.length >= Math.min(room, MAX_RECOVERED)) break;
      if (w < 0x1000n || seen.has(w)) continue;
      const fromPc = w > pc ? w - pc : pc - w;
      if (fromPc >= NEAR_CODE) continue;
      if (sp !== undefined && w >= sp - STACK_BELOW && w < sp + STACK_ABOVE) continue;
      seen.add(w);
      out.push({ address: `0x${w.toString(16)}`, returnAddress: true, fromStackDump: true });
    }
    return out;
  }
}
