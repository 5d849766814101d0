/**
 * The DAP requests the Memory view makes, through `DebugSession.customRequest`, so that any adapter
 * with readMemory works, not only ours. Responses are checked: customRequest gives them untyped.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as vscode from 'vscode';
import { addressInValue, parseAddress, toHex, UNREADABLE } from './format';

/** Where a view reads: a DAP memory reference and, once known, the address it stands for. */
export interface MemoryTarget {
  ref: string;
  address?: bigint;
  /** The expression or variable it came from, for the title. */
  label: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** DAP offsets are numbers; beyond this distance from the reference, an address literal is used instead. */
const MAX_OFFSET = 2n ** 52n;

/** The reference and offset that name `address`, relative to `target` when that is close enough. */
export function locate(target: MemoryTarget, address: bigint): { ref: string; offset: number } {
  if (target.address !== undefined) {
    const d = address - target.address;
    if (d > -MAX_OFFSET && d < MAX_OFFSET) return { ref: target.ref, offset: Number(d) };
  }
  return { ref: toHex(address), offset: 0 };
}

export interface ReadResult {
  /** The address of the first byte, as the adapter reports it. */
  address?: bigint;
  /** Per byte of the range asked for: 0–255 or UNREADABLE. */
  values: Int16Array;
}

/**
 * Reads `count` bytes at `ref` + `offset`. A response may stop short (`unreadableBytes` follow its
 * data, and more may be readable after them): the rest of the range is asked for again, a few times.
 */
export async function readMemory(session: vscode.DebugSession, ref: string, offset: number, count: number): Promise<ReadResult> {
  const values = new Int16Array(count).fill(UNREADABLE);
  let at = 0;
  let first: bigint | undefined;
  for (let round = 0; at < count && round < 8; round++) {
    const args: DebugProtocol.ReadMemoryArguments = { memoryReference: ref, offset: offset + at, count: count - at };
    const body: unknown = await session.customRequest('readMemory', args);
    const r = isRecord(body) ? body : {};
    const address = typeof r.address === 'string' ? parseAddress(r.address) : undefined;
    if (round === 0) first = address;
    const data = typeof r.data === 'string' ? Buffer.from(r.data, 'base64') : Buffer.alloc(0);
    const unreadable = typeof r.unreadableBytes === 'number' && r.unreadableBytes > 0 ? r.unreadableBytes : 0;
    for (let i = 0; i < data.length && at + i < count; i++) values[at + i] = data[i] as number;
    const got = data.length + unreadable;
    // Nothing more said about the rest: it stays unreadable.
    if (got === 0 || (unreadable === 0 && data.length < count - at)) break;
    at += got;
  }
  return { address: first, values };
}

export async function writeMemory(session: vscode.DebugSession, ref: string, offset: number, bytes: readonly number[]): Promise<void> {
  const args: DebugProtocol.WriteMemoryArguments = { memoryReference: ref, offset, data: Buffer.from(bytes).toString('base64') };
  const body: unknown = await session.customRequest('writeMemory', args);
  const written = isRecord(body) ? body.bytesWritten : undefined;
  if (typeof written === 'number' && written < bytes.length) throw new Error(`Only ${written} of ${bytes.length} bytes were written.`);
}

/** The frame VS Code shows for this session, so expressions see its locals. */
function currentFrame(session: vscode.DebugSession): number | undefined {
  const item = vscode.debug.activeStackItem;
  return item instanceof vscode.DebugStackFrame && item.session.id === session.id ? item.frameId : undefined;
}

async function evaluate(session: vscode.DebugSession, expression: string): Promise<{ result: string; memoryReference?: string } | undefined> {
  const args: DebugProtocol.EvaluateArguments = { expression, frameId: currentFrame(session), context: 'watch' };
  try {
    const body: unknown = await session.customRequest('evaluate', args);
    if (!isRecord(body) || typeof body.result !== 'string') return undefined;
    return { result: body.result, memoryReference: typeof body.memoryReference === 'string' ? body.memoryReference : undefined };
  } catch {
    return undefined;
  }
}

/**
 * What "go to" means for what the user typed: an address (`0x…` or decimal); else an expression whose
 * value has a memory reference (a pointer: where it points; an array or struct: where it is); else the
 * object's own storage (`&(expr)`, for a scalar variable); else an integer value taken as an address.
 */
export async function resolveTarget(session: vscode.DebugSession, text: string): Promise<MemoryTarget> {
  const label = text.trim();
  if (!label) throw new Error('Type an address or an expression.');
  const literal = parseAddress(label);
  if (literal !== undefined) return { ref: toHex(literal), address: literal, label: toHex(literal) };
  const value = await evaluate(session, label);
  if (value?.memoryReference) return { ref: value.memoryReference, address: refAddress(value.memoryReference), label };
  const storage = await evaluate(session, `&(${label})`);
  if (storage?.memoryReference) return { ref: storage.memoryReference, address: refAddress(storage.memoryReference), label: `&${label}` };
  const number = value ? addressInValue(value.result) : undefined;
  if (number !== undefined) return { ref: toHex(number), address: number, label };
  throw new Error(value ? `"${label}" = ${value.result} has no address.` : `"${label}" cannot be evaluated here.`);
}

/** Adapters like ours (and cppdbg, cortex-debug) use the address itself, `0x…`, as the reference. */
export function refAddress(ref: string): bigint | undefined {
  return /^0x[0-9a-f]{1,16}$/i.test(ref) ? BigInt(ref) : undefined;
}

export type LocatedTarget = MemoryTarget & { address: bigint };

/** The address behind an opaque reference, from a one-byte read. */
export async function probeAddress(session: vscode.DebugSession, target: MemoryTarget): Promise<LocatedTarget> {
  if (target.address !== undefined) return { ...target, address: target.address };
  const r = await readMemory(session, target.ref, 0, 1);
  if (r.address === undefined) throw new Error(`The debugger gave no address for ${target.label}.`);
  return { ...target, address: r.address };
}
