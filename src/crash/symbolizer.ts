/**
 * Addresses → function, file, line and inlined callers, from an image's DWARF,
 * through one long-lived llvm-symbolizer or addr2line process per image.
 */
import { access, constants } from 'node:fs/promises';
import { findExecutable } from './findExecutable';
import { ElfError, readElfInfo, type ElfInfo } from '../elf';
import { LineProcess } from './lineProcess';
import { addr2line, llvmSymbolizer, type Backend, type BackendName, type Resolution } from './symbolizerBackends';
import type { CrashFrame, CrashReport, SourceLocation } from './report';
import { displayName } from '../ocaml/names';

export type { BackendName } from './symbolizerBackends';

export interface SymbolizeRequest {
  /** bigint, number, or a hex string (`0x…`; bare digits are read as hex). */
  address: bigint | number | string;
  /** A return address (a caller's frame): looked up at address - 1, inside the call instruction. */
  isReturnAddress?: boolean;
}

export interface SymbolizedFrame extends SourceLocation {
  /** The address asked about, canonical hex. */
  address: string;
  /** The address actually looked up (address - 1 for return addresses). */
  lookupAddress: string;
  /** Functions the innermost one was inlined into, innermost caller first. */
  inlinedBy: SourceLocation[];
}

export interface SymbolizerOptions {
  /** Which tool to use; `auto` prefers llvm-symbolizer (its JSON answers are unambiguous). */
  backend?: BackendName | 'auto';
  /** Path of the tool, when it is not on PATH under its usual name. */
  toolPath?: string;
  /** Deadline for one batch of addresses (default 10 s). */
  timeoutMs?: number;
  /** Most cached answers (default 10000). */
  cacheSize?: number;
}

export class SymbolizerError extends Error {}

const NO_DEBUG_INFO = 'image has no debug information';
const LLVM_NAMES = ['llvm-symbolizer', ...Array.from({ length: 12 }, (_, i) => `llvm-symbolizer-${20 - i}`)];
const MAX_RESTARTS = 3;

export class Symbolizer {
  private process?: LineProcess;
  private restarts = 0;
  private readonly cache = new Map<bigint, Resolution>();
  private disposed = false;

  private constructor(
    readonly elfPath: string,
    readonly elf: ElfInfo,
    readonly backend: BackendName | undefined,
    private readonly tool: string | undefined,
    private readonly impl: Backend | undefined,
    private readonly timeoutMs: number,
    private readonly cacheSize: number,
  ) {}

  /**
   * Opens an image. Rejects with a SymbolizerError when the file is missing or
   * not an ELF, or when no symbolizer tool is installed.
   */
  static async open(elfPath: string, options: SymbolizerOptions = {}): Promise<Symbolizer> {
    try {
      await access(elfPath, constants.R_OK);
    } catch {
      throw new SymbolizerError(`cannot read the image ${elfPath}`);
    }
    let elf: ElfInfo;
    try {
      elf = await readElfInfo(elfPath);
    } catch (err) {
      throw new SymbolizerError(err instanceof ElfError ? err.message : `cannot read the image ${elfPath}: ${(err as Error).message}`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    const cacheSize = options.cacheSize ?? 10_000;
    if (!elf.hasDebugInfo && !elf.hasSymbols && !elf.hasDynamicSymbols && !elf.hasDebugLink) {
      // Nothing to look up: answer every address with "unknown" and a note, without a process.
      return new Symbolizer(elfPath, elf, undefined, undefined, undefined, timeoutMs, cacheSize);
    }
    const { backend, tool } = pickBackend(options);
    return new Symbolizer(elfPath, elf, backend.name, tool, backend, timeoutMs, cacheSize);
  }

  /** A remark for a human when the image cannot give file and line. */
  get note(): string | undefined {
    if (this.elf.hasDebugInfo) return undefined;
    if (this.elf.hasDebugLink) return `${NO_DEBUG_INFO} (it names a separate debug file; pass that file as the symbols)`;
    if (this.elf.hasSymbols) return `${NO_DEBUG_INFO}; function names come from the symbol table`;
    return NO_DEBUG_INFO;
  }

  /** Symbolizes addresses in one batch; answers are cached, so repeated addresses cost nothing. */
  async symbolize(requests: readonly SymbolizeRequest[]): Promise<SymbolizedFrame[]> {
    if (this.disposed) throw new SymbolizerError('the symbolizer was disposed');
    const lookups = requests.map((r) => {
      const address = toBigInt(r.address);
      const lookup = r.isReturnAddress && address > 0n ? address - 1n : address;
      return { address, lookup };
    });
    // Addresses outside the image's code would only get the nearest symbol's name, which is wrong.
    const missing = [...new Set(lookups.map((l) => l.lookup).filter((a) => !this.cache.has(a) && this.isCode(a)))];
    if (missing.length > 0 && this.impl) {
      const answers = await this.query(missing);
      missing.forEach((a, i) => this.remember(a, answers[i] ?? []));
    }
    return lookups.map(({ address, lookup }) => {
      const [inner, ...outer] = this.cache.get(lookup) ?? [];
      return { address: hex(address), lookupAddress: hex(lookup), ...inner, inlinedBy: outer };
    });
  }

  /** Whether an address (hex string) lies in the image's code; true when the image does not say where its code is. */
  inCode(address: string): boolean {
    try {
      return this.isCode(toBigInt(address));
    } catch {
      return false;
    }
  }

  /** How many lookups are cached. */
  get cachedAddresses(): number {
    return this.cache.size;
  }

  /** Ends the helper process. */
  dispose(): void {
    this.disposed = true;
    this.process?.dispose();
    this.process = undefined;
  }

  private async query(addresses: bigint[]): Promise<Resolution[]> {
    const impl = this.impl as Backend;
    if (!this.process || !this.process.running) {
      if (this.process) {
        if (++this.restarts > MAX_RESTARTS) throw new SymbolizerError(`${impl.name} keeps failing; giving up on ${this.elfPath}`);
        this.process.dispose();
      }
      this.process = new LineProcess(this.tool as string, impl.args(this.elfPath), impl.name);
    }
    try {
      // Bounded batches keep each answer under its deadline.
      const out: Resolution[] = [];
      for (let i = 0; i < addresses.length; i += 256) {
        const batch = addresses.slice(i, i + 256);
        out.push(...(await this.process.request(impl.input(batch), impl.reader(batch.length), this.timeoutMs)));
      }
      return out;
    } catch (err) {
      throw new SymbolizerError((err as Error).message);
    }
  }

  private isCode(address: bigint): boolean {
    const ranges = this.elf.code;
    return ranges.length === 0 || ranges.some((r) => address >= r.start && address < r.end);
  }

  private remember(address: bigint, answer: Resolution): void {
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as bigint);
    this.cache.set(address, answer);
  }
}

function pickBackend(options: SymbolizerOptions): { backend: Backend; tool: string } {
  const want = options.backend ?? 'auto';
  if (options.toolPath) {
    const tool = findExecutable(options.toolPath);
    if (!tool) throw new SymbolizerError(`symbolizer ${options.toolPath} not found`);
    const backend = want === 'addr2line' || (want === 'auto' && /addr2line[^/]*$/.test(tool)) ? addr2line : llvmSymbolizer;
    return { backend, tool };
  }
  if (want !== 'addr2line') {
    for (const name of LLVM_NAMES) {
      const tool = findExecutable(name);
      if (tool) return { backend: llvmSymbolizer, tool };
    }
    if (want === 'llvm-symbolizer') throw new SymbolizerError('llvm-symbolizer is not installed');
  }
  const tool = findExecutable('addr2line');
  if (tool) return { backend: addr2line, tool };
  throw new SymbolizerError('neither llvm-symbolizer nor addr2line is installed (install llvm or binutils)');
}

function toBigInt(address: bigint | number | string): bigint {
  if (typeof address === 'bigint') return address;
  if (typeof address === 'number') {
    if (!Number.isSafeInteger(address) || address < 0) throw new SymbolizerError(`not an address: ${address}`);
    return BigInt(address);
  }
  const m = /^(?:0x)?([0-9a-f]{1,16})$/i.exec(address.trim());
  if (!m) throw new SymbolizerError(`not an address: ${address}`);
  return BigInt(`0x${m[1]}`);
}

const hex = (a: bigint): string => `0x${a.toString(16)}`;

/**
 * A copy of the report with every addressed frame symbolized (function, file,
 * line, inlinedBy). Frames the image knows nothing about keep what the console
 * said; a note explains an image without debug information.
 */
export async function symbolizeReport(report: CrashReport, symbolizer: Symbolizer): Promise<CrashReport> {
  const indexes: number[] = [];
  const requests: SymbolizeRequest[] = [];
  // Words picked out of a stack dump that are not code addresses of this image were not return addresses.
  const kept = report.frames.filter((f) => !f.fromStackDump || symbolizer.inCode(f.address));
  kept.forEach((f, i) => {
    if (!f.address) return;
    indexes.push(i);
    requests.push({ address: f.address, isReturnAddress: f.returnAddress === true });
  });
  const frames: CrashFrame[] = kept.map((f) => ({ ...f }));
  const notes = [...(report.notes ?? [])];
  const note = symbolizer.note;
  if (note && requests.length > 0 && !notes.includes(note)) notes.push(note);
  if (requests.length > 0) {
    const answers = await symbolizer.symbolize(requests);
    answers.forEach((answer, k) => {
      const frame = frames[indexes[k]];
      if (answer.function !== undefined) {
        // OCaml functions read as OCaml (`Hello.depth`); the linker's name stays with the frame.
        const shown = displayName(answer.function);
        frame.function = shown;
        if (shown !== answer.function) frame.linkageName = answer.function;
      }
      if (answer.file !== undefined) frame.file = answer.file;
      if (answer.line !== undefined) frame.line = answer.line;
      if (answer.inlinedBy.length > 0) frame.inlinedBy = answer.inlinedBy;
    });
  }
  const out: CrashReport = { ...report, registers: { ...report.registers }, frames };
  if (notes.length > 0) out.notes = notes;
  return out;
}
