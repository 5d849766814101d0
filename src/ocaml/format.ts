/**
 * Text as OCaml prints it: string and char literals (String.escaped / %S) and floats.
 */

/** Bytes as an OCaml string literal body: `\"`, `\\`, `\n`, `\t`, `\r`, `\b`, others outside ASCII 32-126 as `\ddd`. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += escapeByte(b, '"');
  return out;
}

function escapeByte(b: number, quote: string): string {
  switch (b) {
    case 0x22:
      return quote === '"' ? '\\"' : '"';
    case 0x27:
      return quote === "'" ? "\\'" : "'";
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x09:
      return '\\t';
    case 0x0d:
      return '\\r';
    case 0x08:
      return '\\b';
    default:
      return b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\${b.toString().padStart(3, '0')}`;
  }
}

/** `"text"`, with `…` before the closing quote when the bytes are only the start of the string. */
export function stringLiteral(bytes: Uint8Array, truncated = false): string {
  return `"${escapeBytes(bytes)}${truncated ? '…' : ''}"`;
}

/** A char literal: `'a'`, `'\n'`, `'\255'`. */
export function charLiteral(code: number): string {
  return `'${escapeByte(code & 0xff, "'")}'`;
}

/** C's `%.<precision>g`. */
export function formatG(x: number, precision: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const p = Math.max(1, precision);
  const [mantissa, expText] = x.toExponential(p - 1).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= p) {
    const m = stripZeros(mantissa);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return stripZeros(x.toFixed(p - 1 - exp));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** OCaml's `valid_float_lexem`: a float's text gets a `.` when it would read as an integer. */
function validFloatLexem(s: string): string {
  return /^-?[0-9]+$/.test(s) ? `${s}.` : s;
}

/** `string_of_float` (what Printexc uses): `%.12g`, `1.`, `inf`, `-inf`, `nan`. */
export function stringOfFloat(x: number): string {
  return validFloatLexem(formatG(x, 12));
}

/**
 * As the toplevel prints a float (Oprint.float_repres): `%.12g` or `%.15g` when that reads
 * back to the same number, else `%.18g`; `infinity`, `neg_infinity`, `nan`.
 */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? 'neg_infinity' : 'infinity';
  for (const p of [12, 15]) {
    const s = formatG(x, p);
    if (Number(s) === x) return validFloatLexem(s);
  }
  return validFloatLexem(formatG(x, 18));
}

/** Cuts text to max characters, ending in `…`. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
