/**
 * objdump's linear sweep of an image, as the oracle for instruction boundaries. objdump starts
 * afresh at every symbol; where data inside code makes that differ from one continuous sweep (what
 * gdb does, and the adapter), or where bytes are no instruction at all, the place is marked so that
 * tests compare only where decoders must agree.
 */
import { execFileSync } from 'node:child_process';

export interface Sweep {
  /** Instruction addresses, in order (zeros decoded too, as gdb does). */
  starts: bigint[];
  /**
   * Indices k where starts[k] is not where instruction k-1 ended (objdump restarted there), or where
   * objdump found no instruction (`(bad)`, `.byte`: data, which decoders split differently).
   */
  restarts: number[];
}

export function objdumpSweep(elf: string, section?: string): Sweep {
  const args = ['-d', '-z', '--insn-width=16', ...(section ? ['-j', section] : []), elf];
  const out = execFileSync('objdump', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  const starts: bigint[] = [];
  const restarts: number[] = [];
  let end: bigint | undefined;
  for (const m of out.matchAll(/^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(.*)$/gm)) {
    const at = BigInt(`0x${m[1]}`);
    if ((end !== undefined && at !== end) || /^\(bad\)|^\.byte/.test(m[3]!)) restarts.push(starts.length);
    starts.push(at);
    end = at + BigInt(m[2]!.trim().split(' ').length);
  }
  return { starts, restarts };
}

/** Whether instructions [from, to] of the sweep are one continuous run. */
export function continuous(sweep: Sweep, from: number, to: number): boolean {
  return !sweep.restarts.some((k) => k > from && k <= to);
}
