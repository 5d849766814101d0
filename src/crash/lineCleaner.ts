/**
 * Turns a raw console line into the text a person would see: no escape
 * sequences, no control characters, no console prefixes. Every pattern is
 * anchored or bounded so cleaning stays linear in the line length.
 */

// CSI (ESC [ … final), OSC (ESC ] … BEL | ESC \), and two-byte ESC sequences; also 8-bit CSI.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls except TAB, plus DEL and any ESC left over from a cut sequence.
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Removes escape sequences and control characters (NUL, BEL, stray ESC, …); keeps tabs. */
export function stripControls(line: string): string {
  // Fast path: most console lines are plain printable ASCII.
  if (!/[\x00-\x08\x0a-\x1f\x7f\x9b]/.test(line)) return line;
  return line.replace(ANSI, '').replace(CONTROLS, '');
}

// Prefixes that wrap a guest's own text: consoles, log collectors, mail quoting.
const PREFIXES: readonly RegExp[] = [
  /^> ?/, // quoted logs (issues, mails)
  /^\[\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\] ?/, // xenconsoled timestamps
  /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? (?=\S)/, // CI / journal timestamps
  /^\(XEN\) ?/, // hypervisor log
  /^\(d\d+\) ?/, // a domain's debug console through Xen
  /^\[\s*\d+\.\d+\] ?/, // kernel-style uptime stamps (NetBSD, Unikraft)
];

/** Removes console prefixes (timestamps, `> ` quoting, `(XEN) `) in any combination. */
export function stripPrefixes(line: string): string {
  let text = line;
  // Bounded: each pass removes one prefix; real logs stack at most a few.
  for (let pass = 0; pass < 8; pass++) {
    const start = text.length - text.trimStart().length;
    const rest = start > 0 && text[0] !== '>' ? text.slice(start) : text;
    let matched = false;
    for (const prefix of PREFIXES) {
      const m = prefix.exec(rest);
      if (m && m[0].length > 0) {
        text = rest.slice(m[0].length);
        matched = true;
        break;
      }
    }
    if (!matched) break;
  }
  return text;
}

/** The text detectors see: controls and prefixes gone, surrounding blanks trimmed. */
export function cleanLine(line: string): string {
  return stripPrefixes(stripControls(line)).trim();
}
