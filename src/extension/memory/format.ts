/**
 * Addresses and bytes as the Memory view shows them. Shared by the extension and the webview script,
 * so it uses neither `vscode` nor the DOM. Addresses are bigints: guest addresses are 64-bit.
 */

export const ROW_BYTES = 16;
export const ADDRESS_LIMIT = 1n << 64n;
export type WordSize = 1 | 2 | 4 | 8;
export const WORD_SIZES: readonly WordSize[] = [1, 2, 4, 8];

/** A byte's value 0–255, or one of these. */
export const UNREADABLE = -1;
export const PENDING = -2;

export function isWordSize(n: unknown): n is WordSize {
  return n === 1 || n === 2 || n === 4 || n === 8;
}

/** `0x…` (hex) or plain digits (decimal, as gdb reads them); undefined for anything else. */
export function parseAddress(text: string): bigint | undefined {
  const t = text.trim();
  let v: bigint | undefined;
  if (/^0x[0-9a-f]{1,16}$/i.test(t)) v = BigInt(t);
  else if (/^\d{1,20}$/.test(t)) v = BigInt(t);
  return v !== undefined && v < ADDRESS_LIMIT ? v : undefined;
}

/** The first address in a debugger's value text: `0x1234`, `(int *) 0x1234 <sym>`, `4660`. */
export function addressInValue(value: string): bigint | undefined {
  const hex = /(?:^|[\s)=])(0x[0-9a-f]{1,16})\b/i.exec(value);
  if (hex?.[1]) return parseAddress(hex[1]);
  return parseAddress(value);
}

/** Zero-padded hex, 8 digits below 4 GiB and 16 above, so the row addresses line up. */
export function hexAddress(a: bigint, digits = a < 1n << 32n ? 8 : 16): string {
  return a.toString(16).padStart(digits, '0');
}

export function toHex(a: bigint): string {
  return `0x${a.toString(16)}`;
}

export function alignDown(a: bigint, n: number): bigint {
  const m = BigInt(n);
  return a - (((a % m) + m) % m);
}

/** Keeps a row start inside the address space, with `rows` rows shown from it. */
export function clampTop(top: bigint, rows: number): bigint {
  const last = ADDRESS_LIMIT - BigInt(Math.max(1, rows) * ROW_BYTES);
  const t = alignDown(top, ROW_BYTES);
  return t < 0n ? 0n : t > last ? last : t;
}

/** A little-endian unsigned value of `bytes`, or undefined when one is not known. */
export function littleEndian(bytes: readonly number[]): bigint | undefined {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i];
    if (b === undefined || b < 0 || b > 255) return undefined;
    v = (v << 8n) | BigInt(b);
  }
  return v;
}

/** `value` as `size` little-endian bytes. */
export function toLittleEndian(value: bigint, size: number): number[] {
  const out: number[] = [];
  let v = value;
  for (let i = 0; i < size; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** A word as the grid shows it: hex digits, most significant first; `?` unreadable, `·` not read yet. */
export function wordText(bytes: readonly number[]): string {
  if (bytes.some((b) => b === UNREADABLE)) return '??'.repeat(bytes.length);
  if (bytes.some((b) => b === PENDING || b === undefined)) return '··'.repeat(bytes.length);
  return [...bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function asciiChar(b: number): string {
  if (b === UNREADABLE) return '?';
  if (b < 0) return ' ';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

/**
 * What the user typed into a word of `size` bytes: hex digits (an optional `0x`), at most the word's
 * width. Returns the bytes to write (little-endian), or undefined when it is not such a value.
 */
export function parseWordInput(text: string, size: WordSize): number[] | undefined {
  const t = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]+$/i.test(t) || t.length > size * 2) return undefined;
  return toLittleEndian(BigInt(`0x${t}`), size);
}
