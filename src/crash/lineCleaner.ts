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

// Prefixes that wrap a guest's own text: consoles, log collectors, test runners,
// mail quoting. One anchored alternation, tried in this order.
const PREFIX = new RegExp(
  `^(?:${[
    '> ?', // quoted logs (issues, mails)
    '\\[\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d(?:[.,]\\d+)?(?:Z|[+-]\\d\\d:?\\d\\d)?\\] ?', // xenconsoled timestamps
    '\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d:\\d\\d(?:[.,]\\d+)?(?:Z|[+-]\\d\\d:?\\d\\d)? (?=\\S)', // CI / journal timestamps
    '\\(XEN\\) ?', // hypervisor log
    '\\(d\\d+\\) ?', // a domain's debug console through Xen
    '\\[\\s*\\d+\\.\\d+\\] ?', // kernel-style uptime stamps (NetBSD, Unikraft, Linux)
    '<vm> ?', // IncludeOS's vmrunner
  ].join('|')})`,
);
// `service  | text`: docker compose and similar multiplexers put a name column before each line.
const COLUMN = /^[\w.-]{1,40} +\| ?(?=\S)/;

/** Whether a prefix can start with this character: `>`, `[`, a digit, `(`, `<`. */
function mayStartPrefix(c: number): boolean {
  return c === 62 || c === 91 || (c >= 48 && c <= 57) || c === 40 || c === 60;
}

/** Removes console prefixes (timestamps, `> ` quoting, `(XEN) `, `name | `) in any combination. */
export function stripPrefixes(line: string): string {
  let text = line;
  // Bounded: each pass removes one prefix; real logs stack at most a few.
  for (let pass = 0; pass < 8; pass++) {
    let start = 0;
    while (start < text.length && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
    const c = text.charCodeAt(start);
    let m: RegExpExecArray | null = null;
    // Fast path: most console lines start with a letter and hold no `|`.
    if (mayStartPrefix(c)) {
      // Leading blanks are only skipped before a prefix other than `>` quoting (kept as before).
      const rest = start > 0 && text.charCodeAt(0) !== 62 ? text.slice(start) : text;
      m = PREFIX.exec(rest);
      if (m && m[0].length > 0) {
        text = rest.slice(m[0].length);
        continue;
      }
    }
    if (text.indexOf('|') >= 0) {
      const rest = start > 0 ? text.slice(start) : text;
      m = COLUMN.exec(rest);
      if (m) {
        text = rest.slice(m[0].length);
        continue;
      }
    }
    break;
  }
  return text;
}

/** The text detectors see: controls and prefixes gone, surrounding blanks trimmed. */
export function cleanLine(line: string): string {
  return stripPrefixes(stripControls(line)).trim();
}
