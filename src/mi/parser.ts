/**
 * GDB/MI output parser.
 *
 * Implements the grammar of the GDB manual, "GDB/MI Output Syntax":
 *
 *   result-record  → [ token ] "^" result-class ( "," result )* nl
 *   async-record   → [ token ] ( "*" | "+" | "=" ) async-class ( "," result )* nl
 *   stream-record  → ( "~" | "@" | "&" ) c-string nl
 *   prompt         → "(gdb)" nl
 *   result         → variable "=" value
 *   value          → const | tuple | list
 *   tuple          → "{}" | "{" result ( "," result )* "}"
 *   list           → "[]" | "[" value ( "," value )* "]" | "[" result ( "," result )* "]"
 *
 * Everything that does not match is returned as an `unparsed` record (gdb's
 * stdout may carry inferior output); the parser never throws, runs in time
 * linear in the input, and is iterative (nesting deeper than
 * {@link MI_MAX_DEPTH} degrades to `unparsed`).
 *
 * Quirks of real gdb output that are tolerated:
 * - a result or async record without results (`^done`, `*running`), and a
 *   dangling comma at the end of a record (`^done,`);
 * - a key repeated in a tuple: the entry becomes an array of all its values;
 * - lists mixing results and values (keys are dropped);
 * - tuples of bare values, e.g. `script={"silent","print x"}` (MI2): read as a list;
 * - a bare tuple in a record, as in `+download,{section=".text",section-size="6668"}`:
 *   its entries are the record's results;
 * - MI2 multi-location breakpoints, `bkpt={number="1",...},{number="1.1",...},{...}`
 *   (bare tuples following a tuple-valued result, in a record, tuple or list):
 *   they are gathered into a `locations` list of the preceding tuple, i.e. the
 *   MI3 shape `bkpt={number="1",...,locations=[{number="1.1",...},{...}]}`;
 * - trailing whitespace and a trailing `\r` on a line; `(gdb)` with or without
 *   a trailing space.
 */

import type { MiRecord, MiResultClass, MiTuple, MiValue } from './types';

/** Maximum nesting depth of tuples and lists; deeper input gives an `unparsed` record. */
export const MI_MAX_DEPTH = 1000;

/** Default bound of a single line in {@link MiStreamParser} (16 MiB). */
export const MI_DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const QUOTE = 0x22; // "
const COMMA = 0x2c; // ,
const EQUALS = 0x3d; // =
const BACKSLASH = 0x5c; // \
const LBRACE = 0x7b; // {
const RBRACE = 0x7d; // }
const LBRACKET = 0x5b; // [
const RBRACKET = 0x5d; // ]
const CR = 0x0d;
const LF = 0x0a;

const RESULT_CLASSES: ReadonlySet<string> = new Set<MiResultClass>([
  'done',
  'running',
  'connected',
  'error',
  'exit',
]);

const hasOwn = Object.hasOwn as (o: object, k: PropertyKey) => boolean;

/** Characters of a variable (result name) or of a result/async class: printable ASCII except delimiters. */
function isNameChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  return (
    c !== QUOTE &&
    c !== COMMA &&
    c !== EQUALS &&
    c !== BACKSLASH &&
    c !== LBRACE &&
    c !== RBRACE &&
    c !== LBRACKET &&
    c !== RBRACKET
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isTrailingSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === CR;
}

function isTupleValue(v: MiValue): v is MiTuple {
  return typeof v === 'object' && !Array.isArray(v);
}

/** Sets an own entry, also for the key `__proto__`. */
function setOwn(t: MiTuple, key: string, value: MiValue): void {
  if (key === '__proto__') {
    Object.defineProperty(t, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    t[key] = value;
  }
}

// ---------------------------------------------------------------------------
// C strings

interface Scanned {
  value: string;
  next: number;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** The byte denoted by a one-character escape `\c`, or -1. */
function simpleEscape(c: number): number {
  switch (c) {
    case 0x6e: return 0x0a; // \n
    case 0x74: return 0x09; // \t
    case 0x72: return 0x0d; // \r
    case 0x22: return 0x22; // \"
    case 0x5c: return 0x5c; // \\
    case 0x61: return 0x07; // \a
    case 0x62: return 0x08; // \b
    case 0x66: return 0x0c; // \f
    case 0x76: return 0x0b; // \v
    case 0x65: return 0x1b; // \e
    default: return -1;
  }
}

/** Decodes escaped bytes as UTF-8 (invalid sequences become U+FFFD). */
function decodeBytes(bytes: number[]): string {
  if (bytes.length <= 32) {
    let ascii = '';
    for (const b of bytes) {
      if (b >= 0x80) return utf8Decoder.decode(Uint8Array.from(bytes));
      ascii += String.fromCharCode(b);
    }
    return ascii;
  }
  return utf8Decoder.decode(Uint8Array.from(bytes));
}

/**
 * Scans a C string whose opening quote is just before `pos`, up to `end`.
 *
 * Escapes denote bytes; consecutive escaped bytes are decoded together as UTF-8
 * (invalid sequences become U+FFFD). Unescaped characters are kept as they are.
 * An unknown escape `\c` gives `c`. Octal escapes take 1–3 digits (the value
 * is taken modulo 256), hex escapes 1–2 digits.
 */
function scanCString(s: string, pos: number, end: number): Scanned | undefined {
  let out = '';
  let runStart = pos;
  let bytes: number[] = [];
  while (pos < end) {
    const c = s.charCodeAt(pos);
    if (c !== QUOTE && c !== BACKSLASH) {
      if (bytes.length > 0) {
        out += decodeBytes(bytes);
        bytes = [];
      }
      pos++;
      continue;
    }
    if (pos > runStart) out += s.slice(runStart, pos);
    if (c === QUOTE) {
      if (bytes.length > 0) out += decodeBytes(bytes);
      return { value: out, next: pos + 1 };
    }
    // Backslash escape.
    pos++;
    if (pos >= end) return undefined;
    const e = s.charCodeAt(pos);
    const simple = simpleEscape(e);
    if (simple >= 0) {
      bytes.push(simple);
      pos++;
    } else if (e >= 0x30 && e <= 0x37) {
      let v = 0;
      let n = 0;
      while (n < 3 && pos < end) {
        const d = s.charCodeAt(pos);
        if (d < 0x30 || d > 0x37) break;
        v = v * 8 + (d - 0x30);
        pos++;
        n++;
      }
      bytes.push(v & 0xff);
    } else if (e === 0x78 /* x */ && pos + 1 < end && hexValue(s.charCodeAt(pos + 1)) >= 0) {
      pos++;
      let v = 0;
      let n = 0;
      while (n < 2 && pos < end) {
        const h = hexValue(s.charCodeAt(pos));
        if (h < 0) break;
        v = v * 16 + h;
        pos++;
        n++;
      }
      bytes.push(v);
    } else {
      // Unknown escape (or `\x` without digits): the character itself,
      // which starts a run of unescaped text.
      if (bytes.length > 0) {
        out += decodeBytes(bytes);
        bytes = [];
      }
      runStart = pos;
      pos++;
      continue;
    }
    runStart = pos;
  }
  return undefined; // unterminated
}

// ---------------------------------------------------------------------------
// Results, tuples and lists (iterative)

interface Frame {
  /** Closing character code; -1 for the top level of a record. */
  close: number;
  /** The values, when collecting a list (or a tuple of bare values, read as a list). */
  list: MiValue[] | undefined;
  /** The entries, when collecting a tuple. */
  tuple: MiTuple;
  /** Keys of `tuple` whose entry is an array of repeated values. */
  multi: Set<string> | undefined;
  count: number;
  /** Key under which the finished value goes into the parent; undefined for a bare value. */
  key: string | undefined;
  /** Value of the latest keyed item if it is a tuple (MI2 multi-location quirk). */
  lastTuple: MiTuple | undefined;
  /** `locations` list created on `lastTuple` by the quirk. */
  quirkList: MiValue[] | undefined;
  /** A bare tuple at the top level of a record (`+download,{...}`): its entries go into this frame. */
  into: Frame | undefined;
}

/** Placeholder `tuple` of list frames; never written to. */
const NO_TUPLE: MiTuple = Object.freeze({}) as MiTuple;

function newFrame(close: number, isList: boolean, key: string | undefined): Frame {
  return {
    close,
    list: isList ? [] : undefined,
    tuple: isList ? NO_TUPLE : {},
    multi: undefined,
    count: 0,
    key,
    lastTuple: undefined,
    quirkList: undefined,
    into: undefined,
  };
}

/** Bare tuple after a tuple-valued result: append it to that tuple's `locations`. */
function deliverLocation(f: Frame, value: MiValue): boolean {
  const owner = f.lastTuple;
  if (owner === undefined || !isTupleValue(value)) return false;
  let locs = f.quirkList;
  if (locs === undefined) {
    if (hasOwn(owner, 'locations')) return false;
    locs = [];
    setOwn(owner, 'locations', locs);
    f.quirkList = locs;
  }
  locs.push(value);
  return true;
}

/** Adds a finished item to frame `f`; false if it does not fit there. */
function deliver(frame: Frame, key: string | undefined, value: MiValue): boolean {
  const f = frame.into ?? frame;
  if (key === undefined) {
    if (f.lastTuple !== undefined && isTupleValue(value)) return deliverLocation(f, value);
    if (f.list !== undefined) {
      f.list.push(value);
      f.count++;
      return true;
    }
    if (f.close !== -1 && f.count === 0) {
      // `{"a","b"}`: a tuple of bare values is read as a list.
      f.list = [value];
      f.count++;
      return true;
    }
    return false;
  }
  f.count++;
  f.lastTuple = isTupleValue(value) ? value : undefined;
  f.quirkList = undefined;
  if (f.list !== undefined) {
    f.list.push(value);
    return true;
  }
  const t = f.tuple;
  if (!hasOwn(t, key)) {
    setOwn(t, key, value);
  } else if (f.multi !== undefined && f.multi.has(key)) {
    (t[key] as MiValue[]).push(value);
  } else {
    setOwn(t, key, [t[key]!, value]);
    (f.multi ??= new Set()).add(key);
  }
  return true;
}

/**
 * Parses `( "," result )*` from `pos` to `end`; undefined if malformed.
 */
function parseResults(s: string, pos: number, end: number): MiTuple | undefined {
  const root = newFrame(-1, false, undefined);
  const stack: Frame[] = [root];
  let expectItem = false;
  for (;;) {
    const f = stack[stack.length - 1]!;
    if (!expectItem) {
      // After an item: ',' or the closing character (or the end, at top level).
      if (pos >= end) return stack.length === 1 ? root.tuple : undefined;
      const c = s.charCodeAt(pos);
      if (c === COMMA) {
        pos++;
        if (stack.length === 1 && pos >= end) return root.tuple; // dangling comma
        expectItem = true;
        continue;
      }
      if (c === f.close) {
        pos++;
        stack.pop();
        if (f.into !== undefined) continue; // merged into the record's results already
        if (!deliver(stack[stack.length - 1]!, f.key, f.list ?? f.tuple)) return undefined;
        continue;
      }
      return undefined;
    }

    // An item: [ variable "=" ] value.
    if (pos >= end) return undefined;
    let c = s.charCodeAt(pos);
    let key: string | undefined;
    if (c !== QUOTE && c !== LBRACE && c !== LBRACKET) {
      const start = pos;
      while (pos < end && isNameChar(c)) {
        pos++;
        c = pos < end ? s.charCodeAt(pos) : -1;
      }
      if (pos === start || c !== EQUALS) return undefined;
      key = s.slice(start, pos);
      pos++;
      if (pos >= end) return undefined;
      c = s.charCodeAt(pos);
    }
    if (c === QUOTE) {
      const str = scanCString(s, pos + 1, end);
      if (str === undefined) return undefined;
      pos = str.next;
      if (!deliver(f, key, str.value)) return undefined;
      expectItem = false;
    } else if (c === LBRACE || c === LBRACKET) {
      const close = c === LBRACE ? RBRACE : RBRACKET;
      pos++;
      if (pos < end && s.charCodeAt(pos) === close) {
        pos++;
        const empty = f === root && key === undefined && c === LBRACE && root.lastTuple === undefined;
        if (!empty && !deliver(f, key, c === LBRACE ? {} : [])) return undefined;
        expectItem = false;
      } else {
        if (stack.length > MI_MAX_DEPTH) return undefined;
        const child = newFrame(close, c === LBRACKET, key);
        if (f === root && key === undefined && c === LBRACE && root.lastTuple === undefined) {
          // `+download,{section=".text",...}`: the bare tuple holds the record's results.
          child.into = root;
        }
        stack.push(child);
        expectItem = true;
      }
    } else {
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------
// Records

/** Scans a class name (`done`, `stopped`, `thread-group-started`, ...) from `pos`. */
function scanName(s: string, pos: number, end: number): number {
  while (pos < end && isNameChar(s.charCodeAt(pos))) pos++;
  return pos;
}

function parseRecord(s: string, end: number): MiRecord | undefined {
  if (end === 5 && s.startsWith('(gdb)')) return { kind: 'prompt' };

  let pos = 0;
  while (pos < end && isDigit(s.charCodeAt(pos))) pos++;
  let token: number | undefined;
  if (pos > 0) {
    if (pos > 16) return undefined;
    token = Number(s.slice(0, pos));
    if (!Number.isSafeInteger(token)) return undefined;
  }
  if (pos >= end) return undefined;

  const c = s[pos];
  switch (c) {
    case '~':
    case '@':
    case '&': {
      if (token !== undefined) return undefined;
      if (pos + 1 >= end || s.charCodeAt(pos + 1) !== QUOTE) return undefined;
      const str = scanCString(s, pos + 2, end);
      if (str === undefined || str.next !== end) return undefined;
      const kind = c === '~' ? 'console' : c === '@' ? 'target' : 'log';
      return { kind, text: str.value };
    }
    case '^':
    case '*':
    case '+':
    case '=': {
      const nameStart = pos + 1;
      const nameEnd = scanName(s, nameStart, end);
      if (nameEnd === nameStart) return undefined;
      if (nameEnd < end && s.charCodeAt(nameEnd) !== COMMA) return undefined;
      const results = parseResults(s, nameEnd, end);
      if (results === undefined) return undefined;
      const cls = s.slice(nameStart, nameEnd);
      if (c === '^') {
        if (!RESULT_CLASSES.has(cls)) return undefined;
        return token === undefined
          ? { kind: 'result', resultClass: cls as MiResultClass, results }
          : { kind: 'result', token, resultClass: cls as MiResultClass, results };
      }
      const kind = c === '*' ? 'exec' : c === '+' ? 'status' : 'notify';
      return token === undefined
        ? { kind, asyncClass: cls, results }
        : { kind, token, asyncClass: cls, results };
    }
    default:
      return undefined;
  }
}

/**
 * Parses one complete line of gdb's MI output (without the newline; a trailing
 * `\r` is tolerated). Never throws: anything that is not MI gives
 * `{ kind: 'unparsed', line }` (with a trailing `\r` removed).
 */
export function parseMiLine(line: string): MiRecord {
  const text = line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
  let end = text.length;
  while (end > 0 && isTrailingSpace(text.charCodeAt(end - 1))) end--;
  try {
    return parseRecord(text, end) ?? { kind: 'unparsed', line: text };
  } catch {
    // Defensive only (e.g. allocation failure on absurd input): never throw.
    return { kind: 'unparsed', line: text };
  }
}

// ---------------------------------------------------------------------------
// Stream

export interface MiStreamParserOptions {
  /**
   * Bound on the bytes of one line (including a trailing `\r`); a longer line
   * is delivered as an `unparsed` record holding its first `maxLineBytes`
   * bytes, and the rest of it is discarded. Default {@link MI_DEFAULT_MAX_LINE_BYTES}.
   */
  maxLineBytes?: number;
}

/** Length of `buf` without an incomplete UTF-8 sequence at its end. */
function completeUtf8Length(buf: Uint8Array): number {
  const n = buf.length;
  // Look back at most 3 bytes for the lead byte of the last sequence.
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return n - i < need ? i : n;
  }
  return n;
}

/**
 * Splits gdb's stdout into lines and parses each into a record.
 *
 * Lines are split at `\n` at the byte level (a `\r` before it is dropped), so
 * a multi-byte UTF-8 character split across chunks is decoded correctly.
 * Records are delivered, in order, through the callback given to the
 * constructor. If the callback throws, the exception propagates out of
 * `push()`/`end()`; the records not yet delivered are kept and delivered first
 * on the next call. Re-entrant calls from the callback are queued, in order.
 */
export class MiStreamParser {
  private readonly onRecord: (rec: MiRecord) => void;
  private readonly maxLineBytes: number;
  /** Bytes of the current, incomplete line. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** An over-long line has been delivered truncated; its rest is skipped up to the next `\n`. */
  private discarding = false;
  private queue: (MiRecord | undefined)[] = [];
  private queueHead = 0;
  private delivering = false;

  constructor(onRecord: (rec: MiRecord) => void, options: MiStreamParserOptions = {}) {
    this.onRecord = onRecord;
    const max = options.maxLineBytes ?? MI_DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
    }
    this.maxLineBytes = max;
  }

  /** Number of bytes held for the current incomplete line (at most `maxLineBytes`). */
  get pendingBytes(): number {
    return this.partsLength;
  }

  /** Feeds a chunk of gdb's output. A string is encoded as UTF-8. */
  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(LF, start);
      const stop = nl === -1 ? buf.length : nl;
      if (this.discarding) {
        if (nl === -1) break;
        this.discarding = false;
        start = nl + 1;
        continue;
      }
      if (this.partsLength + (stop - start) > this.maxLineBytes) {
        const room = this.maxLineBytes - this.partsLength;
        const line = this.takeLine(buf.subarray(start, start + room));
        const len = completeUtf8Length(line);
        this.enqueue({ kind: 'unparsed', line: utf8Decoder.decode(line.subarray(0, len)) });
        if (nl === -1) {
          this.discarding = true;
          break;
        }
        start = nl + 1;
        continue;
      }
      if (nl === -1) {
        // Keep a copy: the caller may reuse its buffer.
        if (stop > start) {
          this.parts.push(Buffer.from(buf.subarray(start, stop)));
          this.partsLength += stop - start;
        }
        break;
      }
      this.enqueueLine(this.takeLine(buf.subarray(start, nl)));
      start = nl + 1;
    }
    this.drain();
  }

  /** Flushes a final unterminated line, then resets the line state. */
  end(): void {
    if (this.discarding) {
      this.discarding = false;
    } else if (this.partsLength > 0) {
      this.enqueueLine(this.takeLine(Buffer.alloc(0)));
    }
    this.drain();
  }

  /** The pending bytes followed by `tail`; clears the pending bytes. */
  private takeLine(tail: Buffer): Buffer {
    let line: Buffer;
    if (this.parts.length === 0) {
      line = tail;
    } else {
      this.parts.push(tail);
      line = Buffer.concat(this.parts, this.partsLength + tail.length);
    }
    this.parts = [];
    this.partsLength = 0;
    return line;
  }

  private enqueueLine(line: Buffer): void {
    const n = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    this.enqueue(parseMiLine(utf8Decoder.decode(line.subarray(0, n))));
  }

  private enqueue(rec: MiRecord): void {
    this.queue.push(rec);
  }

  private drain(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.queueHead < this.queue.length) {
        const rec = this.queue[this.queueHead]!;
        this.queue[this.queueHead] = undefined;
        this.queueHead++;
        this.onRecord(rec);
      }
      this.queue = [];
      this.queueHead = 0;
    } finally {
      this.delivering = false;
    }
  }
}
