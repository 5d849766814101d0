/**
 * Quoting of MI command arguments. Everything user-supplied goes through here so that a newline or a
 * quote in an expression can never end one MI command and start another.
 */
export function miQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default:
        out += ch.charCodeAt(0) < 0x20 ? `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}` : ch;
    }
  }
  return out + '"';
}
