/**
 * OCaml native-code symbol names ⇄ the names an OCaml programmer writes.
 *
 * How ocamlopt names things (amd64, ELF):
 *   OCaml ≤ 5.0   caml<Unit>__<ident>_<stamp>     camlHello__depth_88
 *   OCaml 5.1–5.3 caml<Unit>.<ident>_<stamp>      camlHello.depth_88      (ocaml/ocaml#11430)
 *   OCaml 5.4     `.` on ELF/Unix, `$` on macOS and Windows (#13050, #14143). Unikernels are
 *                 ELF, so `$` as a separator is not handled: it also clashes with the escapes.
 * <Unit> is the compilation unit; dune's wrapped libraries name units `Mylib__Mymod`, so `__`
 * inside it is a module path (`Mylib.Mymod`); executables are wrapped as `Dune__exe__Mod`.
 * Characters outside [A-Za-z0-9_] in <ident> (operators) are escaped as `$xx` (lower-case
 * hex, x86_proc.ml string_of_symbol): `camlStdlib__$5e_140` is `Stdlib.(^)`.
 * Per unit there are also `caml<Unit>` (the module block, data), `caml<Unit>__entry`
 * (the initialiser), markers (`code_begin`, `frametable`, …) and numbered constants
 * (`camlHello__3`). `caml_…` names (`caml_program`, `caml_curry2`, `caml_raise_exn`) belong
 * to the runtime or to the startup code, not to an OCaml module.
 */

export type OcamlNameKind = 'function' | 'moduleInit' | 'module';

export interface OcamlName {
  kind: OcamlNameKind;
  /** The module path joined with dots: `Hello`, `Mylib.Mymod`. */
  module: string;
  modulePath: string[];
  /** The function's name, unescaped (`depth`, `^`); absent for a module or its initialiser. */
  name?: string;
  stamp?: number;
  /** An anonymous function (`fun_123`). */
  anonymous?: boolean;
  /** The name is an operator (shown in parentheses). */
  operator?: boolean;
  /** What to show: `Hello.depth`, `Stdlib.(^)`, `Hello (module init)`, `Hello`. */
  display: string;
  /** The symbol as the linker knows it. */
  mangled: string;
  /** Which mangling scheme the symbol uses. */
  separator: Separator;
}

export type Separator = '__' | '.';

// Per-unit symbols that are not functions.
const MARKERS = new Set(['code_begin', 'code_end', 'data_begin', 'data_end', 'frametable', 'gc_roots']);
// dune wraps an executable's modules in this unit prefix; users know the module without it.
const DUNE_EXE = 'Dune__exe__';

/** The OCaml reading of a linker symbol, or undefined when it is not an OCaml function or module. */
export function demangle(symbol: string): OcamlName | undefined {
  const mangled = symbol;
  // Mach-O adds a leading underscore; harmless to accept.
  let body = /^_?caml[A-Z]/.test(symbol) ? symbol.slice(symbol.startsWith('_') ? 5 : 4) : undefined;
  if (body === undefined) return undefined;
  if (body.startsWith(DUNE_EXE) && /^[A-Z]/.test(body.slice(DUNE_EXE.length))) body = body.slice(DUNE_EXE.length);

  let separator: Separator;
  let modulePath: string[];
  let rest: string;
  const dot = body.indexOf('.');
  if (dot >= 0) {
    // 5.1+: the unit ends at the first dot; later dots separate submodules.
    separator = '.';
    const parts = body.slice(dot + 1).split('.');
    modulePath = body.slice(0, dot).split('__');
    while (parts.length > 1 && isModuleSegment(parts[0])) modulePath.push(parts.shift() as string);
    rest = parts.join('.');
  } else {
    // ≤ 5.0: modules are the leading capitalised `__` segments; what follows is the
    // identifier, which may itself contain `__` (`let foo__bar`).
    separator = '__';
    const parts = body.split('__');
    modulePath = [];
    while (parts.length > 0 && isModuleSegment(parts[0])) modulePath.push(parts.shift() as string);
    rest = parts.join('__');
  }
  if (modulePath.length === 0 || !modulePath.every(isModuleSegment)) return undefined;
  modulePath = modulePath.map(unescape);
  const module = modulePath.join('.');

  if (rest === '') return { kind: 'module', module, modulePath, display: module, mangled, separator };
  if (rest === 'entry') return { kind: 'moduleInit', module, modulePath, display: `${module} (module init)`, mangled, separator };
  if (MARKERS.has(rest) || /^\d+$/.test(rest) || rest.endsWith('_closure')) return undefined;

  const m = /^(.+)_(\d+)$/.exec(rest);
  if (!m) return undefined;
  const name = unescape(m[1]);
  const stamp = Number(m[2]);
  if (name === 'fun') {
    return { kind: 'function', module, modulePath, name, stamp, anonymous: true, display: `${module}.(fun)`, mangled, separator };
  }
  const operator = !isPlainIdent(name);
  const shown = operator ? operatorInParens(name) : name;
  const out: OcamlName = { kind: 'function', module, modulePath, name, stamp, display: `${module}.${shown}`, mangled, separator };
  if (operator) out.operator = true;
  return out;
}

/** `display` of the demangled symbol, or the symbol itself when it is not OCaml. */
export function displayName(symbol: string): string {
  return demangle(symbol)?.display ?? symbol;
}

/** Whether the symbol is one of an OCaml unit's non-function markers or constants (`camlHello__code_begin`, `camlHello__3`). */
export function isOcamlDataOrMarker(symbol: string): boolean {
  return /^_?caml[A-Z]/.test(symbol) && demangle(symbol) === undefined;
}

/**
 * Which scheme an image uses, from its symbol names: `.` when any unit's initialiser
 * is `caml<Unit>.entry`, `__` when one is `caml<Unit>__entry`; undefined when neither shows.
 */
export function detectSeparator(symbols: Iterable<string>): Separator | undefined {
  for (const s of symbols) {
    if (/^_?caml[A-Z][A-Za-z0-9_']*\.entry$/.test(s)) return '.';
    if (/^_?caml[A-Z][A-Za-z0-9_']*__entry$/.test(s)) return '__';
  }
  return undefined;
}

/** The module a source file defines: `src/hello.ml` → `Hello`, `foo_bar.pp.ml` → `Foo_bar`. */
export function moduleFromFile(file: string): string | undefined {
  const base = file.split(/[\\/]/).pop() ?? '';
  const stem = base.split('.')[0];
  if (!/^[A-Za-z][A-Za-z0-9_']*$/.test(stem)) return undefined;
  return stem[0].toUpperCase() + stem.slice(1);
}

export interface NameCandidate {
  /**
   * An anchored regular expression for the linker name. It uses only syntax that means
   * the same in gdb (POSIX basic regex: `+` is a literal there) and in JavaScript.
   */
  regex: string;
  /** 0 = the module as written; 1 = inside a wrapped library (`Lib__Mod`); 2 = a submodule's function as ocaml ≤ 5.0 names it (no submodule in the symbol). */
  rank: number;
  /** What it looks for, for messages. */
  description: string;
}

export interface CandidateOptions {
  /** The source file the name was typed for (a function breakpoint in an `.ml` file): gives the module of a bare name. */
  file?: string;
  /** Only this scheme; both by default. */
  separator?: Separator;
}

const STAMP = '_[0-9][0-9]*';
const ANY_UNIT = '[A-Z][A-Za-z0-9_]*';

/**
 * Linker-name patterns for a name as a user writes it: `Hello.depth`, `depth` (module from
 * `options.file`, else any module), `Stdlib.(^)`, `( * )`, `Mylib.Mymod.f`, `Hello` (its
 * initialiser), or a mangled name as it is. Best (lowest rank) first; empty when the text is
 * not an OCaml name.
 */
export function candidatesFor(userName: string, options: CandidateOptions = {}): NameCandidate[] {
  const text = userName.trim();
  if (/^_?caml[A-Z]\S*$/.test(text)) return [{ regex: `^${escapeRegex(text)}$`, rank: 0, description: text }];
  const parsed = parseUserName(text);
  if (!parsed) return [];
  const seps: Separator[] = options.separator ? [options.separator] : ['__', '.'];
  let { path } = parsed;
  const { ident } = parsed;
  if (path.length === 0 && ident !== undefined) {
    const fromFile = options.file ? moduleFromFile(options.file) : undefined;
    if (fromFile) path = [fromFile];
  }
  const out: NameCandidate[] = [];
  const add = (regex: string, rank: number, description: string): void => {
    if (!out.some((c) => c.regex === regex)) out.push({ regex, rank, description });
  };

  if (ident === undefined) {
    // A module: its initialiser.
    const unit = path.join('__');
    for (const sep of seps) {
      add(`^caml${escapeRegex(unit)}${sepRegex(sep)}entry$`, 0, `${path.join('.')} (module init)`);
      add(`^caml${ANY_UNIT}__${escapeRegex(unit)}${sepRegex(sep)}entry$`, 1, `${path.join('.')} (module init) in a wrapped library`);
    }
    return sortByRank(out);
  }

  const id = escapeRegex(escapeIdent(ident)) + STAMP;
  const shown = [...path, isPlainIdent(ident) ? ident : operatorInParens(ident)].join('.');
  if (path.length === 0) {
    for (const sep of seps) add(`^caml${ANY_UNIT}${sepRegex(sep)}${id}$`, 0, `${shown} in any module`);
    return sortByRank(out);
  }
  for (const sep of seps) {
    const unit = path.join('__');
    add(`^caml${escapeRegex(unit)}${sepRegex(sep)}${id}$`, 0, shown);
    add(`^caml${ANY_UNIT}__${escapeRegex(unit)}${sepRegex(sep)}${id}$`, 1, `${shown} in a wrapped library`);
    if (sep === '.' && path.length > 1) {
      // 5.1+ may spell submodules with dots after the unit.
      add(`^caml${escapeRegex(path[0])}\\.${path.slice(1).map(escapeRegex).join('\\.')}\\.${id}$`, 0, shown);
    }
    if (path.length > 1) {
      // ≤ 5.0 leaves submodules out of function symbols: `A.B.f` in a.ml is `camlA__f_N`.
      for (let i = path.length - 1; i >= 1; i--) {
        add(`^caml${escapeRegex(path.slice(0, i).join('__'))}${sepRegex(sep)}${id}$`, 2, `${ident} in ${path.slice(0, i).join('.')} (as a submodule's function)`);
      }
    }
  }
  return sortByRank(out);
}

/**
 * One gdb regex (`info functions`, `-symbol-info-functions --name`) that finds every
 * candidate of `maxRank` or better: the candidates joined with GNU basic-regex `\|`.
 */
export function toGdbRegex(userName: string, options: CandidateOptions & { maxRank?: number } = {}): string | undefined {
  const maxRank = options.maxRank ?? 1;
  const list = candidatesFor(userName, options).filter((c) => c.rank <= maxRank);
  return list.length === 0 ? undefined : list.map((c) => c.regex).join('\\|');
}

/** Whether `symbol` is one of the functions `userName` means (same candidates, same ranks). */
export function matchesUserName(symbol: string, userName: string, options: CandidateOptions & { maxRank?: number } = {}): boolean {
  const maxRank = options.maxRank ?? 1;
  return candidatesFor(userName, options).some((c) => c.rank <= maxRank && new RegExp(c.regex).test(symbol));
}

// --- helpers ---------------------------------------------------------------

function isModuleSegment(s: string): boolean {
  return /^[A-Z](?:[A-Za-z0-9_]|\$[0-9a-f]{2})*$/.test(s);
}

function isPlainIdent(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_']*$/.test(s);
}

function unescape(s: string): string {
  return s.replace(/\$([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The inverse of `unescape`: what ocamlopt writes for an identifier. */
export function escapeIdent(s: string): string {
  let out = '';
  for (const ch of s) {
    out += /[A-Za-z0-9_]/.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `$${b.toString(16).padStart(2, '0')}`).join('');
  }
  return out;
}

/** `^` → `(^)`; `*` and `let*` need spaces, as `(*` would open a comment. */
function operatorInParens(op: string): string {
  return op.startsWith('*') || op.endsWith('*') || /^[a-z]/.test(op) ? `( ${op} )` : `(${op})`;
}

function escapeRegex(s: string): string {
  // Only what can occur in a unit or escaped identifier; both dialects read these escapes alike.
  return s.replace(/[\\.[\]*^$]/g, (c) => `\\${c}`);
}

function sepRegex(sep: Separator): string {
  return sep === '.' ? '\\.' : '__';
}

function sortByRank(list: NameCandidate[]): NameCandidate[] {
  return list.map((c, i) => ({ c, i })).sort((a, b) => a.c.rank - b.c.rank || a.i - b.i).map(({ c }) => c);
}

interface UserName {
  path: string[];
  /** The function; undefined for a bare module name (its initialiser). */
  ident?: string;
}

/** `Hello.depth`, `depth`, `Stdlib.(^)`, `( * )`, `Hello`, `Hello (module init)`. */
function parseUserName(text: string): UserName | undefined {
  const init = /^(.+?)\s*\(module init\)$/.exec(text);
  if (init) {
    const path = init[1].split('.');
    return path.every((p) => /^[A-Z][A-Za-z0-9_']*$/.test(p)) ? { path } : undefined;
  }
  const op = /^(?:((?:[A-Z][A-Za-z0-9_']*\.)*))\(\s*([^()\s]+)\s*\)$/.exec(text);
  if (op) return { path: splitPath(op[1]), ident: op[2] };
  const m = /^((?:[A-Z][A-Za-z0-9_']*\.)*)([A-Za-z_][A-Za-z0-9_']*)$/.exec(text);
  if (!m) return undefined;
  const path = splitPath(m[1]);
  if (/^[A-Z]/.test(m[2])) return { path: [...path, m[2]] };
  return { path, ident: m[2] };
}

function splitPath(prefix: string): string[] {
  return prefix === '' ? [] : prefix.slice(0, -1).split('.');
}
