/**
 * The user's breakpoints: by source line, function, instruction and data (watchpoints), with
 * conditions, hit counts, logpoints and a software or hardware mode, each family replaced as a
 * whole as DAP sends it, inserted while the guest is stopped (a running guest is paused for it
 * invisibly). Also the temporary breakpoint of `stopAtEntry`. Each answer says what gdb really did.
 */
import { basename } from 'node:path';
import { Source } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as mi from '../mi/commands';
import type { FrameContext } from '../mi/commands';
import { errorText } from './format';
import type { GdbHost } from './gdbHost';
import type { OcamlSupport } from './ocamlSupport';
import { parseMemoryReference } from './memory';
import type { RunControl, StopFacts } from './runControl';
import type { SourceFileName, SourcePaths } from './sourcePaths';
import type { VariablesView } from './variablesView';

interface WantedBreakpoint {
  location: string;
  line?: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  mode?: string;
}

/** gdb counts hits to ignore: `5` or `>= 5` stops from the 5th hit on, `> 5` from the 6th. */
function hitConditionToIgnoreCount(hit: string | undefined): number | undefined {
  if (!hit?.trim()) return undefined;
  const m = /^\s*(>=|>|==|=)?\s*(\d+)\s*$/.exec(hit);
  if (!m) throw new Error(`Hit count "${hit}" is not understood: use a number, ">= N" or "> N".`);
  const n = Number(m[2]);
  return m[1] === '>' ? n : Math.max(0, n - 1);
}

/** Where `stopAtEntry: true` stops in a launched image. */
export interface EntryPoints {
  /** The platform's application entries, the first the image has. */
  symbols: readonly string[];
  /** The image's entry point as a gdb location (`*0x…`), when none of them is there. */
  kernelEntry: string;
}

export class Breakpoints {
  /** gdb breakpoint numbers per family: `source:<path>`, `function`, `instruction`, `data`. */
  private readonly families = new Map<string, string[]>();
  /** Logpoint messages by gdb breakpoint number. */
  private readonly logpoints = new Map<string, string>();
  private entryBreakpoint: string | undefined;
  private entry: EntryPoints | undefined;
  /** The source files the debug information names, asked of gdb once. */
  private sourceFiles: Promise<readonly SourceFileName[]> | undefined;
  private ocaml: OcamlSupport | undefined;

  constructor(
    private readonly host: GdbHost,
    private readonly run: RunControl,
    private readonly sources: SourcePaths,
    private readonly variables: VariablesView,
  ) {}

  /** A launch: where `stopAtEntry: true` stops. (An attached guest stops where it was caught.) */
  setEntryPoints(entry: EntryPoints): void {
    this.entry = entry;
  }

  stopFacts(): Pick<StopFacts, 'entryBreakpoint' | 'functionBreakpoints' | 'instructionBreakpoints' | 'logpoints'> {
    return {
      entryBreakpoint: this.entryBreakpoint,
      functionBreakpoints: new Set(this.families.get('function')),
      instructionBreakpoints: new Set(this.families.get('instruction')),
      logpoints: this.logpoints,
    };
  }

  get hasDataBreakpoints(): boolean {
    return (this.families.get('data') ?? []).length > 0;
  }

  /** Where `stopAtEntry` stops: the named function, the platform's application entry, else the image's entry point. */
  async entryLocation(stopAt: boolean | string | undefined): Promise<string | undefined> {
    if (typeof stopAt === 'string') return stopAt;
    if (!stopAt || !this.entry) return undefined;
    const gdb = this.host.gdb;
    // gdb knows functions by DWARF too: a `main` that rumprun-bake renamed in the symbol table is still `main`.
    for (const symbol of this.entry.symbols) {
      const found = gdb ? await mi.symbolInfoFunctions(gdb, `^${symbol}$`).catch(() => []) : [];
      if (found.some((f) => f.name === symbol)) return symbol;
    }
    return this.entry.kernelEntry;
  }

  /** The temporary breakpoint of `stopAtEntry`: hardware, because the image may not be in guest memory yet. */
  async insertEntry(location: string): Promise<void> {
    this.entryBreakpoint = (await mi.breakInsert(this.host.require(), location, { temporary: true, hardware: true })).number;
  }

  async setSource(source: DebugProtocol.Source, wanted: DebugProtocol.SourceBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const path = source.path;
    if (!path) return wanted.map(() => ({ verified: false, message: 'This source has no file path.' }));
    // gdb matches its own name for the file, which may be a build path or a relative one.
    const gdbPath = await this.sources.toGdb(path, () => this.knownSources());
    return this.replace(`source:${path}`, wanted.map((bp) => ({ ...bp, location: `${gdbPath}:${bp.line}` })), source);
  }

  async setFunctions(wanted: DebugProtocol.FunctionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const locations = await Promise.all(wanted.map((bp) => this.functionLocation(bp.name)));
    return this.replace('function', wanted.map((bp, i) => ({ ...bp, location: locations[i] ?? bp.name })));
  }

  /** An OCaml image: function breakpoints by OCaml name (`Hello.depth`, `depth`, `Stdlib.(^)`). */
  setOcaml(ocaml: OcamlSupport | undefined): void {
    this.ocaml = ocaml;
  }

  /**
   * The gdb location of a function breakpoint. In an OCaml image, a dotted name (or an operator)
   * is OCaml's; a bare one is a C function when there is one, else an OCaml function of that name.
   */
  private async functionLocation(name: string): Promise<string | undefined> {
    const ocaml = this.ocaml;
    if (!ocaml || /^[*']/.test(name)) return undefined;
    if (!/[.(]/.test(name)) {
      const gdb = this.host.gdb;
      const c = gdb ? await mi.symbolInfoFunctions(gdb, `^${name}$`).catch(() => []) : [];
      if (c.some((f) => f.name === name)) return undefined;
    }
    const linkName = await ocaml.resolveFunction(name);
    // OCaml's operator names carry `$`, which gdb reads only inside quotes.
    return linkName ? `'${linkName}'` : undefined;
  }

  setInstructions(wanted: DebugProtocol.InstructionBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    return this.replace('instruction', wanted.map((bp) => ({ ...bp, location: `*0x${parseMemoryReference(bp.instructionReference, bp.offset).toString(16)}` })));
  }

  /** What a data breakpoint on a variable, or on an address and size, would watch. */
  dataInfo(args: DebugProtocol.DataBreakpointInfoArguments): DebugProtocol.DataBreakpointInfoResponse['body'] {
    let dataId: string | null = null;
    let description = 'This cannot be watched.';
    if (args.asAddress) {
      const size = args.bytes && args.bytes > 0 ? args.bytes : 1;
      try {
        const addr = parseMemoryReference(args.name);
        dataId = JSON.stringify({ expression: `*(unsigned char (*)[${size}])0x${addr.toString(16)}` });
        description = `${size} byte${size === 1 ? '' : 's'} at 0x${addr.toString(16)}`;
      } catch (e) {
        description = errorText(e);
      }
    } else {
      const watched = this.variables.watchable(args.variablesReference, args.name);
      if (watched) {
        dataId = JSON.stringify(watched);
        description = watched.expression;
      }
    }
    return { dataId, description, accessTypes: ['write', 'read', 'readWrite'], canPersist: false };
  }

  async setData(wanted: DebugProtocol.DataBreakpoint[]): Promise<DebugProtocol.Breakpoint[]> {
    const result = await this.run.whileStopped(async (gdb) => {
      await mi.breakDelete(gdb, this.families.get('data') ?? []);
      return Promise.allSettled(
        wanted.map((bp) => {
          const { expression, at } = JSON.parse(bp.dataId) as { expression: string; at?: FrameContext };
          // A local is watched in its own frame; gdb then scopes the watchpoint to that frame.
          return mi.breakWatch(gdb, expression, bp.accessType ?? 'write', at);
        }),
      );
    });
    this.families.set('data', result.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
    return result.map((r) =>
      r.status === 'fulfilled' ? { verified: true, id: Number.parseInt(r.value, 10) || undefined } : { verified: false, message: errorText(r.reason) },
    );
  }

  /** A logpoint's message with its `{expression}`s evaluated where the guest stopped. */
  async logMessage(message: string, threadId: number): Promise<string> {
    const gdb = this.host.require();
    const at = { threadId, level: 0 };
    const parts = message.split(/(\{[^{}]+\})/);
    const values = await Promise.all(
      parts.map((p) =>
        p.startsWith('{') && p.endsWith('}') ? mi.dataEvaluateExpression(gdb, p.slice(1, -1), at).catch((e: unknown) => `<${errorText(e)}>`) : Promise.resolve(p),
      ),
    );
    return `${values.join('')}\n`;
  }

  /**
   * Replaces one family of breakpoints (one source file, all function or all instruction
   * breakpoints) with a new list, and answers with what gdb did: verified or not, at which line.
   */
  private async replace(family: string, wanted: WantedBreakpoint[], source?: DebugProtocol.Source): Promise<DebugProtocol.Breakpoint[]> {
    const result = await this.run.whileStopped(async (gdb) => {
      const old = this.families.get(family) ?? [];
      for (const n of old) this.logpoints.delete(n);
      await mi.breakDelete(gdb, old);
      return Promise.allSettled(
        wanted.map((bp) => {
          const ignoreCount = hitConditionToIgnoreCount(bp.hitCondition);
          return mi.breakInsert(gdb, bp.location, { condition: bp.condition || undefined, ignoreCount, hardware: bp.mode === 'hardware' });
        }),
      );
    });
    const numbers: string[] = [];
    const breakpoints = result.map((r, i): DebugProtocol.Breakpoint => {
      const want = wanted[i];
      if (r.status === 'rejected') return { verified: false, line: want?.line, message: errorText(r.reason) };
      const b = r.value;
      numbers.push(b.number);
      if (want?.logMessage) this.logpoints.set(b.number, want.logMessage);
      const path = this.sources.displayFrame(b);
      return {
        id: Number.parseInt(b.number, 10) || undefined,
        verified: !b.pending,
        line: b.line ?? want?.line,
        source: path ? new Source(basename(path), path) : source,
        instructionReference: b.addr,
        message: b.pending ? 'Pending: no code at this location in the loaded symbols.' : undefined,
      };
    });
    this.families.set(family, numbers);
    return breakpoints;
  }

  /** The source files the debug information names, asked of gdb once per session (first when connected, before VS Code sends breakpoints). */
  knownSources(): Promise<readonly SourceFileName[]> {
    const gdb = this.host.gdb;
    if (!gdb) return Promise.resolve([]);
    this.sourceFiles ??= mi.fileListExecSourceFiles(gdb).catch(() => []);
    return this.sourceFiles;
  }
}
