/**
 * Guest memory for DAP readMemory / writeMemory: large ranges go in pipelined chunks so other
 * requests are answered in between, unreadable ranges are reported as such, and very large reads
 * can bypass gdb's hex-encoded remote protocol through a faster path (QEMU's memsave).
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ImageCode } from '../elf';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import { warmDecoder } from './codeWindow';
import { disassemble, DisassemblyCache } from './disassembly';
import type { GdbHost } from './gdbHost';
import type { SourcePaths } from './sourcePaths';

/** One gdb read: large enough to amortise a round trip, small enough to keep gdb responsive. */
const CHUNK = 64 * 1024;

export interface ReadResult {
  address: bigint;
  data: Buffer;
  /** Bytes after `data` that could not be read. */
  unreadableBytes: number;
}

/** A faster whole-range read, or undefined when it cannot serve this range. */
export type FastRead = (address: bigint, count: number) => Promise<Buffer | undefined>;

export interface ReadOptions {
  fastRead?: FastRead;
  /** Reads at least this large try the fast path first. */
  fastFrom?: number;
  cancelled?: () => boolean;
}

export async function readMemory(gdb: Gdb, address: bigint, count: number, opts: ReadOptions = {}): Promise<ReadResult> {
  if (count <= 0) return { address, data: Buffer.alloc(0), unreadableBytes: 0 };
  if (opts.fastRead && count >= (opts.fastFrom ?? 256 * 1024)) {
    const data = await opts.fastRead(address, count).catch(() => undefined);
    if (data && data.length === count) return { address, data, unreadableBytes: 0 };
  }
  const starts: bigint[] = [];
  for (let off = 0; off < count; off += CHUNK) starts.push(address + BigInt(off));
  const blocks = await Promise.all(
    starts.map((start, i) => {
      if (opts.cancelled?.()) return Promise.resolve([] as mi.MemoryBlock[]);
      const size = Math.min(CHUNK, count - i * CHUNK);
      // A chunk gdb cannot read at all is simply missing.
      return mi.dataReadMemoryBytes(gdb, start, size).catch(() => [] as mi.MemoryBlock[]);
    }),
  );
  if (opts.cancelled?.()) throw new Error('cancelled');
  return contiguousFrom(address, count, blocks.flat());
}

/** The bytes readable from `address` on, and how many after them are not. */
export function contiguousFrom(address: bigint, count: number, blocks: mi.MemoryBlock[]): ReadResult {
  const end = address + BigInt(count);
  const sorted = blocks.filter((b) => b.end > address && b.begin < end).sort((a, b) => (a.begin < b.begin ? -1 : 1));
  const parts: Buffer[] = [];
  let at = address;
  for (const b of sorted) {
    if (b.begin > at) break;
    const from = Number(at - b.begin);
    const to = Number((b.end < end ? b.end : end) - b.begin);
    if (to > from) {
      parts.push(b.contents.subarray(from, to));
      at = b.begin + BigInt(to);
    }
  }
  const data = Buffer.concat(parts);
  if (data.length === count) return { address, data, unreadableBytes: 0 };
  // Unreadable up to the next readable block (or the end of the range).
  const next = sorted.find((b) => b.begin > at)?.begin ?? end;
  return { address, data, unreadableBytes: Number(next - at) };
}

export async function writeMemory(gdb: Gdb, address: bigint, data: Buffer): Promise<number> {
  const writes: Promise<void>[] = [];
  for (let off = 0; off < data.length; off += CHUNK) {
    writes.push(mi.dataWriteMemoryBytes(gdb, address + BigInt(off), data.subarray(off, off + CHUNK)));
  }
  await Promise.all(writes);
  return data.length;
}

/** `0x1234`, `0x1234 <sym>`, `(struct x *) 0x1234` → 0x1234n; undefined when the text holds no address. */
export function addressIn(value: string | undefined): bigint | undefined {
  const m = value?.match(/(?:^|\s|\))(0x[0-9a-fA-F]+)\b/) ?? value?.match(/^(0x[0-9a-fA-F]+)/);
  return m?.[1] ? BigInt(m[1]) : undefined;
}

/** A memoryReference is an address; `offset` may move it. */
export function parseMemoryReference(ref: string, offset = 0): bigint {
  const base = /^0x[0-9a-f]+$/i.test(ref) ? BigInt(ref) : /^\d+$/.test(ref) ? BigInt(ref) : undefined;
  if (base === undefined) throw new Error(`"${ref}" is not a memory address.`);
  const at = base + BigInt(offset);
  return at < 0n ? 0n : at;
}

/**
 * The memory and disassembly views: reads (from QEMU directly when it can serve them, see
 * `fastRead`), writes, and instructions around an address, with requests VS Code cancels noticed
 * between chunks.
 */
export class MemoryView {
  /** Requests VS Code cancelled (long reads look here between chunks). */
  private readonly cancelled = new Set<number>();
  /** The name a person knows a function by (OCaml's `Hello.depth` for `camlHello__depth_88`). */
  private functionName: (func: string) => string = (func) => func;

  constructor(
    private readonly host: GdbHost,
    private readonly sources: SourcePaths,
    private readonly opts: { fastRead: () => FastRead | undefined; written: () => void; symbols: () => string | undefined },
  ) {
    // What was disassembled holds until the guest runs again. At a stop, the image's code is read
    // (once, after the stop is handled) so that the Disassembly view never waits for it.
    host.on('exec', (rec) => {
      if (rec.asyncClass === 'running') this.disassembled.clear();
      else if (rec.asyncClass === 'stopped' && !this.code) setImmediate(() => void this.imageCode().then((c) => c && warmDecoder()));
    });
  }

  /** Instructions decoded at this stop (disassembly.ts). */
  private readonly disassembled = new DisassemblyCache();

  async read(args: DebugProtocol.ReadMemoryArguments, seq: number | undefined): Promise<DebugProtocol.ReadMemoryResponse['body']> {
    try {
      const gdb = this.host.require();
      const address = parseMemoryReference(args.memoryReference, args.offset);
      const r = await readMemory(gdb, address, args.count, {
        fastRead: this.opts.fastRead(),
        cancelled: () => seq !== undefined && this.cancelled.has(seq),
      });
      return { address: `0x${r.address.toString(16)}`, data: r.data.toString('base64'), unreadableBytes: r.unreadableBytes || undefined };
    } finally {
      if (seq !== undefined) this.cancelled.delete(seq);
    }
  }

  /** Writes guest memory; returns the address written and the number of bytes. */
  async write(args: DebugProtocol.WriteMemoryArguments): Promise<{ address: string; bytesWritten: number }> {
    const gdb = this.host.require();
    const address = parseMemoryReference(args.memoryReference, args.offset);
    const bytesWritten = await writeMemory(gdb, address, Buffer.from(args.data, 'base64'));
    this.disassembled.clear();
    this.opts.written();
    return { address: `0x${address.toString(16)}`, bytesWritten };
  }

  /** How functions are named in the Disassembly view: the language's name, then the linker's when they differ. */
  setFunctionNames(name: (func: string) => string): void {
    this.functionName = name;
  }

  async disassemble(args: DebugProtocol.DisassembleArguments): Promise<DebugProtocol.DisassembledInstruction[]> {
    const gdb = this.host.require();
    const base = parseMemoryReference(args.memoryReference, args.offset);
    const code = await this.imageCode();
    const instructions = await disassemble(gdb, base, args.instructionOffset ?? 0, args.instructionCount, (name) => this.sources.display(name), this.disassembled, code);
    for (const d of instructions) {
      const shown = d.symbol && this.functionName(d.symbol);
      if (d.symbol && shown !== d.symbol) d.symbol = `${shown} (${d.symbol})`;
    }
    return instructions;
  }

  /** The symbols file's code, read once (undefined when it cannot be read: windows are then guessed). */
  private code: { path: string; code: Promise<ImageCode | undefined> } | undefined;

  private imageCode(): Promise<ImageCode | undefined> {
    const path = this.opts.symbols();
    if (!path) return Promise.resolve(undefined);
    if (this.code?.path !== path) this.code = { path, code: ImageCode.read(path).catch(() => undefined) };
    return this.code.code;
  }

  cancel(requestId: number | undefined): void {
    if (requestId !== undefined) this.cancelled.add(requestId);
  }
}
