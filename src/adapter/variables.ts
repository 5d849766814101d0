/**
 * What a DAP variablesReference or frameId stands for. References live until the guest runs again.
 */
import type { FrameContext } from '../mi/commands';

export type VarContainer =
  | { kind: 'locals'; at: FrameContext }
  | { kind: 'registers'; at: FrameContext }
  | { kind: 'registerGroup'; at: FrameContext; names: string[] }
  /** An expression whose gdb variable object is made only when the user expands it. */
  | { kind: 'expression'; at: FrameContext | undefined; expression: string }
  | { kind: 'varobj'; name: string; evaluateName: string | undefined; at: FrameContext | undefined; type?: string };

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

/** Pointers and aggregates can be expanded; plain scalars cannot. */
export function isExpandableType(type: string | undefined, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (!type) return false;
  const t = type.trim();
  // A pointer to void or to a function has nothing to show below it.
  if (/^(const\s+)?void\s*\*$/.test(t) || t.includes('(*)')) return false;
  return t.endsWith('*') && !/^0x0+$/.test(value.split(' ')[0] ?? '');
}
