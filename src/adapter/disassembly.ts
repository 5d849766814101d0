/**
 * DAP disassemble on x86, where instructions have no fixed length: scrolling back means finding
 * a start address from which decoding lands exactly on the reference instruction.
 *
 * One `-data-disassemble` per request. In the image's own code the window is exact (codeWindow.ts:
 * the file's bytes decoded for instruction lengths): gdb disassembles just the instructions asked
 * for. Elsewhere a window around the base is sized from the code's measured instruction length
 * (x86 decoding resynchronises within a few instructions, so a window started a little early lines
 * up), continued from where it ended (forward) or by another window before the earliest instruction
 * known (backward) when short, and only then by trying start addresses one by one. What was decoded
 * is kept until the guest runs again (`DisassemblyCache`), so scrolling over known code asks gdb nothing.
 */
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { ImageCode } from '../elf';
import { exactWindow } from './codeWindow';
import type { SourceFileName } from './sourcePaths';

/** The longest x86 instruction. */
const MAX_INSN = 15;


/**
 * Runs of consecutively decoded instructions (each starting where the previous ended), kept for one
 * stop of one gdb: the owner calls `clear` when the guest resumes or memory is written.
 */
export class DisassemblyCache {
  private runs: mi.MiInstruction[][] = [];
  private gdb: Gdb | undefined;
  /** Bytes per instruction of the code seen so far (x86-64 compiled code: about 3.5 to 4.5). */
  bytesPerInsn = 4;

  clear(): void {
    this.runs = [];
  }

  /** A run holding `before` instructions before one that starts at `at` and `after` from it on. */
  find(gdb: Gdb, at: bigint, before: number, after: number): { run: mi.MiInstruction[]; index: number } | undefined {
    if (gdb !== this.gdb) {
      this.gdb = gdb;
      this.runs = [];
    }
    for (const run of this.runs) {
      const index = this.indexIn(run, at);
      if (index !== undefined && index >= before && run.length - index >= after) return { run, index };
    }
    return undefined;
  }

  private indexIn(run: mi.MiInstruction[], at: bigint): number | undefined {
    if (run.length === 0 || at < run[0]!.address || at >= run[run.length - 1]!.end) return undefined;
    let lo = 0;
    let hi = run.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const a = run[mid]!.address;
      if (a === at) return mid;
      if (a < at) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  add(run: mi.MiInstruction[]): void {
    if (run.length === 0) return;
    const bytes = Number(run[run.length - 1]!.end - run[0]!.address);
    if (run.length >= 16) this.bytesPerInsn = Math.min(MAX_INSN, Math.max(2, bytes / run.length));
    // A run that continues or overlaps a known one on the same instruction boundaries (scrolling)
    // joins it, so that later windows find both.
    for (const r of this.runs) {
      const [rStart, rEnd] = [r[0]!.address, r[r.length - 1]!.end];
      const [runStart, runEnd] = [run[0]!.address, run[run.length - 1]!.end];
      if (runEnd < rStart || runStart > rEnd) continue;
      // The new instructions before r, if they land on its first one.
      let head = 0;
      if (runStart < rStart) {
        const k = runEnd === rStart ? run.length : this.indexIn(run, rStart);
        if (k === undefined) continue;
        head = k;
      } else if (runStart < rEnd && this.indexIn(r, runStart) === undefined) continue;
      // The new instructions after r, if they start where it ends.
      let tail: mi.MiInstruction[] = [];
      if (runEnd > rEnd) {
        const k = runStart === rEnd ? 0 : this.indexIn(run, rEnd);
        if (k !== undefined) tail = run.slice(k);
        else if (head === 0) continue;
      }
      r.unshift(...run.slice(0, head));
      r.push(...tail);
      return;
    }
    if (this.runs.length >= 32) this.runs.shift();
    this.runs.push([...run]);
  }
}

/** Splits gdb's instructions into runs of consecutive ones (a gap or an overlap starts a new run). */
function runsOf(insns: mi.MiInstruction[]): mi.MiInstruction[][] {
  const out: mi.MiInstruction[][] = [];
  let cur: mi.MiInstruction[] = [];
  for (const i of insns) {
    const prev = cur[cur.length - 1];
    if (prev && prev.end !== i.address) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

const disasm = (gdb: Gdb, start: bigint, stop: bigint): Promise<mi.MiInstruction[]> =>
  stop > start ? mi.dataDisassemble(gdb, start, stop).catch(() => []) : Promise.resolve([]);

/** Up to `n` instructions that end exactly at `base`, by trying start addresses (the fallback). */
async function searchBefore(gdb: Gdb, base: bigint, n: number): Promise<mi.MiInstruction[]> {
  if (n <= 0 || base === 0n) return [];
  const span = BigInt(n * MAX_INSN);
  const first = base > span ? base - span : 0n;
  for (let skew = 0n; skew < BigInt(MAX_INSN) && first + skew < base; skew++) {
    const insns = await disasm(gdb, first + skew, base);
    const last = insns[insns.length - 1];
    if (last && last.end === base) return insns.slice(-n);
  }
  return [];
}

/** Window sizes, in the code's measured bytes per instruction (a short window costs one more round trip either way). */
const FORWARD_MARGIN = 1.1;
const BACKWARD_MARGIN = 1.1;
/** Bytes at the start of a window started at a guess whose decoding is not trusted. */
const RESYNC = BigInt(2 * MAX_INSN);

/**
 * Up to `n` instructions that end exactly at `anchor` (an instruction boundary), from one window
 * started a little early; undefined when its decoding does not land on the anchor.
 */
async function windowBefore(gdb: Gdb, anchor: bigint, n: number, per: number): Promise<mi.MiInstruction[] | undefined> {
  const span = BigInt(Math.ceil(n * per * BACKWARD_MARGIN)) + RESYNC;
  const lo = anchor > span ? anchor - span : 0n;
  const insns = await disasm(gdb, lo, anchor);
  const last = insns[insns.length - 1];
  if (!last || last.end !== anchor) return undefined;
  const trusted = lo === 0n ? insns : insns.filter((i) => i.address >= lo + RESYNC);
  // Consecutive up to the anchor: drop anything before a gap.
  let from = trusted.length - 1;
  while (from > 0 && trusted[from - 1]!.end === trusted[from]!.address) from--;
  return trusted.slice(from).slice(-n);
}

/**
 * `before` instructions ending at `base` and `after` instructions from `base` on (fewer where
 * there are none), in as few round trips as the code allows: usually one.
 */
async function around(
  gdb: Gdb,
  base: bigint,
  before: number,
  after: number,
  cache: DisassemblyCache,
  code: ImageCode | undefined,
): Promise<{ pre: mi.MiInstruction[]; post: mi.MiInstruction[] }> {
  const hit = cache.find(gdb, base, before, after);
  if (hit) {
    return { pre: hit.run.slice(hit.index - before, hit.index), post: hit.run.slice(hit.index, hit.index + after) };
  }
  // The image's own bytes tell the exact window; elsewhere (code the image does not hold) it is guessed.
  const exact = code ? exactWindow(code, base, before, after) : undefined;
  const per = cache.bytesPerInsn;
  const backBytes = before > 0 ? BigInt(Math.ceil(before * per * BACKWARD_MARGIN)) + RESYNC : 0n;
  const lo = exact ? exact.lo : base > backBytes ? base - backBytes : 0n;
  const hi = exact ? exact.hi : base + BigInt(Math.ceil(after * per * FORWARD_MARGIN) + MAX_INSN);
  // The first instructions of a window started at a guess may be misdecoded: keep those from
  // RESYNC bytes on (the window has that much to spare), and those from the base on.
  const trusted = exact ? lo : lo + RESYNC;
  const insns = (await disasm(gdb, lo, after > 0 ? hi : base + 1n)).filter((i) => lo === 0n || lo === base || i.address >= trusted || i.address >= base);
  const runs = runsOf(insns);
  for (const r of runs) cache.add(r);
  const run = runs.find((r) => r.length > 0 && r[0]!.address <= base && base < r[r.length - 1]!.end);
  const at = run ? run.findIndex((i) => i.address === base) : -1;

  let pre: mi.MiInstruction[] = [];
  let post: mi.MiInstruction[] = [];
  if (run && at >= 0) {
    pre = run.slice(Math.max(0, at - before), at);
    post = after > 0 ? run.slice(at, at + after) : [];
  } else if (after > 0) {
    // Decoding from `lo` did not land on the base (data, or a base inside an instruction): the
    // instructions from the base on are those decoded from it.
    post = (await disasm(gdb, base, hi)).filter((i) => i.address >= base);
    cache.add(post);
  }
  // Not enough before the base in the window (long instructions), or no line-up: more windows
  // before the earliest known instruction, then the search by start address.
  for (let tries = 0; pre.length < before && tries < 2; tries++) {
    const anchor = pre[0]?.address ?? base;
    if (anchor === 0n) break;
    const more = await windowBefore(gdb, anchor, before - pre.length, Math.max(per, 4));
    if (!more || more.length === 0) break;
    cache.add(more);
    pre = [...more, ...pre];
  }
  if (pre.length < before && (pre[0]?.address ?? base) > 0n) {
    const earlier = await searchBefore(gdb, pre[0]?.address ?? base, before - pre.length);
    pre = [...earlier, ...pre];
    if (earlier.length > 0) cache.add([...earlier]);
  }
  while (post.length < after) {
    // The window ended early (long instructions): continue from the last one, which lines up.
    const from = post.length > 0 ? post[post.length - 1]!.end : base;
    const more = (await disasm(gdb, from, from + BigInt((after - post.length) * MAX_INSN))).filter((i) => i.address >= from);
    if (more.length === 0) break;
    post = [...post, ...more.slice(0, after - post.length)];
    cache.add(more);
  }
  return { pre, post };
}

const hex = (a: bigint): string => `0x${a.toString(16).padStart(16, '0')}`;

/**
 * Exactly `count` instructions: the window [instructionOffset, instructionOffset + count) around the
 * instruction at `base`; positions with no instruction are filled with invalid entries.
 */
export async function disassemble(
  gdb: Gdb,
  base: bigint,
  instructionOffset: number,
  count: number,
  /** The local file for gdb's source name (see sourcePaths.ts). */
  localPath: (name: SourceFileName) => string,
  cache: DisassemblyCache = new DisassemblyCache(),
  /** The image's code, to ask gdb for exactly the instructions wanted. */
  code?: ImageCode,
): Promise<DebugProtocol.DisassembledInstruction[]> {
  // Instructions from `instructionOffset` to `instructionOffset + count` (relative to the base's):
  // those before the base, and those from it on.
  const needBefore = Math.max(0, -instructionOffset);
  const needAfter = Math.max(0, instructionOffset + count);
  const { pre, post } = await around(gdb, base, needBefore, needAfter, cache, code);
  const known = [...pre, ...post];
  const baseIndex = pre.length;

  const out: DebugProtocol.DisassembledInstruction[] = [];
  let lastFunc: string | undefined;
  let lastPath: string | undefined;
  // One path lookup per file, not per instruction.
  const paths = new Map<string, string>();
  for (let p = instructionOffset; p < instructionOffset + count; p++) {
    const k = baseIndex + p;
    const i = known[k];
    if (!i) {
      // No instruction there: placeholders at the bytes before the first known one, after the last.
      const addr = k < 0 ? (known[0]?.address ?? base) + BigInt(k) : (known.length > 0 ? known[known.length - 1]!.end : base) + BigInt(k - known.length);
      out.push({ address: hex(addr < 0n ? 0n : addr), instruction: '??', presentationHint: 'invalid' });
      continue;
    }
    const d: DebugProtocol.DisassembledInstruction = {
      address: hex(i.address),
      instructionBytes: i.opcodes,
      instruction: i.inst,
    };
    if (i.funcName && i.funcName !== lastFunc) d.symbol = i.funcName;
    lastFunc = i.funcName;
    if ((i.file || i.fullname) && i.line) {
      const key = `${i.file ?? ''}\0${i.fullname ?? ''}`;
      let path = paths.get(key);
      if (path === undefined) {
        path = localPath({ file: i.file ?? i.fullname ?? '', fullname: i.fullname });
        paths.set(key, path);
      }
      if (path) {
        // DAP: the location may be left out where it is the previous instruction's (less to send).
        if (path !== lastPath) d.location = { name: basename(path), path };
        lastPath = path;
        d.line = i.line;
      }
    }
    out.push(d);
  }
  return out;
}
