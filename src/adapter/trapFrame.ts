/**
 * The faulting frame of a trap: a trap handler runs where gdb cannot unwind past it, so the frames
 * of the code that faulted are rebuilt from the registers the trap entry saved.
 */
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { FrameContext } from '../mi/commands';
import type { Symbolizer } from '../crash/symbolizer';
import { trapFromVector, type CrashFrame } from '../crash/report';

const hex = (n: bigint): string => `0x${n.toString(16)}`;

export interface RebuiltTrap {
  registers: Record<string, string>;
  frames: CrashFrame[];
  trap?: { kind: string; name: string };
}

/**
 * A trap handler runs where gdb cannot unwind past it: read the saved rip/rsp/rbp from its trap
 * frame and walk the frame-pointer chain of the code that faulted.
 */
export async function rebuildTrapFrames(
  gdb: Gdb,
  trapFrame: string,
  at: FrameContext,
  symbolizer: Symbolizer | undefined,
): Promise<RebuiltTrap | undefined> {
  const read = (expr: string): Promise<bigint | undefined> =>
    mi
      .dataEvaluateExpression(gdb, `(unsigned long)(${expr})`, at)
      .then((v) => (/^\d+$/.test(v) ? BigInt(v) : undefined))
      .catch(() => undefined);
  const [rip, rsp, rbp, cr2, rflags, trapnum, ec] = await Promise.all(
    ['rip', 'rsp', 'rbp', 'cr2', 'rflags', 'trapnum', 'ec'].map((r) => read(`${trapFrame}->${r}`)),
  );
  if (rip === undefined) return undefined;
  const trap = trapnum !== undefined && trapnum < 32n ? trapFromVector(Number(trapnum)) : undefined;
  const registers: Record<string, string> = { rip: hex(rip) };
  if (ec !== undefined) registers.ec = hex(ec);
  if (rsp !== undefined) registers.rsp = hex(rsp);
  if (rbp !== undefined) registers.rbp = hex(rbp);
  if (rflags !== undefined) registers.rflags = hex(rflags);
  if (cr2 !== undefined) registers.cr2 = hex(cr2);
  const pcs: { address: bigint; returnAddress: boolean }[] = [{ address: rip, returnAddress: false }];
  let fp = rbp;
  for (let depth = 0; fp && depth < 64; depth++) {
    const [ret, next] = await Promise.all([read(`*(unsigned long *)${fp + 8n}`), read(`*(unsigned long *)${fp}`)]);
    if (!ret || next === undefined) break;
    pcs.push({ address: ret, returnAddress: true });
    if (next <= fp) break;
    fp = next;
  }
  const resolved = symbolizer
    ? await symbolizer.symbolize(pcs.map((p) => ({ address: p.address, isReturnAddress: p.returnAddress }))).catch(() => undefined)
    : undefined;
  const frames = pcs.map((p, i): CrashFrame => {
    const r = resolved?.[i];
    return { address: hex(p.address), function: r?.function, file: r?.file, line: r?.line, returnAddress: p.returnAddress || undefined };
  });
  // Frames past the image's own code (the boot stub's zeroed frame pointer, garbage) end the walk.
  const end = frames.findIndex((f, i) => i > 0 && !f.function);
  return { registers, frames: end > 0 ? frames.slice(0, end) : frames, trap };
}
