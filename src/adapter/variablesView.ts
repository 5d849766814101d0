/**
 * What the Variables, Watch and hover views show: the scopes of a frame, locals from the stop, lazy
 * children through gdb variable objects, registers in groups, and the small extras a person expects
 * (strings for char arrays, addresses for the memory view, hex on request); values can be changed.
 * Everything here lives until the guest runs; the variable objects of a past stop are deleted then.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext } from '../mi/commands';
import type { GdbHost } from './gdbHost';
import type { OcamlSupport } from './ocamlSupport';
import type { OcamlChild, OcamlValue } from '../ocaml';
import { VariableLooks, frameKey } from './variableLooks';
import { decodeEflags, groupRegisters } from './registers';
import type { RunControl } from './runControl';
import type { FrameRef } from './stack';
import { RefTable, childExpression, collapseTrailingNuls, isExpandableType, shownValue, type VarContainer } from './variables';

/** The longest gdb print of an aggregate a watch or hover shows on its one line. */
const AGGREGATE_PREVIEW = 120;

/** A decimal integer shown in hex (two's complement at the type's width); anything else stays. */
export function hexValue(value: string, type: string | undefined): string {
  if (!/^-?\d+$/.test(value)) return value;
  let n = BigInt(value);
  if (n < 0n) {
    const bits = /long/.test(type ?? '') ? 64 : /short/.test(type ?? '') ? 16 : /char/.test(type ?? '') ? 8 : type ? 32 : 64;
    n = BigInt.asUintN(bits, n);
  }
  return `0x${n.toString(16)}`;
}

export class VariablesView {
  /** What each variablesReference stands for. */
  private readonly refs = new RefTable<VarContainer>();
  /** The expression behind each variable shown, by `<variablesReference>:<name>` (data breakpoints, setVariable). */
  private readonly childNames = new Map<string, string>();
  private varobjs: string[] = [];
  private nextVarobj = 1;
  private registerNames: string[] | undefined;
  private readonly registerCache = new Map<string, Promise<Map<string, string>>>();
  /** Frame 0's locals, asked for when the stop was shown. */
  private readonly prefetched = new Map<string, Promise<mi.MiVariable[]>>();
  private readonly looks = new VariableLooks();
  private stale: string[] = [];
  /** The image runs OCaml: its frames get OCaml scopes, and `ocaml: <expr>` decodes a value. */
  private ocaml: OcamlSupport | undefined;

  constructor(
    private readonly host: GdbHost,
    run: RunControl,
  ) {
    // The variable objects of the last stop are deleted once the command that runs the guest is
    // sent, so that deleting them never delays a step.
    run.on('resuming', () => {
      this.stale.push(...this.reset());
    });
    run.on('resumed', () => {
      this.drop(this.stale);
      this.stale = [];
    });
  }

  setOcaml(ocaml: OcamlSupport | undefined): void {
    this.ocaml = ocaml;
  }

  /** A stop is shown: frame 0's locals are asked for now (VS Code asks for them next). */
  prefetch(threadId: number): void {
    const gdb = this.host.gdb;
    this.prefetched.clear();
    if (!gdb) return;
    this.looks.clear();
    const at = { threadId, level: 0 };
    const locals = mi.stackListVariables(gdb, at);
    locals.then((vs) => this.looks.prefetch(gdb, vs, at), () => undefined);
    this.prefetched.set(`${threadId}:0`, locals);
  }

  /** The references of the last stop are void; its variable objects go. */
  forget(): void {
    this.drop(this.reset());
  }

  /** Registers or memory were written: values shown so far may be stale. */
  invalidate(): void {
    this.registerCache.clear();
    this.prefetched.clear();
    this.looks.clear();
  }

  /** The frame a variablesReference belongs to (a guest thread's frame is used in that thread's registers). */
  frameOf(variablesReference: number): FrameRef | undefined {
    const c = variablesReference ? this.refs.get(variablesReference) : undefined;
    return c && 'at' in c ? (c.at as FrameRef | undefined) : undefined;
  }

  /** The scopes of a frame: locals and registers; a rebuilt frame has its saved trap frame. */
  scopes(at: FrameRef | undefined): DebugProtocol.Scope[] {
    if (!at) return [];
    if (at.synthetic) {
      // gdb cannot select a rebuilt frame; what is known of it is the saved trap frame: registers,
      // in hex like the Registers scope of every other frame.
      return at.trapFrame
        ? [{ name: 'Trap frame', presentationHint: 'registers', variablesReference: this.refs.add({ kind: 'expression', at, expression: `*${at.trapFrame}`, hex: true }), expensive: false }]
        : [];
    }
    const registers: DebugProtocol.Scope = { name: 'Registers', presentationHint: 'registers', variablesReference: this.refs.add({ kind: 'registers', at }), expensive: true };
    const ocaml = this.ocaml;
    const module = at.func && ocaml ? ocaml.moduleOf(at.func) : undefined;
    if (ocaml && module) {
      // OCaml's DWARF has no variables: the arguments are the calling convention's registers (at
      // the function's first instruction), the globals its module block's fields.
      const args = this.refs.add({ kind: 'ocaml', at, children: () => ocaml.entryArguments(at.threadId, at.level, at.func!) });
      const globals = this.refs.add({ kind: 'ocaml', at, children: async () => (await (await ocaml.moduleGlobals(module))?.children?.()) ?? [] });
      return [
        { name: 'Arguments (at entry)', presentationHint: 'arguments', variablesReference: args, expensive: false },
        { name: `Module ${module}`, presentationHint: 'locals', variablesReference: globals, expensive: false },
        registers,
      ];
    }
    return [{ name: 'Locals', presentationHint: 'locals', variablesReference: this.refs.add({ kind: 'locals', at }), expensive: false }, registers];
  }

  /** What a data breakpoint on a variable shown (or on an expression) watches, and in which frame. */
  watchable(variablesReference: number | undefined, name: string): { expression: string; at?: FrameContext } | undefined {
    const c = variablesReference ? this.refs.get(variablesReference) : undefined;
    const expression = c ? this.childNames.get(`${variablesReference}:${name}`) : name;
    return expression ? { expression, at: c?.at } : undefined;
  }

  /** Sets a variable, register or member shown under `variablesReference`; returns its new value. */
  async setVariable(args: DebugProtocol.SetVariableArguments): Promise<string> {
    const gdb = this.host.require();
    const c = this.refs.get(args.variablesReference);
    let expr: string;
    if (c?.kind === 'locals') expr = args.name;
    else if (c?.kind === 'registers' || c?.kind === 'registerGroup') expr = `$${args.name}`;
    else if (c && (c.kind === 'varobj' || c.kind === 'expression')) {
      const parent = c.kind === 'varobj' ? c.evaluateName : c.expression;
      if (parent === undefined) throw new Error('This value cannot be changed.');
      expr = this.childNames.get(`${args.variablesReference}:${args.name}`) ?? args.name;
    } else {
      throw new Error('This variable is no longer available.');
    }
    const at = c.at;
    let value = await mi.dataEvaluateExpression(gdb, `${expr} = ${args.value}`, at);
    this.invalidate();
    if (expr === '$eflags') value = decodeEflags(await mi.dataEvaluateExpression(gdb, '/x $eflags', at).catch(() => value));
    return args.format?.hex ? hexValue(value, undefined) : value;
  }

  /** Watch and hover: scalars take one command; what can be expanded gets a variable object. */
  async evaluate(expression: string, at: FrameContext | undefined, hex: boolean): Promise<DebugProtocol.EvaluateResponse['body']> {
    const gdb = this.host.require();
    const ocamlExpr = /^\s*ocaml:\s*(.+)$/.exec(expression)?.[1];
    if (ocamlExpr !== undefined) return this.evaluateOcaml(gdb, ocamlExpr, at);
    const plain = await mi.dataEvaluateExpression(gdb, expression, at);
    if (!/^[{([]/.test(plain) && !/^0x[0-9a-f]+\b/i.test(plain)) {
      return { result: hex ? hexValue(plain, undefined) : collapseTrailingNuls(plain), variablesReference: 0 };
    }
    const vo = await this.createVarobj(gdb, expression, at);
    // An aggregate's one line is gdb's own print of it (`{x = 3, y = 4}`), already at hand; a long one is `{…}`.
    const preview = !hex && /^[{[]/.test(plain) && plain.length <= AGGREGATE_PREVIEW ? plain : undefined;
    let result = preview ?? shownValue(vo.value, vo.type);
    if (hex && vo.numchild === 0) result = await mi.varSetFormat(gdb, vo.name, 'hexadecimal').catch(() => result);
    const ref = vo.numchild > 0 ? this.refs.add({ kind: 'varobj', name: vo.name, evaluateName: expression, at, type: vo.type }) : 0;
    const [decorated] = await this.looks.decorate(gdb, [{ name: expression, value: result, type: vo.type, evaluateName: expression, variablesReference: ref }], at);
    return { result: decorated?.value ?? result, type: vo.type, variablesReference: ref, memoryReference: decorated?.memoryReference };
  }

  async variables(args: DebugProtocol.VariablesArguments): Promise<DebugProtocol.Variable[]> {
    const gdb = this.host.require();
    const c = this.refs.get(args.variablesReference);
    let variables: DebugProtocol.Variable[] = [];
    if (c?.kind === 'locals') variables = await this.localVariables(gdb, c.at);
    else if (c?.kind === 'registers') variables = await this.registerVariables(gdb, c.at);
    else if (c?.kind === 'registerGroup') variables = await this.registerValues(gdb, c.at, c.names);
    else if (c?.kind === 'expression') {
      // Named by us, the variable object's children can be asked for in the same burst.
      const name = `u${this.nextVarobj++}`;
      const created = this.createVarobj(gdb, c.expression, c.at, name);
      const listed = this.childVariables(gdb, name, c.expression, created.then((v) => v.type), c.at);
      // Both are awaited together: when the first fails, the second's failure must not go unhandled.
      [, variables] = await Promise.all([created, listed]);
    } else if (c?.kind === 'varobj') {
      variables = await this.childVariables(gdb, c.name, c.evaluateName, c.type, c.at);
    } else if (c?.kind === 'ocaml') {
      variables = (await c.children()).map((child) => this.ocamlVariable(child, c.at));
    }
    if (args.start !== undefined || args.count !== undefined) {
      const s = args.start ?? 0;
      variables = variables.slice(s, args.count ? s + args.count : undefined);
    }
    if (args.format?.hex || (c?.kind === 'expression' && c.hex)) for (const v of variables) v.value = hexValue(v.value, v.type);
    for (const v of variables) if (v.evaluateName) this.childNames.set(`${args.variablesReference}:${v.name}`, v.evaluateName);
    return variables;
  }

  /** `ocaml: <expression>`: the word gdb computes, read as an OCaml value. */
  private async evaluateOcaml(gdb: Gdb, expression: string, at: FrameContext | undefined): Promise<DebugProtocol.EvaluateResponse['body']> {
    const ocaml = this.ocaml;
    if (!ocaml) throw new Error('This image has no OCaml runtime: "ocaml:" reads OCaml values of MirageOS images.');
    const word = await mi.dataEvaluateExpression(gdb, `(unsigned long)(${expression})`, at);
    if (!/^\d+$/.test(word)) throw new Error(`"${expression}" is not a word to read as an OCaml value (gdb says ${word}).`);
    const v = this.ocamlVariable({ ...(await ocaml.decode(BigInt(word))), name: expression }, at);
    return { result: v.value, type: v.type, variablesReference: v.variablesReference, memoryReference: v.memoryReference };
  }

  private ocamlVariable(v: OcamlChild | (OcamlValue & { name: string }), at: FrameContext | undefined): DebugProtocol.Variable {
    const children = v.children;
    // Without types (OCaml's DWARF has none), 0 and 1 may as well be false and true: both are said.
    const value = v.kind === 'int' && v.asBool !== undefined ? `${v.value} (${v.asBool})` : v.value;
    return {
      name: v.name,
      value,
      type: v.type,
      variablesReference: children ? this.refs.add({ kind: 'ocaml', at, children }) : 0,
      memoryReference: v.pointer !== undefined ? `0x${v.pointer.toString(16)}` : undefined,
    };
  }

  private async localVariables(gdb: Gdb, at: FrameContext): Promise<DebugProtocol.Variable[]> {
    const locals = await (this.prefetched.get(frameKey(at)) ?? mi.stackListVariables(gdb, at));
    return this.looks.decorate(gdb, locals.map((v) => ({
      name: v.name,
      value: shownValue(v.value, v.type),
      type: v.type,
      evaluateName: v.name,
      presentationHint: v.arg ? { kind: 'property', attributes: [] } : undefined,
      variablesReference: isExpandableType(v.type, v.value) ? this.refs.add({ kind: 'expression', at, expression: v.name }) : 0,
    })), at);
  }

  /** Every reference is stale; returns the variable objects to delete. */
  private reset(): string[] {
    const stale = this.varobjs;
    this.varobjs = [];
    this.refs.clear();
    this.childNames.clear();
    this.registerCache.clear();
    this.prefetched.clear();
    this.looks.clear();
    return stale;
  }

  /** Deletes variable objects of a past stop; not awaited, so that it never delays what comes next. */
  private drop(names: string[]): void {
    const gdb = this.host.gdb;
    if (gdb) for (const name of names) mi.varDelete(gdb, name).catch(() => undefined);
  }

  private async createVarobj(gdb: Gdb, expression: string, at: FrameContext | undefined, name?: string): Promise<mi.VarObject> {
    const vo = await mi.varCreate(gdb, expression, at, name);
    this.varobjs.push(vo.name);
    return vo;
  }

  private async childVariables(
    gdb: Gdb,
    name: string,
    parentExpr: string | undefined,
    parentTypeOrPromise: string | undefined | Promise<string | undefined>,
    at: FrameContext | undefined,
  ): Promise<DebugProtocol.Variable[]> {
    const [children, parentType] = await Promise.all([mi.varListChildren(gdb, name), parentTypeOrPromise]);
    return this.looks.decorate(gdb, children.map((ch) => {
      const exp = ch.exp ?? ch.name;
      const evaluateName = parentExpr !== undefined ? childExpression(parentExpr, parentType, exp) : undefined;
      return {
        name: /^\d+$/.test(exp) ? `[${exp}]` : exp,
        value: shownValue(ch.value, ch.type),
        type: ch.type,
        evaluateName,
        variablesReference: ch.numchild > 0 || ch.dynamic ? this.refs.add({ kind: 'varobj', name: ch.name, evaluateName, at, type: ch.type }) : 0,
      };
    }), at, false);
  }

  /** Register values of one frame, fetched once per stop. */
  private async registerMap(gdb: Gdb, at: FrameContext): Promise<Map<string, string>> {
    const key = frameKey(at);
    let values = this.registerCache.get(key);
    if (!values) {
      values = (async () => {
        this.registerNames ??= await mi.dataListRegisterNames(gdb);
        const names = this.registerNames;
        const raw = await mi.dataListRegisterValues(gdb, 'x', at);
        return new Map(raw.filter((r) => names[r.number]).map((r) => [names[r.number]!, r.value]));
      })();
      this.registerCache.set(key, values);
    }
    return values;
  }

  private async registerValues(gdb: Gdb, at: FrameContext, names: string[]): Promise<DebugProtocol.Variable[]> {
    const values = await this.registerMap(gdb, at);
    return names.map((name) => {
      const raw = values.get(name) ?? '';
      return {
        name,
        value: name === 'eflags' ? decodeEflags(raw) : raw,
        evaluateName: `$${name}`,
        variablesReference: 0,
      };
    });
  }

  private async registerVariables(gdb: Gdb, at: FrameContext): Promise<DebugProtocol.Variable[]> {
    const values = await this.registerMap(gdb, at);
    const { general, groups } = groupRegisters([...values.keys()]);
    return [
      ...(await this.registerValues(gdb, at, general)),
      ...groups.map((g) => ({ name: g.name, value: '', variablesReference: this.refs.add({ kind: 'registerGroup', at, names: g.registers }) })),
    ];
  }
}
