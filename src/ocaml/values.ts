/**
 * A decoder from OCaml values (words in the debuggee) to a lazily expandable tree for a
 * debugger's variables view. There are no types at run time: what a value is comes from
 * its representation alone (see heap.ts), so some readings are guesses: a tag-0 block of
 * two fields whose chain ends in 0 is shown as a list, a tag-0 block whose field 0 is an
 * exception constructor as an exception, an immediate as an int (with its bool/unit/char
 * readings alongside) unless the caller passes a hint.
 */
import {
  anyPlausibleAddress, hex, isImmediate, readBlock, readDouble, readField, readStringBlock, symbolName, Tag, untag,
  type AddressCheck, type BlockHeader, type BlockRead, type OcamlMemory, type OcamlString,
} from './heap';
import { readClosure, type ClosureLayout } from './closures';
import { readCustom, type CustomValue } from './custom';
import { readException, type OcamlException } from './exceptions';
import { charLiteral, clip, floatRepr, stringLiteral } from './format';
import { displayName } from './names';

export type ValueKind =
  | 'int' | 'string' | 'float' | 'floatArray' | 'closure' | 'exception' | 'object' | 'list' | 'block' | 'lazy'
  | 'custom' | 'abstract' | 'code' | 'pointer' | 'cycle' | 'invalid' | 'malformed' | 'more';

/** What the caller knows about the value's type. */
export type ValueHint = 'int' | 'bool' | 'unit' | 'char' | 'list' | 'block';

export interface OcamlValue {
  /** One-line preview, at most maxPreviewLength characters. */
  value: string;
  type: string;
  kind: ValueKind;
  /** The word decoded. */
  word: bigint;
  /** The block's address (its first field), for blocks. */
  pointer?: bigint;
  header?: BlockHeader;
  /** Immediates: the integer, and what it is when read as bool, unit or char. */
  int?: bigint;
  asBool?: boolean;
  asUnit?: boolean;
  asChar?: string;
  /** Fields, elements or parts; absent for leaves. Each call reads memory again. */
  children?: () => Promise<OcamlChild[]>;
}

export interface OcamlChild extends OcamlValue {
  name: string;
}

export interface DecodeOptions {
  /** Where values may live (heap, the image's data and bss); anything else is an invalid pointer. */
  isValidAddress?: AddressCheck;
  /** Where C data the runtime points to may be read (custom operations, their names in rodata). */
  isReadableAddress?: AddressCheck;
  hint?: ValueHint;
  /** Nesting shown inside one preview (default 2). */
  maxDepth?: number;
  /** Fields or elements shown inside one preview (default 8). */
  maxItems?: number;
  /** Bytes of a string read for a preview (default 200). */
  maxStringLength?: number;
  /** Characters of a preview (default 160). */
  maxPreviewLength?: number;
  /** Cells walked to tell a list and its length (default 1000). */
  maxListLength?: number;
  /** Children per expansion; the rest behind a `[n…]` child (default 100). */
  pageSize?: number;
  /** Blocks read for one preview (default 48). */
  maxPreviewBlocks?: number;
}

type Settings = Required<Omit<DecodeOptions, 'hint'>>;

/** Decodes one value (a register, a field, a global's word). */
export function decodeValue(word: bigint, mem: OcamlMemory, options: DecodeOptions = {}): Promise<OcamlValue> {
  return new Decoder(mem, options).decode(BigInt.asUintN(64, word), options.hint, new Set());
}

/**
 * A module's globals: the module block at `address` (the `caml<Module>` symbol's address),
 * its fields named from `fieldNames` where known (e.g. from a .cmt), else `[i]`.
 */
export async function decodeModuleBlock(address: bigint, mem: OcamlMemory, options: DecodeOptions & { fieldNames?: string[] } = {}): Promise<OcamlValue> {
  const v = await decodeValue(address, mem, { ...options, hint: 'block' });
  const names = options.fieldNames;
  if (!names || !v.children) return v;
  const inner = v.children;
  return {
    ...v,
    children: async () => (await inner()).map((c) => {
      const m = /^\[(\d+)\]$/.exec(c.name);
      const n = m ? names[Number(m[1])] : undefined;
      return n ? { ...c, name: n } : c;
    }),
  };
}

interface Budget {
  left: number;
}

interface ListWalk {
  /** Undefined when the walk stopped at maxListLength. */
  length?: number;
  cyclic: boolean;
  heads: bigint[];
}

type Shape =
  | { kind: 'string'; s: OcamlString }
  | { kind: 'float'; x: number }
  | { kind: 'floatArray' }
  | { kind: 'closure'; fn: ClosureLayout }
  | { kind: 'exception'; exn: OcamlException }
  | { kind: 'object' }
  | { kind: 'list'; walk: ListWalk }
  | { kind: 'block' }
  | { kind: 'lazy'; forced: boolean }
  | { kind: 'custom'; custom: CustomValue }
  | { kind: 'abstract' }
  | { kind: 'malformed'; detail: string };

type Block = Extract<BlockRead, { ok: true }>;

function bigarrayChildren(ba: NonNullable<CustomValue['bigarray']>): OcamlChild[] {
  return [
    { name: 'data', value: hex(ba.data), type: 'pointer', kind: 'pointer', word: ba.data, pointer: ba.data },
    ...ba.dims.map((d, i): OcamlChild => ({ name: `dim[${i}]`, value: d.toString(), type: 'int', kind: 'int', word: d, int: d })),
  ];
}

/** Appends `…` unless the items already end in one (a preview cut short by length). */
function ellipsis(items: string[]): void {
  if (items[items.length - 1] !== '…') items.push('…');
}

class Decoder {
  private readonly s: Settings;

  constructor(
    private readonly mem: OcamlMemory,
    options: DecodeOptions,
  ) {
    const isValidAddress = options.isValidAddress ?? anyPlausibleAddress;
    this.s = {
      isValidAddress,
      isReadableAddress: options.isReadableAddress ?? anyPlausibleAddress,
      maxDepth: options.maxDepth ?? 2,
      maxItems: options.maxItems ?? 8,
      maxStringLength: options.maxStringLength ?? 200,
      maxPreviewLength: options.maxPreviewLength ?? 160,
      maxListLength: options.maxListLength ?? 1000,
      pageSize: Math.max(1, options.pageSize ?? 100),
      maxPreviewBlocks: options.maxPreviewBlocks ?? 48,
    };
  }

  // --- the tree ------------------------------------------------------------

  async decode(word: bigint, hint: ValueHint | undefined, ancestors: ReadonlySet<bigint>): Promise<OcamlValue> {
    if (isImmediate(word)) return this.immediate(word, hint);
    const b = await readBlock(this.mem, word, this.s.isValidAddress);
    if (!b.ok) return this.broken(word, b);
    if (ancestors.has(b.pointer)) return { value: `<cycle ${hex(b.pointer)}>`, type: 'cycle', kind: 'cycle', word, pointer: b.pointer };
    const path = new Set(ancestors).add(b.pointer);
    const shape = await this.classify(b, hint);
    const value = clip(await this.shapeText(b, shape, this.s.maxDepth, { left: this.s.maxPreviewBlocks }, path), this.s.maxPreviewLength);
    const base = { value, word, pointer: b.pointer, header: b.header };
    const p = b.pointer;
    const n = b.header.wosize;
    switch (shape.kind) {
      case 'string':
        return { ...base, kind: 'string', type: 'string' };
      case 'float':
        return { ...base, kind: 'float', type: 'float' };
      case 'floatArray':
        return { ...base, kind: 'floatArray', type: 'float array', children: this.paged(n, async (i) => this.floatChild(`[${i}]`, p + BigInt(i) * 8n)) };
      case 'closure':
        return { ...base, kind: 'closure', type: 'closure', children: () => this.closureChildren(p, shape.fn, path) };
      case 'exception':
        return { ...base, kind: 'exception', type: 'exn', children: () => this.exceptionChildren(b, shape.exn, path) };
      case 'object':
        return { ...base, kind: 'object', type: 'object', children: this.paged(n, (i) => this.fieldChild(p, i, path, ['methods', 'id'][i])) };
      case 'list':
        return { ...base, kind: 'list', type: 'list', children: this.listPage(p, 0, shape.walk, path) };
      case 'lazy':
        return { ...base, kind: 'lazy', type: shape.forced ? 'lazy (forced)' : 'lazy', children: this.paged(1, (i) => this.fieldChild(p, i, path)) };
      case 'custom': {
        const ba = shape.custom.bigarray;
        return { ...base, kind: 'custom', type: shape.custom.type, children: ba ? async () => bigarrayChildren(ba) : undefined };
      }
      case 'abstract':
        return { ...base, kind: 'abstract', type: 'abstract' };
      case 'malformed':
        return { ...base, kind: 'malformed', type: 'malformed block' };
      case 'block':
        return {
          ...base, kind: 'block', type: `block tag ${b.header.tag} (${n} field${n === 1 ? '' : 's'})`,
          children: n > 0 ? this.paged(n, (i) => this.fieldChild(p, i, path)) : undefined,
        };
    }
  }

  private immediate(word: bigint, hint: ValueHint | undefined): OcamlValue {
    const int = untag(word);
    const v: OcamlValue = { value: int.toString(), type: 'int', kind: 'int', word, int };
    if (int === 0n || int === 1n) v.asBool = int === 1n;
    if (int === 0n) v.asUnit = true;
    if (int >= 0n && int <= 255n) v.asChar = charLiteral(Number(int));
    if (hint === 'bool' && v.asBool !== undefined) Object.assign(v, { value: String(v.asBool), type: 'bool' });
    if (hint === 'unit' && v.asUnit) Object.assign(v, { value: '()', type: 'unit' });
    if (hint === 'char' && v.asChar !== undefined) Object.assign(v, { value: v.asChar, type: 'char' });
    if (hint === 'list' && int === 0n) Object.assign(v, { value: '[]', type: 'list' });
    return v;
  }

  private broken(word: bigint, b: Extract<BlockRead, { ok: false }>): OcamlValue {
    if (b.problem === 'malformed') {
      return { value: `<malformed block ${hex(b.pointer)}: ${b.detail ?? 'bad header'}>`, type: 'malformed block', kind: 'malformed', word, pointer: b.pointer, header: b.header };
    }
    return { value: `<invalid pointer ${hex(b.pointer)}>`, type: `invalid pointer (${b.problem})`, kind: 'invalid', word };
  }

  private async fieldChild(pointer: bigint, i: number, path: ReadonlySet<bigint>, name?: string): Promise<OcamlChild> {
    const w = await readField(this.mem, pointer, i);
    const label = name ?? `[${i}]`;
    if (w === undefined) return { name: label, value: `<unreadable ${hex(pointer + BigInt(i) * 8n)}>`, type: 'unreadable', kind: 'invalid', word: 0n };
    return { name: label, ...(await this.decode(w, undefined, path)) };
  }

  private async floatChild(name: string, addr: bigint): Promise<OcamlChild> {
    const x = await readDouble(this.mem, addr);
    const word = (await this.mem.readWord(addr)) ?? 0n;
    return x === undefined
      ? { name, value: `<unreadable ${hex(addr)}>`, type: 'unreadable', kind: 'invalid', word }
      : { name, value: floatRepr(x), type: 'float', kind: 'float', word };
  }

  /** Children start…start+pageSize, then one `[k…]` child holding the rest. */
  private paged(count: number, item: (i: number) => Promise<OcamlChild>, start = 0): () => Promise<OcamlChild[]> {
    return async () => {
      const end = Math.min(count, start + this.s.pageSize);
      const out: OcamlChild[] = [];
      for (let i = start; i < end; i++) out.push(await item(i));
      if (end < count) out.push(this.more(end, count - end, this.paged(count, item, end)));
      return out;
    };
  }

  private more(from: number, left: number | undefined, children: () => Promise<OcamlChild[]>): OcamlChild {
    return { name: `[${from}…]`, value: left === undefined ? 'more' : `${left} more`, type: '', kind: 'more', word: 0n, children };
  }

  private listPage(cell: bigint, index: number, walk: ListWalk, path: ReadonlySet<bigint>): () => Promise<OcamlChild[]> {
    return async () => {
      const out: OcamlChild[] = [];
      let c = cell;
      for (let i = index; i < index + this.s.pageSize; i++) {
        if (walk.length !== undefined && i >= walk.length) {
          if (walk.cyclic) out.push({ name: `[${i}…]`, value: '<cycle: the list loops back>', type: 'cycle', kind: 'cycle', word: c, pointer: c });
          return out;
        }
        out.push(await this.fieldChild(c, 0, path, `[${i}]`));
        const tail = await readField(this.mem, c, 1);
        if (tail === undefined || isImmediate(tail)) return out;
        const next = await readBlock(this.mem, tail, this.s.isValidAddress);
        if (!next.ok || next.header.tag !== 0 || next.header.wosize !== 2) {
          out.push({ name: 'tail', ...(await this.decode(tail, undefined, path)) });
          return out;
        }
        c = next.pointer;
      }
      out.push(this.more(index + this.s.pageSize, walk.length === undefined ? undefined : walk.length - index - this.s.pageSize, this.listPage(c, index + this.s.pageSize, walk, path)));
      return out;
    };
  }

  private async closureChildren(p: bigint, fn: ClosureLayout, path: ReadonlySet<bigint>): Promise<OcamlChild[]> {
    const out: OcamlChild[] = [await this.codeChild('code', fn.code)];
    if (fn.arity !== undefined) out.push({ name: 'arity', value: String(fn.arity), type: 'int', kind: 'int', word: BigInt(fn.arity), int: BigInt(fn.arity) });
    if (fn.direct !== undefined) out.push(await this.codeChild('direct code', fn.direct));
    if (fn.infixOffset !== undefined) out.push({ name: 'infix offset', value: `${fn.infixOffset} words into its closure block`, type: 'int', kind: 'int', word: BigInt(fn.infixOffset) });
    for (let i = fn.startEnv; i < fn.fields && i < fn.startEnv + this.s.pageSize; i++) {
      out.push(await this.fieldChild(p, i, path, `env[${i - fn.startEnv}]`));
    }
    return out;
  }

  private async codeChild(name: string, addr: bigint): Promise<OcamlChild> {
    const sym = await symbolName(this.mem, addr);
    return { name, value: sym ? `${displayName(sym)} (${hex(addr)})` : hex(addr), type: sym ? `code pointer (${sym})` : 'code pointer', kind: 'code', word: addr, pointer: addr };
  }

  private async exceptionChildren(b: Block, exn: OcamlException, path: ReadonlySet<bigint>): Promise<OcamlChild[]> {
    if (exn.constant) {
      return [await this.fieldChild(b.pointer, 0, path, 'name'), await this.fieldChild(b.pointer, 1, path, 'id')];
    }
    const out: OcamlChild[] = [await this.fieldChild(b.pointer, 0, path, 'constructor')];
    for (let i = 1; i < b.header.wosize && i <= this.s.pageSize; i++) out.push(await this.fieldChild(b.pointer, i, path));
    return out;
  }

  // --- what a block is -----------------------------------------------------

  private async classify(b: Block, hint: ValueHint | undefined): Promise<Shape> {
    const { pointer: p, header: h } = b;
    switch (h.tag) {
      case Tag.String: {
        const s = await readStringBlock(this.mem, p, h, this.s.maxStringLength);
        return s ? { kind: 'string', s } : { kind: 'malformed', detail: 'a string whose padding byte is wrong' };
      }
      case Tag.Double: {
        const x = await readDouble(this.mem, p);
        return x === undefined ? { kind: 'malformed', detail: 'unreadable float' } : { kind: 'float', x };
      }
      case Tag.DoubleArray:
        return { kind: 'floatArray' };
      case Tag.Closure:
      case Tag.Infix: {
        const fn = await readClosure(this.mem, b, this.s.isValidAddress);
        return fn ? { kind: 'closure', fn } : { kind: 'malformed', detail: 'an infix pointer outside a closure' };
      }
      case Tag.Object: {
        const exn = await readException(p, this.mem, { isValidAddress: this.s.isValidAddress, maxStringLength: this.s.maxStringLength });
        return exn ? { kind: 'exception', exn } : { kind: 'object' };
      }
      case Tag.Lazy:
      case Tag.Forward:
        return { kind: 'lazy', forced: h.tag === Tag.Forward };
      case Tag.Custom:
        return { kind: 'custom', custom: await readCustom(this.mem, p, this.s.isReadableAddress) };
      case Tag.Abstract:
        return { kind: 'abstract' };
      case 0: {
        if (hint === 'block' || h.wosize === 0) return { kind: 'block' };
        if (hint !== 'list') {
          const exn = await readException(p, this.mem, { isValidAddress: this.s.isValidAddress, maxStringLength: this.s.maxStringLength });
          if (exn) return { kind: 'exception', exn };
        }
        if (h.wosize === 2) {
          const walk = await this.walkList(p);
          if (walk) return { kind: 'list', walk };
        }
        return { kind: 'block' };
      }
      default:
        return { kind: 'block' };
    }
  }

  /** Follows tails from a cons cell; undefined when the chain is not a list. */
  private async walkList(first: bigint): Promise<ListWalk | undefined> {
    const seen = new Set<bigint>();
    const heads: bigint[] = [];
    let cell = first;
    for (let n = 0; ; n++) {
      if (seen.has(cell)) return { length: n, cyclic: true, heads };
      if (n >= this.s.maxListLength) return { cyclic: false, heads };
      seen.add(cell);
      if (n > 0) {
        const b = await readBlock(this.mem, cell, this.s.isValidAddress);
        if (!b.ok || b.header.tag !== 0 || b.header.wosize !== 2) return undefined;
      }
      if (heads.length < this.s.maxItems) {
        const head = await readField(this.mem, cell, 0);
        if (head === undefined) return undefined;
        heads.push(head);
      }
      const tail = await readField(this.mem, cell, 1);
      if (tail === undefined) return undefined;
      if (tail === 1n) return { length: n + 1, cyclic: false, heads };
      if (isImmediate(tail)) return undefined;
      cell = BigInt.asUintN(64, tail);
    }
  }

  // --- previews --------------------------------------------------------------

  private async previewWord(word: bigint, depth: number, budget: Budget, visiting: ReadonlySet<bigint>): Promise<string> {
    if (isImmediate(word)) return untag(word).toString();
    const b = await readBlock(this.mem, word, this.s.isValidAddress);
    if (!b.ok) return this.broken(word, b).value;
    if (visiting.has(b.pointer)) return `<cycle ${hex(b.pointer)}>`;
    if (depth <= 0 || budget.left <= 0) return '…';
    budget.left--;
    const shape = await this.classify(b, undefined);
    return this.shapeText(b, shape, depth, budget, new Set(visiting).add(b.pointer));
  }

  private async shapeText(b: Block, shape: Shape, depth: number, budget: Budget, visiting: ReadonlySet<bigint>): Promise<string> {
    const { pointer: p, header: h } = b;
    switch (shape.kind) {
      case 'string': {
        const lit = stringLiteral(shape.s.bytes, shape.s.truncated);
        return shape.s.truncated ? `${lit} (${shape.s.length} bytes)` : lit;
      }
      case 'float':
        return floatRepr(shape.x);
      case 'floatArray': {
        const items: string[] = [];
        for (let i = 0; i < Math.min(h.wosize, this.s.maxItems); i++) {
          const x = await readDouble(this.mem, p + BigInt(i) * 8n);
          items.push(x === undefined ? '?' : floatRepr(x));
        }
        if (h.wosize > this.s.maxItems) items.push('…');
        return `[|${items.join('; ')}|]`;
      }
      case 'closure':
        return `<fun ${shape.fn.name}>`;
      case 'exception':
        return shape.exn.text;
      case 'object': {
        const id = await readField(this.mem, p, 1);
        return id !== undefined && isImmediate(id) ? `<object #${untag(id)}>` : '<object>';
      }
      case 'list': {
        const items = await this.previewItems(shape.walk.heads, depth - 1, budget, visiting);
        const shownAll = shape.walk.length !== undefined && shape.walk.length <= shape.walk.heads.length && !shape.walk.cyclic;
        if (shape.walk.cyclic) items.push('…cycle');
        else if (!shownAll) ellipsis(items);
        return `[${items.join('; ')}]`;
      }
      case 'lazy':
        if (!shape.forced) return '<lazy>';
        return `lazy (${await this.previewField(p, 0, depth - 1, budget, visiting)})`;
      case 'custom':
        return shape.custom.text;
      case 'abstract':
        return `<abstract, ${h.wosize} words>`;
      case 'malformed':
        return `<malformed block ${hex(p)}: ${shape.detail}>`;
      case 'block': {
        if (h.wosize === 0) return h.tag === 0 ? '[||]' : `<tag ${h.tag}>`;
        const words: bigint[] = [];
        for (let i = 0; i < Math.min(h.wosize, this.s.maxItems); i++) words.push((await readField(this.mem, p, i)) ?? 0n);
        const items = await this.previewItems(words, depth - 1, budget, visiting);
        if (h.wosize > this.s.maxItems) ellipsis(items);
        return `<tag ${h.tag}: ${items.join(', ')}>`;
      }
    }
  }

  private async previewItems(words: bigint[], depth: number, budget: Budget, visiting: ReadonlySet<bigint>): Promise<string[]> {
    const out: string[] = [];
    let length = 0;
    for (const w of words) {
      if (length > this.s.maxPreviewLength) {
        out.push('…');
        break;
      }
      const text = await this.previewWord(w, depth, budget, visiting);
      out.push(text);
      length += text.length + 2;
    }
    return out;
  }

  private async previewField(p: bigint, i: number, depth: number, budget: Budget, visiting: ReadonlySet<bigint>): Promise<string> {
    const w = await readField(this.mem, p, i);
    return w === undefined ? '?' : this.previewWord(w, depth, budget, visiting);
  }
}
