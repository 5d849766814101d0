/**
 * Typed wrappers for the MI commands the adapter uses, one function per command, so that MI syntax
 * (and the few gdb CLI commands that have no MI form) lives here and nowhere else.
 */
import type { Gdb, MiResult } from './gdb';
import { miQuote } from './quote';
import type { MiTuple, MiValue } from './types';

const str = (v: MiValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const tuple = (v: MiValue | undefined): MiTuple | undefined =>
  v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
const list = (v: MiValue | undefined): MiValue[] => (Array.isArray(v) ? v : []);
const int = (v: MiValue | undefined): number | undefined => {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number.parseInt(s, 10);
  return Number.isFinite(n) ? n : undefined;
};

/** Where a command runs: gdb's --thread/--frame options. */
export interface FrameContext {
  threadId: number;
  level: number;
}
const ctx = (c: FrameContext | undefined): string => (c ? `--thread ${c.threadId} --frame ${c.level} ` : '');

// ---- target -------------------------------------------------------------------------------------

export function fileExecAndSymbols(gdb: Gdb, path: string): Promise<MiResult> {
  return gdb.send(`-file-exec-and-symbols ${miQuote(path)}`, 60_000);
}

/** gdb hands the target text to its CLI as it is (quotes would become part of the path), so it must be one word. */
export function targetSelectRemote(gdb: Gdb, target: string): Promise<MiResult> {
  if (/[\s"\\]/.test(target)) {
    return Promise.reject(new Error(`gdb cannot connect to "${target}": the target may not contain spaces, quotes or backslashes.`));
  }
  return gdb.send(`-target-select remote ${target}`, 20_000);
}

export function targetDetach(gdb: Gdb): Promise<MiResult> {
  return gdb.send('-target-detach', 5_000);
}

/** Leaves the target without resuming or killing it (its QEMU is about to be replaced). */
export function targetDisconnect(gdb: Gdb): Promise<MiResult> {
  return gdb.send('-target-disconnect');
}

/** Kills the target (an attached guest the user chose to end). */
export function killTarget(gdb: Gdb, timeoutMs?: number): Promise<MiResult> {
  return cliCommand(gdb, 'kill', timeoutMs);
}

/** Where gdb resolves relative paths (the launch's cwd). */
export function environmentCd(gdb: Gdb, directory: string): Promise<MiResult> {
  return gdb.send(`-environment-cd ${miQuote(directory)}`);
}

/** A command for the remote stub's monitor (QEMU's human monitor). */
export function monitor(gdb: Gdb, command: string, timeoutMs?: number): Promise<MiResult> {
  return cliCommand(gdb, `monitor ${command}`, timeoutMs);
}

/** The machine changed behind gdb's back (a reset): registers and memory it cached are stale. */
export async function flushCaches(gdb: Gdb): Promise<void> {
  await cliCommand(gdb, 'maintenance flush register-cache');
  await cliCommand(gdb, 'maintenance flush dcache').catch(() => undefined);
}

export function gdbSet(gdb: Gdb, variable: string, value: string): Promise<MiResult> {
  return gdb.send(`-gdb-set ${variable} ${value}`);
}

/**
 * Where the source line holding `address` starts, or undefined when gdb knows no line there. A line
 * can have several line-table entries back to back (one per column); the walk goes back over all of
 * them. `info line` has no MI equivalent.
 */
export async function lineStart(gdb: Gdb, address: string): Promise<string | undefined> {
  let at = BigInt(address);
  let where: string | undefined;
  let start: bigint | undefined;
  for (let i = 0; i < 16 && at > 0n; i++) {
    const r = await cliCommand(gdb, `info line *0x${at.toString(16)}`);
    const m = /Line (\d+) of "([^"]*)"\s+starts at address (0x[0-9a-f]+)/i.exec(r.console);
    if (!m || (where !== undefined && where !== `${m[2]}:${m[1]}`)) break;
    where = `${m[2]}:${m[1]}`;
    start = BigInt(m[3]!);
    at = start - 1n;
  }
  return start === undefined ? undefined : `0x${start.toString(16)}`;
}

/** Runs a CLI command; its console output is in the result's `console`. */
export function cliCommand(gdb: Gdb, command: string, timeoutMs?: number): Promise<MiResult> {
  return gdb.send(`-interpreter-exec console ${miQuote(command)}`, timeoutMs);
}

// ---- breakpoints -------------------------------------------------------------------------------

export interface MiBreakpoint {
  number: string;
  addr?: string;
  func?: string;
  file?: string;
  fullname?: string;
  line?: number;
  pending: boolean;
}

function toBreakpoint(t: MiTuple): MiBreakpoint {
  // With several locations (MI3), the first resolved one speaks for the breakpoint.
  const loc = tuple(list(t.locations)[0]) ?? t;
  return {
    number: str(t.number) ?? '',
    addr: str(loc.addr),
    func: str(loc.func),
    file: str(loc.file),
    fullname: str(loc.fullname),
    line: int(loc.line),
    pending: str(t.addr) === '<PENDING>' || t.pending !== undefined,
  };
}

export interface BreakInsertOptions {
  condition?: string;
  ignoreCount?: number;
  temporary?: boolean;
  hardware?: boolean;
  /** Keep a breakpoint whose location is unknown yet (default true); false makes gdb refuse it. */
  pending?: boolean;
}

export async function breakInsert(gdb: Gdb, location: string, opts: BreakInsertOptions = {}): Promise<MiBreakpoint> {
  const flags = opts.pending === false ? [] : ['-f'];
  if (opts.temporary) flags.push('-t');
  if (opts.hardware) flags.push('-h');
  if (opts.condition) flags.push('-c', miQuote(opts.condition));
  if (opts.ignoreCount) flags.push('-i', String(opts.ignoreCount));
  const r = await gdb.send(`-break-insert ${flags.join(' ')} ${miQuote(location)}`);
  return toBreakpoint(tuple(r.results.bkpt) ?? {});
}

export async function breakDelete(gdb: Gdb, numbers: string[]): Promise<void> {
  if (numbers.length > 0) await gdb.send(`-break-delete ${numbers.join(' ')}`);
}

/** Turns every breakpoint off (`false`) or on again (`true`), keeping them. */
export async function breakEnableAll(gdb: Gdb, enabled: boolean): Promise<void> {
  await gdb.send(enabled ? '-break-enable' : '-break-disable');
}

// ---- execution ----------------------------------------------------------------------------------

const threadOpt = (threadId: number | undefined): string => (threadId === undefined ? '' : ` --thread ${threadId}`);

/** `reverse` runs backwards (only a target with history, a QEMU replay, accepts it); gdb reads --thread only first. */
const rev = (reverse: boolean): string => (reverse ? ' --reverse' : '');

export const execContinue = (gdb: Gdb, threadId?: number, reverse = false): Promise<MiResult> =>
  gdb.send(`-exec-continue${threadOpt(threadId)}${rev(reverse)}`);
export const execNext = (gdb: Gdb, threadId?: number, instruction = false, reverse = false): Promise<MiResult> =>
  gdb.send(`-exec-next${instruction ? '-instruction' : ''}${threadOpt(threadId)}${rev(reverse)}`);
export const execStep = (gdb: Gdb, threadId?: number, instruction = false, reverse = false): Promise<MiResult> =>
  gdb.send(`-exec-step${instruction ? '-instruction' : ''}${threadOpt(threadId)}${rev(reverse)}`);
export const execFinish = (gdb: Gdb, threadId?: number, reverse = false): Promise<MiResult> =>
  gdb.send(`-exec-finish${threadOpt(threadId)}${rev(reverse)}`);
export const execInterrupt = (gdb: Gdb): Promise<MiResult> => gdb.send('-exec-interrupt --all', 5_000);

/** The fields of a `*stopped` record the adapter decides by. */
export interface MiStop {
  /** gdb's reason (`breakpoint-hit`, `end-stepping-range`, `signal-received`, `exited-normally`, …); empty when it gave none. */
  reason: string;
  threadId: number;
  /** The breakpoint hit, for `breakpoint-hit`. */
  breakpoint?: string;
  /** The signal, for `signal-received` (`SIGINT`, `SIGTRAP`, `SIGQUIT`, …). */
  signal?: string;
  /** The pc, as gdb wrote it. */
  pc?: string;
}

export function stopOf(results: MiTuple): MiStop {
  return {
    reason: str(results.reason) ?? '',
    threadId: int(results['thread-id']) || 1,
    breakpoint: str(results.bkptno),
    signal: str(results['signal-name']),
    pc: str(tuple(results.frame)?.addr),
  };
}

// ---- symbols and sources ------------------------------------------------------------------------

export interface MiFunctionSymbol {
  name: string;
  /** The source file DWARF names (absent for a function only the ELF symbol table knows). */
  file?: string;
  fullname?: string;
  line?: number;
  /** For a function without debug information. */
  address?: string;
}

/**
 * Functions whose name matches `regex` exactly as gdb knows them: from DWARF (so a function the ELF
 * symbol table renamed or never had is found) and from the symbol table.
 */
export async function symbolInfoFunctions(gdb: Gdb, regex: string): Promise<MiFunctionSymbol[]> {
  const r = await gdb.send(`-symbol-info-functions --name ${miQuote(regex)}`, 30_000);
  const symbols = tuple(r.results.symbols) ?? {};
  const out: MiFunctionSymbol[] = [];
  for (const fileEntry of list(symbols.debug)) {
    const f = tuple(fileEntry) ?? {};
    for (const sym of list(f.symbols)) {
      const t = tuple(sym) ?? {};
      out.push({ name: str(t.name) ?? '', file: str(f.filename), fullname: str(f.fullname), line: int(t.line) });
    }
  }
  for (const sym of list(symbols.nondebugging)) {
    const t = tuple(sym) ?? {};
    out.push({ name: str(t.name) ?? '', address: str(t.address) });
  }
  return out;
}

export interface MiSourceFile {
  file: string;
  fullname?: string;
}

/** Every source file the debug information names, as gdb names it. */
export async function fileListExecSourceFiles(gdb: Gdb): Promise<MiSourceFile[]> {
  const r = await gdb.send('-file-list-exec-source-files', 30_000);
  return list(r.results.files).flatMap((v) => {
    const t = tuple(v) ?? {};
    const file = str(t.file);
    return file ? [{ file, fullname: str(t.fullname) }] : [];
  });
}

// ---- threads and stack --------------------------------------------------------------------------

export interface MiThread {
  id: number;
  targetId: string;
  name?: string;
  /** The stub's own words about the thread; QEMU says `CPU#0 [running]`. */
  details?: string;
  state: string;
  core?: string;
  frame?: MiFrame;
}

export interface MiFrame {
  level: number;
  addr: string;
  func?: string;
  file?: string;
  fullname?: string;
  line?: number;
  from?: string;
}

function toFrame(t: MiTuple): MiFrame {
  return {
    level: int(t.level) ?? 0,
    addr: str(t.addr) ?? '0x0',
    func: str(t.func),
    file: str(t.file),
    fullname: str(t.fullname),
    line: int(t.line),
    from: str(t.from),
  };
}

export async function threadInfo(gdb: Gdb): Promise<{ threads: MiThread[]; currentThreadId?: number }> {
  const r = await gdb.send('-thread-info');
  const threads = list(r.results.threads).map((v) => {
    const t = tuple(v) ?? {};
    const frame = tuple(t.frame);
    return {
      id: int(t.id) ?? 0,
      targetId: str(t['target-id']) ?? '',
      name: str(t.name),
      details: str(t.details),
      state: str(t.state) ?? 'unknown',
      core: str(t.core),
      frame: frame ? toFrame(frame) : undefined,
    };
  });
  return { threads, currentThreadId: int(r.results['current-thread-id']) };
}

export async function stackListFrames(gdb: Gdb, threadId: number, low: number, high: number): Promise<MiFrame[]> {
  const r = await gdb.send(`-stack-list-frames --thread ${threadId} ${low} ${high}`);
  return list(r.results.stack).map((f) => toFrame(tuple(f) ?? {}));
}

export interface MiVariable {
  name: string;
  arg: boolean;
  type?: string;
  /** Missing for aggregates with --simple-values. */
  value?: string;
}

export async function stackListVariables(gdb: Gdb, at: FrameContext): Promise<MiVariable[]> {
  const r = await gdb.send(`-stack-list-variables ${ctx(at)}--simple-values`);
  return list(r.results.variables).map((v) => {
    const t = tuple(v) ?? {};
    return { name: str(t.name) ?? '', arg: str(t.arg) === '1', type: str(t.type), value: str(t.value) };
  });
}

// ---- variable objects ---------------------------------------------------------------------------

export interface VarObject {
  name: string;
  numchild: number;
  value?: string;
  type?: string;
  exp?: string;
  dynamic: boolean;
  hasMore: boolean;
}

function toVarObject(t: MiTuple): VarObject {
  return {
    name: str(t.name) ?? '',
    numchild: int(t.numchild) ?? 0,
    value: str(t.value),
    type: str(t.type),
    exp: str(t.exp),
    dynamic: str(t.dynamic) === '1',
    hasMore: str(t.has_more) === '1',
  };
}

/** Creates a variable object; with a `name` of the caller's choosing, commands on it can follow at once. */
export async function varCreate(gdb: Gdb, expression: string, at?: FrameContext, name = '-'): Promise<VarObject> {
  const r = await gdb.send(`-var-create ${ctx(at)}${name === '-' ? '-' : miQuote(name)} * ${miQuote(expression)}`);
  return toVarObject(r.results);
}

export async function varListChildren(gdb: Gdb, name: string): Promise<VarObject[]> {
  const r = await gdb.send(`-var-list-children --all-values ${miQuote(name)}`);
  return list(r.results.children).map((c) => toVarObject(tuple(c) ?? {}));
}

export async function varDelete(gdb: Gdb, name: string): Promise<void> {
  await gdb.send(`-var-delete ${miQuote(name)}`);
}

// ---- data ---------------------------------------------------------------------------------------

export async function dataEvaluateExpression(gdb: Gdb, expression: string, at?: FrameContext): Promise<string> {
  const r = await gdb.send(`-data-evaluate-expression ${ctx(at)}${miQuote(expression)}`);
  return str(r.results.value) ?? '';
}

export async function dataListRegisterNames(gdb: Gdb): Promise<string[]> {
  const r = await gdb.send('-data-list-register-names');
  return list(r.results['register-names']).map((v) => str(v) ?? '');
}

export async function dataListRegisterValues(
  gdb: Gdb,
  format: 'x' | 'N' | 'r',
  at?: FrameContext,
): Promise<{ number: number; value: string }[]> {
  const r = await gdb.send(`-data-list-register-values ${ctx(at)}${format}`);
  return list(r.results['register-values']).map((v) => {
    const t = tuple(v) ?? {};
    return { number: int(t.number) ?? -1, value: str(t.value) ?? '' };
  });
}

// ---- memory -------------------------------------------------------------------------------------

export interface MemoryBlock {
  begin: bigint;
  end: bigint;
  contents: Buffer;
}

/** Reads what is readable of [address, address+count): gdb answers with the readable blocks only. */
export async function dataReadMemoryBytes(gdb: Gdb, address: bigint, count: number): Promise<MemoryBlock[]> {
  const r = await gdb.send(`-data-read-memory-bytes 0x${address.toString(16)} ${count}`, 30_000);
  return list(r.results.memory).flatMap((v) => {
    const t = tuple(v);
    const begin = str(t?.begin);
    const end = str(t?.end);
    const contents = str(t?.contents);
    if (!begin || !end || contents === undefined) return [];
    return [{ begin: BigInt(begin), end: BigInt(end), contents: Buffer.from(contents, 'hex') }];
  });
}

export async function dataWriteMemoryBytes(gdb: Gdb, address: bigint, data: Buffer): Promise<void> {
  if (data.length === 0) return;
  await gdb.send(`-data-write-memory-bytes 0x${address.toString(16)} ${data.toString('hex')}`, 30_000);
}

// ---- disassembly --------------------------------------------------------------------------------

export interface MiInstruction {
  address: bigint;
  funcName?: string;
  offset?: number;
  opcodes: string;
  /** Where the next instruction starts (its bytes counted from its opcodes; 1 when gdb gave none). */
  end: bigint;
  inst: string;
  file?: string;
  fullname?: string;
  line?: number;
}

function toInstruction(t: MiTuple, src?: { file?: string; fullname?: string; line?: number }): MiInstruction {
  const address = BigInt(str(t.address) ?? '0');
  const opcodes = str(t.opcodes) ?? '';
  // gdb writes the bytes as two hex digits each, one space apart ("48 89 e5": 8 characters, 3 bytes).
  const trimmed = opcodes.trim();
  const size = !trimmed ? 1 : (trimmed.length + 1) % 3 === 0 && (trimmed.length === 2 || trimmed[2] === ' ') ? (trimmed.length + 1) / 3 : trimmed.split(/\s+/).length;
  return {
    address,
    funcName: str(t['func-name']),
    offset: int(t.offset),
    opcodes,
    end: address + BigInt(size),
    inst: str(t.inst) ?? '',
    file: src?.file,
    fullname: src?.fullname,
    line: src?.line,
  };
}

/** Disassembles [start, end) with raw opcodes and, where known, the source line of each instruction. */
export async function dataDisassemble(gdb: Gdb, start: bigint, end: bigint): Promise<MiInstruction[]> {
  const r = await gdb.send(`-data-disassemble -s 0x${start.toString(16)} -e 0x${end.toString(16)} -- 5`, 30_000);
  const out: MiInstruction[] = [];
  for (const v of list(r.results.asm_insns)) {
    const t = tuple(v) ?? {};
    if (t.line_asm_insn !== undefined) {
      // Source-centric: a source line with its instructions.
      const src = { file: str(t.file), fullname: str(t.fullname), line: int(t.line) };
      for (const i of list(t.line_asm_insn)) out.push(toInstruction(tuple(i) ?? {}, src));
    } else out.push(toInstruction(t));
  }
  // Source-centric output lists optimised code by line, not always by address.
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.address < out[i - 1]!.address) return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }
  return out;
}

// ---- watchpoints --------------------------------------------------------------------------------

/** A watchpoint; with `at`, in that frame (a local is watched in its own scope). */
export async function breakWatch(gdb: Gdb, expression: string, access: 'read' | 'write' | 'readWrite', at?: FrameContext): Promise<string> {
  const flag = access === 'read' ? '-r ' : access === 'readWrite' ? '-a ' : '';
  const r = await gdb.send(`-break-watch ${ctx(at)}${flag}${miQuote(expression)}`);
  const wpt = tuple(r.results.wpt) ?? tuple(r.results['hw-rwpt']) ?? tuple(r.results['hw-awpt']) ?? {};
  return str(wpt.number) ?? '';
}

// ---- completion ---------------------------------------------------------------------------------

export async function complete(gdb: Gdb, text: string): Promise<string[]> {
  const r = await gdb.send(`-complete ${miQuote(text)}`);
  return list(r.results.matches).map((v) => str(v) ?? '').filter(Boolean);
}

export async function varSetFormat(gdb: Gdb, name: string, format: 'hexadecimal' | 'natural'): Promise<string> {
  const r = await gdb.send(`-var-set-format ${miQuote(name)} ${format}`);
  return str(r.results.value) ?? '';
}

// ---- registers of a thread's innermost frame (guest threads) -------------------------------------

/** Integer values of registers of a thread's innermost frame (`(long)$rip`…), sent together. */
export async function readRegisters(gdb: Gdb, threadId: number, names: readonly string[]): Promise<Map<string, bigint>> {
  const at = { threadId, level: 0 };
  const values = await Promise.all(names.map((n) => dataEvaluateExpression(gdb, `(long)$${n}`, at)));
  return new Map(names.map((n, i) => [n, BigInt(values[i]!)]));
}

/**
 * Sets registers of a thread's innermost frame (the CPU's own registers), all in one evaluation
 * (`$rip=…,$rsp=…`). Always at frame 0: set in an outer frame, a callee-saved register would be
 * written where that frame saved it, in memory.
 */
export async function writeRegisters(gdb: Gdb, threadId: number, values: ReadonlyMap<string, bigint>): Promise<void> {
  if (values.size === 0) return;
  const text = [...values].map(([n, v]) => `$${n}=${BigInt.asIntN(64, v)}`).join(',');
  await dataEvaluateExpression(gdb, text, { threadId, level: 0 });
}
