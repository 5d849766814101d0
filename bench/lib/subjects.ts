/**
 * The three subjects of the live scenarios, each able to run one debug session against its own
 * QEMU: raw GDB/MI (the floor), our adapter over DAP, cdt-gdb-adapter over DAP.
 *
 * Every DAP session sends what VS Code sends; the raw session sends the MI commands our adapter
 * sends for the same requests (recorded from it, see bench/README.md), pipelined where they do not
 * depend on each other. Only the part each scenario names is timed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { CRASH_PATHS, EXCEPTION_FILTERS } from '../../src/adapter/crashPaths';
import { miQuote } from '../../src/mi/quote';
import type { MiTuple, MiValue } from '../../src/mi/types';
import { DapClient } from './dap';
import { startGuest, type Guest } from './qemu';
import { RawGdb } from './rawmi';

/** `ours`: the standalone adapter process; `inline`: the same adapter in the client's process, as VS Code's F5 runs it. */
export type SubjectName = 'raw' | 'ours' | 'inline' | 'cdt';

export interface Fixture {
  kernel: string;
  source: string;
  /** Line of each breakpoint marker, in the order the guest reaches them. */
  breakpoints: number[];
  ourAdapter: string;
  /** Our adapter as a library (InlineDebugSession), for the inline session start. */
  ourInline: string;
  cdtAdapter: string;
}

export interface Measured<T> {
  ms: number;
  check: T;
}

/** A subject that has no such request (capability missing): the scenario reports n/a. */
export const NA = 'n/a' as const;

export interface LiveSession {
  readonly name: SubjectName;
  /** Scenario 1 (attach): spawn → … → first stop. The guest must be up (its socket exists). */
  start(guest: Guest): Promise<number>;
  /** What VS Code asks at every stop: threads, and (withStack) the top 20 frames. Untimed. */
  afterStop(withStack: boolean): Promise<{ frameId: number; pc: string }>;
  /** continue → stopped. Untimed. */
  resume(): Promise<void>;
  /** The user removes the first breakpoint (the one in the stepping loop). Untimed. */
  dropFirstBreakpoint(): Promise<void>;
  stepCycle(): Promise<number>;
  deepStack(levels: number): Promise<Measured<{ frames: number; pc: string }>>;
  struct(frameId: number, name: string): Promise<Measured<{ variables: number; leaves: string }>>;
  evaluate(frameId: number, expressions: string[]): Promise<Measured<string[]>>;
  readMemory(address: number, count: number): Promise<Measured<{ bytes: number; sha256: string }> | typeof NA>;
  /** `count` instructions from `instructionOffset` instructions away from the pc (negative: before it). */
  disassemble(pc: string, count: number, instructionOffset: number): Promise<Measured<{ count: number; first: string }> | typeof NA>;
  close(): Promise<void>;
}

const now = (): number => performance.now();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

// ---- raw GDB/MI ---------------------------------------------------------------------------------

const str = (v: MiValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: MiValue | undefined): MiValue[] => (Array.isArray(v) ? v : []);
const tuple = (v: MiValue | undefined): MiTuple => (v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : {});
const CHAR_ARRAY = /^(const\s+)?(unsigned\s+|signed\s+)?char\s*\[\d+\]$/;

/** The MI commands our adapter sends when gdb starts (src/mi/gdb.ts, src/adapter/gdbHost.ts). */
function setupCommands(kernel: string): string[] {
  return [
    '-gdb-set pagination off',
    '-gdb-set confirm off',
    '-gdb-set width 0',
    '-gdb-set height 0',
    '-gdb-set print pretty off',
    '-enable-pretty-printing',
    `-file-exec-and-symbols ${miQuote(kernel)}`,
    '-gdb-set trust-readonly-sections on',
    '-gdb-set architecture i386:x86-64',
  ];
}

/** What our adapter inserts for VS Code's default exception filters (the crash paths). */
function crashBreakpointCommands(): string[] {
  const filters = new Set(EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));
  return CRASH_PATHS.filter((p) => filters.has(p.filter)).map(
    (p) => `-break-insert ${p.condition ? `-c ${miQuote(p.condition)} ` : ''}${miQuote(p.symbol)}`,
  );
}

export class RawSession implements LiveSession {
  readonly name = 'raw' as const;
  private gdb: RawGdb | undefined;
  private varobjs: string[] = [];

  constructor(private readonly fx: Fixture, private readonly record = false) {}

  get transcript(): Buffer | undefined {
    return this.gdb?.transcript ? Buffer.concat(this.gdb.transcript) : undefined;
  }

  async start(guest: Guest): Promise<number> {
    const t0 = now();
    const gdb = this.spawnAndSetup();
    await gdb.setup;
    await this.connectAndRun(gdb.gdb, guest.sock);
    return now() - t0;
  }

  /** Scenario 1 by hand: QEMU and gdb started together, then the same as attach. */
  static async launchByHand(fx: Fixture, cmdline: string): Promise<{ ms: number; session: RawSession; guest: Guest }> {
    const t0 = now();
    const guest = startGuest(fx.kernel, cmdline);
    const session = new RawSession(fx);
    const gdb = session.spawnAndSetup();
    await Promise.all([guest.ready, gdb.setup]);
    await session.connectAndRun(gdb.gdb, guest.sock);
    return { ms: now() - t0, session, guest };
  }

  private spawnAndSetup(): { gdb: RawGdb; setup: Promise<unknown> } {
    const gdb = RawGdb.spawn(this.record);
    this.gdb = gdb;
    // The first command also waits for gdb to come up; the rest go in one write.
    const setup = gdb.send('-gdb-set mi-async on').then(() => gdb.sendAll(setupCommands(this.fx.kernel)));
    setup.catch(() => undefined);
    return { gdb, setup };
  }

  private async connectAndRun(gdb: RawGdb, sock: string): Promise<void> {
    await gdb.send(`-target-select remote ${sock}`);
    // setBreakpoints
    await gdb.sendAll(this.fx.breakpoints.map((line) => `-break-insert -f ${miQuote(`${this.fx.source}:${line}`)}`));
    // setExceptionBreakpoints (crash paths absent from this image answer ^error)
    await Promise.all(crashBreakpointCommands().map((c) => gdb.sendSettled(c)));
    // configurationDone
    const stopped = gdb.nextStop();
    await gdb.send('-exec-continue');
    await stopped;
  }

  private g(): RawGdb {
    if (!this.gdb) throw new Error('raw gdb not started');
    return this.gdb;
  }

  async afterStop(withStack: boolean): Promise<{ frameId: number; pc: string }> {
    const gdb = this.g();
    await gdb.send('-thread-info');
    if (!withStack) return { frameId: 0, pc: '' };
    const r = await gdb.send('-stack-list-frames --thread 1 0 20');
    return { frameId: 0, pc: str(tuple(list(r.results.stack)[0]).addr) ?? '' };
  }

  async resume(): Promise<void> {
    const gdb = this.g();
    const stopped = gdb.nextStop();
    await gdb.send('-exec-continue');
    // Like the adapter: variable objects of the last stop are deleted, not waited for.
    for (const v of this.varobjs.splice(0)) gdb.sendSettled(`-var-delete ${miQuote(v)}`);
    await stopped;
  }

  async dropFirstBreakpoint(): Promise<void> {
    // The breakpoints were inserted in marker order: the first one is number 1.
    await this.g().send('-break-delete 1');
  }

  async stepCycle(): Promise<number> {
    const gdb = this.g();
    const t0 = now();
    const stopped = gdb.nextStop();
    await gdb.send('-exec-next --thread 1');
    for (const v of this.varobjs.splice(0)) gdb.sendSettled(`-var-delete ${miQuote(v)}`);
    await stopped;
    await gdb.send('-thread-info');
    await gdb.send('-stack-list-frames --thread 1 0 20');
    const vars = await gdb.send('-stack-list-variables --thread 1 --frame 0 --simple-values');
    await this.previews(list(vars.results.variables).map((v) => ({ type: str(tuple(v).type), expr: str(tuple(v).name) })));
    return now() - t0;
  }

  async deepStack(levels: number): Promise<Measured<{ frames: number; pc: string }>> {
    const t0 = now();
    const r = await this.g().send(`-stack-list-frames --thread 1 0 ${levels}`);
    const frames = list(r.results.stack);
    return { ms: now() - t0, check: { frames: frames.length, pc: str(tuple(frames[0]).addr) ?? '' } };
  }

  /** Char arrays are shown as strings: one -data-evaluate-expression each, as the adapter does. */
  private async previews(vars: { type?: string; expr?: string }[]): Promise<void> {
    const gdb = this.g();
    await Promise.all(
      vars.filter((v) => v.expr && v.type && CHAR_ARRAY.test(v.type)).map((v) => gdb.sendSettled(`-data-evaluate-expression --thread 1 --frame 0 ${miQuote(v.expr!)}`)),
    );
  }

  async struct(_frameId: number, name: string): Promise<Measured<{ variables: number; leaves: string }>> {
    const gdb = this.g();
    const t0 = now();
    await gdb.send('-stack-list-variables --thread 1 --frame 0 --simple-values');
    const root = await gdb.send(`-var-create --thread 1 --frame 0 - * ${miQuote(name)}`);
    const rootName = str(root.results.name) ?? '';
    this.varobjs.push(rootName);
    let count = 0;
    const leaves: string[] = [];
    const expand = async (varobj: string, path: string, depth: number): Promise<void> => {
      const r = await gdb.send(`-var-list-children --all-values ${miQuote(varobj)}`);
      const children = list(r.results.children).map((c) => tuple(c));
      await this.previews(children.map((c) => ({ type: str(c.type), expr: `${path}.${str(c.exp)}` })));
      for (const c of children) {
        count++;
        const exp = str(c.exp) ?? '';
        const numchild = Number(str(c.numchild) ?? '0');
        if (numchild > 0 && depth < 6) await expand(str(c.name) ?? '', `${path}.${exp}`, depth + 1);
        else leaves.push(`${exp}=${str(c.value) ?? ''}`);
      }
    };
    await expand(rootName, name, 0);
    return { ms: now() - t0, check: { variables: count, leaves: leaves.join(' ') } };
  }

  async evaluate(_frameId: number, expressions: string[]): Promise<Measured<string[]>> {
    const gdb = this.g();
    const t0 = now();
    // As the adapter does for a scalar: one -data-evaluate-expression each, all written at once.
    const results = await gdb.sendAll(expressions.map((e) => `-data-evaluate-expression --thread 1 --frame 0 ${miQuote(e)}`));
    return { ms: now() - t0, check: results.map((r) => str(r.results.value) ?? '') };
  }

  async readMemory(address: number, count: number): Promise<Measured<{ bytes: number; sha256: string }>> {
    const t0 = now();
    const r = await this.g().send(`-data-read-memory-bytes 0x${address.toString(16)} ${count}`);
    const bytes = Buffer.concat(list(r.results.memory).map((m) => Buffer.from(str(tuple(m).contents) ?? '', 'hex')));
    return { ms: now() - t0, check: { bytes: bytes.length, sha256: sha(bytes) } };
  }

  async disassemble(pc: string, count: number, instructionOffset: number): Promise<Measured<{ count: number; first: string }>> {
    const gdb = this.g();
    // The floor: one command over exactly the bytes of the instructions shown (their boundaries
    // known beforehand from objdump, outside gdb), which no client can know and ask for less than.
    const [start, end] = instructionRange(this.fx.kernel, BigInt(pc), instructionOffset, count);
    const t0 = now();
    const r = await gdb.send(`-data-disassemble -s 0x${start.toString(16)} -e 0x${end.toString(16)} -- 5`);
    const insns: MiTuple[] = [];
    for (const src of list(r.results.asm_insns)) {
      const t = tuple(src);
      const lines = t.line_asm_insn !== undefined ? list(t.line_asm_insn) : [src];
      for (const i of lines) insns.push(tuple(i));
    }
    insns.sort((a, b) => (BigInt(str(a.address) ?? '0') < BigInt(str(b.address) ?? '0') ? -1 : 1));
    const shown = insns.slice(0, count);
    return { ms: now() - t0, check: { count: shown.length, first: str(shown[0]?.inst) ?? '' } };
  }

  async close(): Promise<void> {
    await this.gdb?.dispose();
  }
}

/** Instruction addresses of the image's `.text`, decoded in one linear sweep by objdump (per image). */
const textInstructions = new Map<string, bigint[]>();

/** [start, end) of the `count` instructions from `offset` instructions away from `pc`. */
function instructionRange(kernel: string, pc: bigint, offset: number, count: number): [bigint, bigint] {
  let addrs = textInstructions.get(kernel);
  if (!addrs) {
    const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-j', '.text', kernel], { encoding: 'utf8', maxBuffer: 64 << 20 });
    addrs = [...out.matchAll(/^\s*([0-9a-f]+):\t/gm)].map((m) => BigInt(`0x${m[1]}`));
    textInstructions.set(kernel, addrs);
  }
  const at = addrs.indexOf(pc);
  if (at < 0) throw new Error(`objdump has no instruction at 0x${pc.toString(16)}`);
  const first = Math.max(0, at + offset);
  const last = Math.min(addrs.length - 1, first + count);
  return [addrs[first]!, addrs[last]!];
}

// ---- DAP subjects -------------------------------------------------------------------------------

type Caps = DebugProtocol.Capabilities;

export class DapSession implements LiveSession {
  private dc: DapClient | undefined;
  private caps: Caps = {};
  private threadId = 1;

  /**
   * serverPort: talk to an adapter already running with --server (VS Code's debugServer), not a new
   * process; 'inline': run ours in this process, as VS Code's extension host does.
   */
  constructor(readonly name: 'ours' | 'cdt', private readonly fx: Fixture, private readonly serverPort?: number | 'inline') {}

  private c(): DapClient {
    if (!this.dc) throw new Error(`${this.name}: adapter not started`);
    return this.dc;
  }

  private attachArguments(guest: Guest): Record<string, unknown> {
    const sock = guest.sock;
    if (this.name === 'ours') return { name: 'bench', type: 'unikernel', request: 'attach', target: sock, symbols: this.fx.kernel, qmp: guest.qmp };
    // cdt-gdb-adapter's remote attach (debugTargetAdapter.js); gdb gets the same settings as ours.
    return {
      name: 'bench',
      type: 'gdbtarget',
      request: 'attach',
      gdb: 'gdb',
      gdbArguments: ['-nx', '-q'],
      program: this.fx.kernel,
      target: { type: 'remote', parameters: [sock] },
      preConnectCommands: ['set trust-readonly-sections on', 'set architecture i386:x86-64'],
    };
  }

  private spawn(): DapClient {
    this.dc = DapClient.spawn(this.name === 'ours' ? this.fx.ourAdapter : this.fx.cdtAdapter);
    return this.dc;
  }

  async start(guest: Guest): Promise<number> {
    const t0 = now();
    const dc =
      this.serverPort === undefined ? this.spawn()
      : this.serverPort === 'inline' ? (this.dc = DapClient.inline(this.fx.ourInline, this.fx.ourAdapter))
      : (this.dc = await DapClient.connect(this.serverPort));
    this.caps = await dc.initialize(this.name === 'ours' ? 'unikernel' : 'gdbtarget');
    const initialized = dc.waitEvent('initialized');
    await dc.request('attach', this.attachArguments(guest));
    await initialized;
    await this.configure();
    return now() - t0;
  }

  /** Scenario 1 for our launch request: QEMU start included. */
  async launch(cmdline: string): Promise<number> {
    const t0 = now();
    const dc = this.serverPort === 'inline' ? (this.dc = DapClient.inline(this.fx.ourInline, this.fx.ourAdapter)) : this.spawn();
    this.caps = await dc.initialize('unikernel');
    const initialized = dc.waitEvent('initialized');
    await dc.request('launch', { name: 'bench', type: 'unikernel', request: 'launch', kernel: this.fx.kernel, cmdline });
    await initialized;
    await this.configure();
    return now() - t0;
  }

  /** The configuration requests VS Code sends after `initialized`, then configurationDone → stopped. */
  private async configure(): Promise<void> {
    const dc = this.c();
    await dc.request('setBreakpoints', { source: { name: 'kernel.c', path: this.fx.source }, breakpoints: this.fx.breakpoints.map((line) => ({ line })), sourceModified: false });
    if (this.caps.supportsFunctionBreakpoints) await dc.request('setFunctionBreakpoints', { breakpoints: [] });
    if (this.caps.supportsDataBreakpoints) await dc.request('setDataBreakpoints', { breakpoints: [] });
    if (this.caps.supportsInstructionBreakpoints) await dc.request('setInstructionBreakpoints', { breakpoints: [] });
    const filters = this.caps.exceptionBreakpointFilters ?? [];
    if (filters.length > 0) await dc.request('setExceptionBreakpoints', { filters: filters.filter((f) => f.default).map((f) => f.filter) });
    const stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped');
    await dc.request('configurationDone');
    this.threadId = (await stopped).body.threadId ?? 1;
  }

  async afterStop(withStack: boolean): Promise<{ frameId: number; pc: string }> {
    const dc = this.c();
    await dc.request('threads');
    if (!withStack) return { frameId: 0, pc: '' };
    const r = await dc.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: this.threadId, startFrame: 0, levels: 20 });
    const top = r.body.stackFrames[0];
    return { frameId: top?.id ?? 0, pc: top?.instructionPointerReference ?? '' };
  }

  async resume(): Promise<void> {
    const dc = this.c();
    const stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped');
    await dc.request('continue', { threadId: this.threadId });
    this.threadId = (await stopped).body.threadId ?? this.threadId;
  }

  async dropFirstBreakpoint(): Promise<void> {
    await this.c().request('setBreakpoints', { source: { name: 'kernel.c', path: this.fx.source }, breakpoints: this.fx.breakpoints.slice(1).map((line) => ({ line })), sourceModified: false });
  }

  async stepCycle(): Promise<number> {
    const dc = this.c();
    const t0 = now();
    const stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped');
    await dc.request('next', { threadId: this.threadId });
    await stopped;
    await dc.request('threads');
    const st = await dc.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: this.threadId, startFrame: 0, levels: 20 });
    const scopes = await dc.request<DebugProtocol.ScopesResponse>('scopes', { frameId: st.body.stackFrames[0]?.id });
    for (const s of scopes.body.scopes.filter((x) => !x.expensive)) {
      await dc.request('variables', { variablesReference: s.variablesReference });
    }
    return now() - t0;
  }

  async deepStack(levels: number): Promise<Measured<{ frames: number; pc: string }>> {
    const t0 = now();
    const r = await this.c().request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: this.threadId, startFrame: 0, levels });
    const frames = r.body.stackFrames;
    return { ms: now() - t0, check: { frames: frames.length, pc: frames[0]?.instructionPointerReference ?? '' } };
  }

  async struct(frameId: number, name: string): Promise<Measured<{ variables: number; leaves: string }>> {
    const dc = this.c();
    const t0 = now();
    const scopes = await dc.request<DebugProtocol.ScopesResponse>('scopes', { frameId });
    const localsScope = scopes.body.scopes.find((s) => !s.expensive);
    if (!localsScope) throw new Error(`${this.name}: no locals scope`);
    const locals = await dc.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: localsScope.variablesReference });
    const root = locals.body.variables.find((v) => v.name === name);
    if (!root) throw new Error(`${this.name}: no local ${name}`);
    let count = 0;
    const leaves: string[] = [];
    const expand = async (ref: number, depth: number): Promise<void> => {
      const r = await dc.request<DebugProtocol.VariablesResponse>('variables', { variablesReference: ref });
      for (const v of r.body.variables) {
        count++;
        if (v.variablesReference > 0 && depth < 6) await expand(v.variablesReference, depth + 1);
        else leaves.push(`${v.name.replace(/^\[(\d+)\]$/, '$1')}=${v.value}`);
      }
    };
    await expand(root.variablesReference, 0);
    return { ms: now() - t0, check: { variables: count, leaves: leaves.join(' ') } };
  }

  async evaluate(frameId: number, expressions: string[]): Promise<Measured<string[]>> {
    const dc = this.c();
    const t0 = now();
    // VS Code evaluates all watch expressions at once.
    const results = await Promise.all(
      expressions.map((expression) => dc.request<DebugProtocol.EvaluateResponse>('evaluate', { expression, frameId, context: 'watch' })),
    );
    return { ms: now() - t0, check: results.map((r) => r.body.result) };
  }

  async readMemory(address: number, count: number): Promise<Measured<{ bytes: number; sha256: string }> | typeof NA> {
    if (!this.caps.supportsReadMemoryRequest) return NA;
    const t0 = now();
    const r = await this.c().request<DebugProtocol.ReadMemoryResponse>('readMemory', { memoryReference: `0x${address.toString(16)}`, offset: 0, count }, 60_000);
    const bytes = Buffer.from(r.body?.data ?? '', 'base64');
    return { ms: now() - t0, check: { bytes: bytes.length, sha256: sha(bytes) } };
  }

  async disassemble(pc: string, count: number, instructionOffset: number): Promise<Measured<{ count: number; first: string }> | typeof NA> {
    if (!this.caps.supportsDisassembleRequest) return NA;
    const t0 = now();
    const r = await this.c().request<DebugProtocol.DisassembleResponse>('disassemble', {
      memoryReference: pc,
      offset: 0,
      instructionOffset,
      instructionCount: count,
      resolveSymbols: true,
    });
    const insns = r.body?.instructions ?? [];
    return { ms: now() - t0, check: { count: insns.length, first: insns[0]?.instruction ?? '' } };
  }

  async close(): Promise<void> {
    // Stop, the way VS Code's Stop button ends a session: disconnect with terminateDebuggee.
    await this.dc?.close(true);
  }
}
