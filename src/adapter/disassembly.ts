/**
 * DAP disassemble on x86, where instructions have no fixed length: scrolling back means finding
 * a start address from which decoding lands exactly on the reference instruction.
 */
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { SourceFileName } from './sourcePaths';

/** The longest x86 instruction. */
const MAX_INSN = 15;

const length = (i: mi.MiInstruction): number => (i.opcodes.trim() ? i.opcodes.trim().split(/\s+/).length : 1);

/** Typical x86 code averages under 6 bytes an instruction: try that window before the worst case. */
const TYPICAL_INSN = 6;

/** Up to `n` instructions that end exactly at `base`. */
async function before(gdb: Gdb, base: bigint, n: number): Promise<mi.MiInstruction[]> {
  if (n <= 0 || base === 0n) return [];
  let best: mi.MiInstruction[] = [];
  for (const per of [TYPICAL_INSN, MAX_INSN]) {
    const span = BigInt(n * per);
    const first = base > span ? base - span : 0n;
    // x86 decoding resynchronises after a few instructions: try a few starts until one lines up.
    for (let skew = 0n; skew < BigInt(MAX_INSN) && first + skew < base; skew++) {
      const insns = await mi.dataDisassemble(gdb, first + skew, base).catch(() => undefined);
      if (!insns || insns.length === 0) continue;
      const last = insns[insns.length - 1]!;
      if (last.address + BigInt(length(last)) !== base) continue;
      if (insns.length >= n || first === 0n) return insns.slice(-n);
      best = insns;
      break;
    }
  }
  return best.slice(-n);
}

async function from(gdb: Gdb, base: bigint, n: number): Promise<mi.MiInstruction[]> {
  if (n <= 0) return [];
  let insns: mi.MiInstruction[] = [];
  for (const per of [TYPICAL_INSN, MAX_INSN]) {
    insns = (await mi.dataDisassemble(gdb, base, base + BigInt(n * per)).catch(() => [])).filter((i) => i.address >= base);
    if (insns.length >= n) break;
  }
  return insns.slice(0, n);
}

const hex = (a: bigint): string => `0x${a.toString(16).padStart(16, '0')}`;

/**
 * Exactly `count` instructions: the window [instructionOffset, instructionOffset + count) around the
 * instruction at `base`; positions with no instruction are filled with invalid entries.
 */
export async function disassemble(
  gdb: Gdb,
  base: bigint,
  instructionOffset: number,
  count: number,
  /** The local file for gdb's source name (see sourcePaths.ts). */
  localPath: (name: SourceFileName) => string,
): Promise<DebugProtocol.DisassembledInstruction[]> {
  const wantBefore = Math.max(0, Math.min(count, -instructionOffset));
  const skipAfter = Math.max(0, instructionOffset);
  const wantAfter = Math.max(0, count - wantBefore);
  const [pre, post] = await Promise.all([before(gdb, base, wantBefore), from(gdb, base, skipAfter + wantAfter)]);
  const window = [...pre, ...post.slice(skipAfter)];

  const out: DebugProtocol.DisassembledInstruction[] = [];
  // Missing instructions before the first known one are placeholders at decreasing addresses.
  const missingBefore = wantBefore - pre.length;
  const firstKnown = window[0]?.address ?? base;
  for (let i = missingBefore; i > 0; i--) {
    const addr = firstKnown - BigInt(i);
    out.push({ address: hex(addr < 0n ? 0n : addr), instruction: '??', presentationHint: 'invalid' });
  }
  let lastFunc: string | undefined;
  for (const i of window.slice(0, count - out.length)) {
    const d: DebugProtocol.DisassembledInstruction = {
      address: hex(i.address),
      instructionBytes: i.opcodes,
      instruction: i.inst,
    };
    if (i.funcName && i.funcName !== lastFunc) d.symbol = i.funcName;
    lastFunc = i.funcName;
    const path = i.file || i.fullname ? localPath({ file: i.file ?? i.fullname ?? '', fullname: i.fullname }) : undefined;
    if (path && i.line) {
      d.location = { name: basename(path), path };
      d.line = i.line;
    }
    out.push(d);
  }
  let next = window.length > 0 ? window[window.length - 1]!.address + BigInt(length(window[window.length - 1]!)) : base;
  while (out.length < count) {
    out.push({ address: hex(next), instruction: '??', presentationHint: 'invalid' });
    next += 1n;
  }
  return out;
}
