/**
 * What a DAP variablesReference or frameId stands for. References live until the guest runs again.
 */
import type { FrameContext } from '../mi/commands';
import type { OcamlChild } from '../ocaml';

export type VarContainer =
  | { kind: 'locals'; at: FrameContext }
  | { kind: 'registers'; at: FrameContext }
  | { kind: 'registerGroup'; at: FrameContext; names: string[] }
  /** An expression whose gdb variable object is made only when the user expands it. */
  | { kind: 'expression'; at: FrameContext | undefined; expression: string; hex?: boolean }
  | { kind: 'varobj'; name: string; evaluateName: string | undefined; at: FrameContext | undefined; type?: string }
  /** OCaml values decoded from guest memory (src/ocaml): their children, read when expanded. */
  | { kind: 'ocaml'; at: FrameContext | undefined; children: () => Promise<OcamlChild[]> };

/** A handle table that is cleared on every resume. */
export class RefTable<T> {
  private next = 1;
  private readonly items = new Map<number, T>();

  add(item: T): number {
    const id = this.next++;
    this.items.set(id, item);
    return id;
  }

  get(id: number): T | undefined {
    return this.items.get(id);
  }

  clear(): void {
    this.items.clear();
  }
}

/** An identifier or member path such as `a.b->c[2]`, which needs no parentheses when extended. */
const SIMPLE_PATH = /^[A-Za-z_][\w]*(?:(?:\.|->)[A-Za-z_]\w*|\[\d+\])*$/;

/** The C expression for a child of a gdb variable object, from its parent's expression. */
export function childExpression(parent: string, parentType: string | undefined, childExp: string): string {
  const p = SIMPLE_PATH.test(parent) ? parent : `(${parent})`;
  if (/^\d+$/.test(childExp)) return `${p}[${childExp}]`;
  if (childExp.startsWith('*')) return `*${p}`;
  if (parentType?.trim().endsWith('*')) return `${p}->${childExp}`;
  return `${p}.${childExp}`;
}

/** A value gdb's --simple-values leaves out (aggregates) gets a short placeholder. */
export function aggregatePlaceholder(type: string | undefined): string {
  const arr = type?.match(/\[(\d+)\]\s*$/);
  if (arr) return `[${arr[1]}]`;
  return '{…}';
}

/** A value as the Variables view shows it: gdb's `{...}` for an aggregate is the same `{…}` as the placeholder. */
export function shownValue(value: string | undefined, type: string | undefined): string {
  return value === undefined || value === '{...}' ? aggregatePlaceholder(type) : value;
}

/**
 * A character array in gdb's repeat form: the NULs that fill a buffer after its string are said,
 * not written out (`"square", '\000' <repeats 9 times>` for a `char[16]`, not nine `\000`). gdb
 * does this itself only for runs over `print repeats` (10), which leaves most buffers written out.
 */
export function collapseTrailingNuls(text: string): string {
  const m = /^"((?:[^"\\]|\\.)*?)((?:\\000){4,})"$/.exec(text);
  if (!m) return text;
  const tail = `'\\000' <repeats ${m[2]!.length / 4} times>`;
  return m[1] ? `"${m[1]}", ${tail}` : tail;
}

/** Pointers and aggregates can be expanded; plain scalars cannot. */
export function isExpandableType(type: string | undefined, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (!type) return false;
  const t = type.trim();
  // A pointer to void or to a function has nothing to show below it.
  if (/^(const\s+)?void\s*\*$/.test(t) || t.includes('(*)')) return false;
  return t.endsWith('*') && !/^0x0+$/.test(value.split(' ')[0] ?? '');
}
