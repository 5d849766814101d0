/**
 * Messages between a Memory view's panel (extension host) and its webview. Addresses travel as `0x…`
 * strings (bigints do not survive postMessage). What the webview sends is checked before use.
 */
import { isWordSize, type WordSize } from './format';

export type RunState = 'stopped' | 'running' | 'ended';
export type AccessType = 'write' | 'read' | 'readWrite';

export interface ViewBreakpoint {
  id: string;
  label: string;
  verified: boolean;
  message?: string;
}

export interface ViewState {
  /** What the view was opened on: an expression, a variable or an address. */
  title: string;
  /** Where it was opened, marked in the grid. */
  origin?: string;
  /** Counts the panel's jumps (go to, follow, back): the webview takes `top` and `cursor` when it changes. */
  jump: number;
  top: string;
  cursor: string;
  anchor?: string;
  wordSize: WordSize;
  session: string;
  run: RunState;
  canGoBack: boolean;
  canWrite: boolean;
  breakpoints: ViewBreakpoint[];
  /** The last thing that went wrong, shown until the next action. */
  error?: string;
}

export type ToWebview =
  | { type: 'state'; state: ViewState }
  /** The bytes from `start` on (see WindowBytes), for the window the webview last asked for. */
  | { type: 'bytes'; start: string; values: number[]; changed: number[] };

export type FromWebview =
  | { type: 'ready' }
  /** The webview shows `rows` rows from `top`; the cursor and selection anchor moved with it. */
  | { type: 'window'; top: string; rows: number; cursor: string; anchor?: string }
  | { type: 'goto'; target: string }
  | { type: 'write'; address: string; bytes: number[] }
  | { type: 'follow'; address: string }
  | { type: 'back' }
  | { type: 'wordSize'; size: WordSize }
  | { type: 'dataBreakpoint'; address: string; bytes: number; access: AccessType }
  | { type: 'removeDataBreakpoint'; id: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isHex = (v: unknown): v is string => typeof v === 'string' && /^0x[0-9a-f]{1,16}$/i.test(v);
const isByteList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.length <= 4096 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);

/** The message if it is one the webview may send, else undefined. */
export function parseFromWebview(m: unknown): FromWebview | undefined {
  if (!isRecord(m)) return undefined;
  switch (m.type) {
    case 'ready':
    case 'back':
      return { type: m.type };
    case 'window':
      if (!isHex(m.top) || !isHex(m.cursor) || (m.anchor !== undefined && !isHex(m.anchor))) return undefined;
      if (typeof m.rows !== 'number' || !Number.isInteger(m.rows) || m.rows < 1 || m.rows > 1024) return undefined;
      return { type: 'window', top: m.top, rows: m.rows, cursor: m.cursor, anchor: m.anchor };
    case 'goto':
      return typeof m.target === 'string' && m.target.length <= 1000 ? { type: 'goto', target: m.target } : undefined;
    case 'write':
      return isHex(m.address) && isByteList(m.bytes) ? { type: 'write', address: m.address, bytes: m.bytes } : undefined;
    case 'follow':
      return isHex(m.address) ? { type: 'follow', address: m.address } : undefined;
    case 'wordSize':
      return isWordSize(m.size) ? { type: 'wordSize', size: m.size } : undefined;
    case 'dataBreakpoint':
      if (!isHex(m.address) || typeof m.bytes !== 'number' || !Number.isInteger(m.bytes) || m.bytes < 1 || m.bytes > 4096) return undefined;
      if (m.access !== 'write' && m.access !== 'read' && m.access !== 'readWrite') return undefined;
      return { type: 'dataBreakpoint', address: m.address, bytes: m.bytes, access: m.access };
    case 'removeDataBreakpoint':
      return typeof m.id === 'string' ? { type: 'removeDataBreakpoint', id: m.id } : undefined;
    default:
      return undefined;
  }
}
