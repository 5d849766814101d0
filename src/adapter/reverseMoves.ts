/**
 * Moves in a replay that gdb has no single command for, built from reverse continues to temporary
 * breakpoints and single steps. Each runs the guest silently (run control waits for the stop
 * without showing it to the user); the caller reports the final stop.
 */
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { RunControl } from './runControl';

type Runner = Pick<RunControl, 'runSilently'>;

const BOUND_MS = 30_000;

/** Back to the last time `address` was about to run. */
export async function backTo(gdb: Gdb, run: Runner, address: string): Promise<void> {
  const bp = await mi.breakInsert(gdb, `*${address}`, { temporary: true, pending: false });
  try {
    await run.runSilently(() => mi.execContinue(gdb, undefined, true), BOUND_MS);
  } finally {
    if (bp.number) await mi.breakDelete(gdb, [bp.number]).catch(() => undefined);
  }
}

/**
 * gdb 13's reverse step stops at the start of a line-table entry, and a line can have several (one
 * per column): going on to the line's first entry makes one Step Back one line.
 */
export async function finishLineBackwards(gdb: Gdb, run: Runner, pc: string): Promise<void> {
  const start = await mi.lineStart(gdb, pc).catch(() => undefined);
  if (start && BigInt(start) < BigInt(pc)) await backTo(gdb, run, start).catch(() => undefined);
}

/**
 * From a trap handler back to the faulting line's start, or to the faulting instruction `pc`, before
 * it ran. The faulting instruction never retires, so it shares its instruction count with the
 * handler's first one and QEMU cannot stop on it going backwards: the way there is back to the
 * line's start, then forward.
 */
export async function backToFault(gdb: Gdb, run: Runner, threadId: number, pc: string, to: 'line' | 'instruction'): Promise<void> {
  await backTo(gdb, run, (await mi.lineStart(gdb, pc).catch(() => undefined)) ?? pc);
  if (to === 'line') return;
  const at = { threadId, level: 0 };
  for (let i = 0; i < 64; i++) {
    const here = /0x[0-9a-f]+/i.exec(await mi.dataEvaluateExpression(gdb, '$pc', at))?.[0];
    if (!here || BigInt(here) >= BigInt(pc)) return;
    await run.runSilently(() => mi.execStep(gdb, threadId, true), BOUND_MS);
  }
}

/** A reverse watchpoint stops one instruction after the write: one step back is the write itself. */
export async function backOntoWrite(gdb: Gdb, run: Runner, threadId: number): Promise<void> {
  await run.runSilently(() => mi.execStep(gdb, threadId, true, true), BOUND_MS).catch(() => undefined);
}
