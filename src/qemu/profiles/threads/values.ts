/**
 * gdb's printed form of arrays of integers, as `-data-evaluate-expression` returns it:
 * `{{1, 2}, {0 <repeats 16 times>}, {3, 4} <repeats 12 times>}`, numbers in decimal or (with
 * `set output-radix 16`) hexadecimal. Anything else (a truncated `...`, a string, an error) is an
 * error: the reader then knows the evaluation cannot be trusted.
 */

export type NumberTree = bigint | NumberTree[];

export class GdbValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GdbValueError';
  }
}

export function parseNumberTree(text: string): NumberTree {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new GdbValueError(`${what} at offset ${i} of gdb's value: ${text.slice(Math.max(0, i - 20), i + 40)}`);
  };
  const value = (): NumberTree => {
    ws();
    if (text[i] === '{') {
      i++;
      const items: NumberTree[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return items;
      }
      for (;;) {
        const item = value();
        ws();
        const rep = /^<repeats (\d+) times>/.exec(text.slice(i));
        if (rep) {
          i += rep[0].length;
          for (let k = 0; k < Number(rep[1]); k++) items.push(item);
        } else {
          items.push(item);
        }
        ws();
        if (text.startsWith('...', i)) fail('truncated array (gdb\'s "print elements" limit)');
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return items;
        }
        fail('expected "," or "}"');
      }
    }
    const m = /^-?(0x[0-9a-fA-F]+|\d+)/.exec(text.slice(i));
    if (!m) return fail('expected a number');
    i += m[0].length;
    const neg = m[0].startsWith('-');
    const v = BigInt(neg ? m[0].slice(1) : m[0]);
    // Everything is cast to unsigned long; a negative number can only be a 64-bit value printed signed.
    return neg ? (1n << 64n) - v : v;
  };
  const tree = value();
  ws();
  if (i !== text.length) fail('unexpected text after the value');
  return tree;
}

/** A two-level array of numbers with `columns` numbers in every row. */
export function parseRows(text: string, columns: number): bigint[][] {
  const tree = parseNumberTree(text);
  if (!Array.isArray(tree)) throw new GdbValueError('expected an array of rows');
  return tree.map((r, k) => {
    if (!Array.isArray(r) || r.length !== columns || r.some((c) => typeof c !== 'bigint')) {
      throw new GdbValueError(`row ${k} is not ${columns} numbers`);
    }
    return r as bigint[];
  });
}

/** A flat array of numbers. */
export function parseNumbers(text: string): bigint[] {
  const tree = parseNumberTree(text);
  if (!Array.isArray(tree) || tree.some((c) => typeof c !== 'bigint')) throw new GdbValueError('expected an array of numbers');
  return tree as bigint[];
}

/** A number, or a pointer as gdb prints it: `0x1234 <sym+8>`, `(void (*)(void)) 0x1234 <f>`. */
export function parseAddress(text: string): bigint {
  const m = /(?:^|\s|\))(0x[0-9a-fA-F]+|\d+)(?:\s|$)/.exec(text.trim() + ' ');
  if (!m) throw new GdbValueError(`not an address: ${text}`);
  return BigInt(m[1]!);
}

/** The C string gdb prints after a `char *`: `0x1025d9 "idle"` → idle (undefined if there is none). */
export function parseCString(text: string): string | undefined {
  const m = /"((?:[^"\\]|\\.)*)"/.exec(text);
  if (!m) return undefined;
  return m[1]!.replace(/\\(\d{1,3}|.)/g, (_, e: string) => {
    if (/^\d+$/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', e: '\x1b', a: '\x07' } as Record<string, string>)[e] ?? e;
  });
}
