/**
 * Data model of parsed GDB/MI output records, plus small typed accessors.
 *
 * See the GDB manual, "GDB/MI Output Syntax".
 */

/**
 * An MI value: a C string constant, a tuple, or a list.
 *
 * A list of values `["a","b"]` is an array of the values; a list of results
 * `[frame={..},frame={..}]` is an array of the results' values (the keys are
 * dropped).
 */
export type MiValue = string | MiTuple | MiValue[];

/**
 * A tuple `{a="1",b=[...]}` or the results of a record.
 *
 * A key repeated in one tuple (legacy MI output) keeps every value: the entry
 * becomes an array of them, in order of appearance.
 *
 * Tuples are ordinary objects; check membership with `Object.hasOwn` (or the
 * accessors below) rather than `in`, since a key such as `toString` is only
 * present when gdb actually emitted it.
 */
export interface MiTuple {
  [key: string]: MiValue;
}

export type MiResultClass = 'done' | 'running' | 'connected' | 'error' | 'exit';

export type MiRecord =
  | { kind: 'result'; token?: number; resultClass: MiResultClass; results: MiTuple }
  | { kind: 'exec' | 'status' | 'notify'; token?: number; asyncClass: string; results: MiTuple }
  | { kind: 'console' | 'target' | 'log'; text: string }
  | { kind: 'prompt' }
  /** Anything that is not MI (e.g. inferior output on gdb's stdout), or malformed MI. */
  | { kind: 'unparsed'; line: string };

/** `^done`, `^error`, ... */
export type MiResultRecord = Extract<MiRecord, { kind: 'result' }>;
/** `*stopped`, `+download`, `=thread-group-started`, ... */
export type MiAsyncRecord = Extract<MiRecord, { kind: 'exec' | 'status' | 'notify' }>;
/** `~"..."`, `@"..."`, `&"..."` */
export type MiStreamRecord = Extract<MiRecord, { kind: 'console' | 'target' | 'log' }>;
export type MiPromptRecord = Extract<MiRecord, { kind: 'prompt' }>;
export type MiUnparsedRecord = Extract<MiRecord, { kind: 'unparsed' }>;
export type MiRecordKind = MiRecord['kind'];

const hasOwn = Object.hasOwn as (o: object, k: PropertyKey) => boolean;

/** Whether `v` is a tuple (an object that is not a list). */
export function isMiTuple(v: MiValue | undefined): v is MiTuple {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The string of a const value; `undefined` for an absent value, a tuple or a list. */
export function miString(v: MiValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The tuple; `undefined` for an absent value, a string or a list. */
export function miTuple(v: MiValue | undefined): MiTuple | undefined {
  return isMiTuple(v) ? v : undefined;
}

/** The list; an absent or non-list value gives `[]`. */
export function miList(v: MiValue | undefined): MiValue[] {
  return Array.isArray(v) ? v : [];
}

/** The tuples of a list (other elements are skipped); an absent or non-list value gives `[]`. */
export function miTuples(v: MiValue | undefined): MiTuple[] {
  return miList(v).filter(isMiTuple);
}

/** The strings of a list (other elements are skipped); an absent or non-list value gives `[]`. */
export function miStrings(v: MiValue | undefined): string[] {
  return miList(v).filter((e): e is string => typeof e === 'string');
}

const DEC_INT = /^[+-]?[0-9]+$/;
const HEX_INT = /^[+-]?0[xX][0-9a-fA-F]+$/;
const DEC_UINT = /^[0-9]+$/;
const HEX_UINT = /^0[xX][0-9a-fA-F]+$/;
const DEC_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/**
 * A number from a const value: decimal (`"42"`, `"-1"`, `"2.5"`) or hexadecimal
 * (`"0x1f"`). `undefined` if the value is absent, not a string, not a number, or
 * an integer too large to be represented exactly (use {@link miBigInt} for
 * addresses).
 */
export function miNumber(v: MiValue | undefined): number | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > 400) return undefined;
  if (DEC_INT.test(v) || HEX_INT.test(v)) {
    const b = miBigInt(v);
    if (b === undefined) return undefined;
    const n = Number(b);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (DEC_FLOAT.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** An integer from a const value, decimal or `0x` hexadecimal, exactly; `undefined` otherwise. */
export function miBigInt(v: MiValue | undefined): bigint | undefined {
  if (typeof v !== 'string' || v.length > 400) return undefined;
  let s = v;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (!DEC_UINT.test(s) && !HEX_UINT.test(s)) return undefined;
  const b = BigInt(s); // BigInt accepts "0x..." and decimal
  return neg ? -b : b;
}

/** `t[key]` if `t` is a tuple that has `key` as its own entry. */
export function miGet(t: MiValue | undefined, key: string): MiValue | undefined {
  return isMiTuple(t) && hasOwn(t, key) ? t[key] : undefined;
}
