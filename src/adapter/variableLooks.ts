/**
 * The one more look gdb gives a variable beyond its value: a character array as the string gdb
 * prints, and an aggregate's address for the memory view (a pointer carries its address already).
 * Looks are kept per frame until the guest runs or its memory changes, and frame 0's are asked as
 * soon as a stop's locals are known, before VS Code asks for them: its Variables view then needs no
 * round trip of its own.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext } from '../mi/commands';
import { addressIn } from './memory';
import { collapseTrailingNuls, isExpandableType } from './variables';

export const CHAR_ARRAY = /^(const\s+)?(unsigned\s+|signed\s+)?char\s*\[\d+\]$/;

/** What is kept per frame is kept apart for each guest thread unwound in the same vCPU. */
export const frameKey = (at: FrameContext & { guest?: number }): string => `${at.guest ?? at.threadId}:${at.level}`;

export const isPointerType = (type: string | undefined): boolean => !!type && (/\*\s*(const\s*)?$/.test(type.trim()) || type.includes('(*)'));

export class VariableLooks {
  /** `-data-evaluate-expression` answers by `<frame>:<expression>`. */
  private readonly looks = new Map<string, Promise<string | undefined>>();

  clear(): void {
    this.looks.clear();
  }

  /** The looks frame `at`'s locals will need, asked now (the stop's locals have just arrived). */
  prefetch(gdb: Gdb, locals: mi.MiVariable[], at: FrameContext): void {
    for (const v of locals) {
      if (!isExpandableType(v.type, v.value) || isPointerType(v.type)) continue;
      if (v.type && CHAR_ARRAY.test(v.type)) void this.look(gdb, v.name, at);
      void this.look(gdb, `&(${v.name})`, at);
    }
  }

  /**
   * `vars` with their looks (pipelined). `addresses: false` for members of an expanded struct: an
   * address each would cost a round trip each.
   */
  async decorate(gdb: Gdb, vars: DebugProtocol.Variable[], at: FrameContext | undefined, addresses = true): Promise<DebugProtocol.Variable[]> {
    await Promise.all(
      vars.map(async (v) => {
        if (isPointerType(v.type)) {
          const addr = addressIn(v.value);
          if (addr !== undefined) v.memoryReference = `0x${addr.toString(16)}`;
          return;
        }
        if (!v.evaluateName || v.variablesReference === 0) return;
        const [text, addr] = await Promise.all([
          v.type && CHAR_ARRAY.test(v.type) ? this.look(gdb, v.evaluateName, at) : undefined,
          addresses ? this.look(gdb, `&(${v.evaluateName})`, at) : undefined,
        ]);
        if (text !== undefined) v.value = collapseTrailingNuls(text);
        const a = addressIn(addr);
        if (a !== undefined) v.memoryReference = `0x${a.toString(16)}`;
      }),
    );
    return vars;
  }

  private look(gdb: Gdb, expression: string, at: FrameContext | undefined): Promise<string | undefined> {
    const key = at ? `${frameKey(at)}:${expression}` : undefined;
    const known = key === undefined ? undefined : this.looks.get(key);
    if (known) return known;
    const answer = mi.dataEvaluateExpression(gdb, expression, at).catch(() => undefined);
    if (key !== undefined) this.looks.set(key, answer);
    return answer;
  }
}
