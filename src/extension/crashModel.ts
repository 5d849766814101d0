/**
 * What the Crash Trace panel keeps about a crash, and how it is merged, bounded and turned into text.
 * No `vscode` import: unit tests run this in plain Node.
 */
import type { CrashFrame, CrashReport } from '../crash/report';

export interface CrashEntry {
  /** Stable id (tree item ids, reveal). */
  id: string;
  report: CrashReport;
  /** When the crash arrived (ms since the epoch). */
  time: number;
  /** Where it came from: a debug session's name, or the analyzed log's file name. */
  origin: string;
  /** `session` for a live debug session, `log` for Analyze Console Log. */
  via: 'session' | 'log';
  /** The debug session's id, to tell two events of one crash apart from two crashes. */
  sessionId?: string;
  /** Absolute path of the console log the crash is in, when there is one. */
  log?: string;
  /** Absolute path of the symbols ELF the frames were resolved with. */
  symbols?: string;
}

/** Bounds on what is kept (workspace state is not a database). */
export const MAX_FRAMES = 256;
export const MAX_MESSAGE = 4000;
export const DEFAULT_MAX_CRASHES = 50;
/** Two events of one session this many console lines apart or fewer, same kind, are one crash. */
const SAME_CRASH_LINES = 100;

/** `kind: message` on one line, as the panel shows a crash. */
export function crashLabel(report: CrashReport): string {
  const first = report.message.split('\n')[0]?.trim() ?? '';
  return first ? `${report.kind}: ${first}` : report.kind;
}

/** `function — file:line` for a frame; the address stands in for what is unknown. */
export function frameLabel(frame: CrashFrame): { label: string; description?: string } {
  const name = frame.function ?? (frame.address || '??');
  if (frame.file) return { label: `${name} — ${baseName(frame.file)}${frame.line ? `:${frame.line}` : ''}`, description: frame.function ? frame.address || undefined : undefined };
  return { label: name, description: frame.function ? frame.address || undefined : undefined };
}

/**
 * A crash's backtrace as the panel lists it: the frames, and a label row (`page fault: handled by
 * trap_handler`) where a live trap's handler frames begin, so the faulting code's stack visibly ends
 * at its last frame (`_start64`) instead of seeming to go on into the handler.
 */
export function backtraceRows(report: CrashReport): ({ frame: CrashFrame; index: number } | { label: string })[] {
  const rows: ({ frame: CrashFrame; index: number } | { label: string })[] = [];
  report.frames.forEach((frame, index) => {
    if (report.handler && index === report.handler.from) rows.push({ label: report.handler.label });
    rows.push({ frame, index });
  });
  return rows;
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/** A frame's symbolized-ness, to prefer the richer of two reports of one crash. */
function richness(report: CrashReport): number {
  return report.frames.reduce((n, f) => n + (f.file ? 2 : f.function ? 1 : 0), 0);
}

/**
 * True when `incoming` is the same crash as `existing` told a second time (the adapter reports a live
 * stop and then the console's account of it).
 */
export function sameCrash(existing: CrashEntry, incoming: CrashEntry): boolean {
  return (
    existing.via === 'session' &&
    incoming.via === 'session' &&
    existing.sessionId !== undefined &&
    existing.sessionId === incoming.sessionId &&
    existing.report.kind === incoming.report.kind &&
    Math.abs(existing.report.line - incoming.report.line) <= SAME_CRASH_LINES
  );
}

/** One report out of two accounts of the same crash: the richer backtrace, all registers, the console's line. */
export function mergeReports(a: CrashReport, b: CrashReport): CrashReport {
  const richer = richness(b) > richness(a) ? b : a;
  const notes = [...new Set([...(a.notes ?? []), ...(b.notes ?? [])])];
  const { handler: _handler, ...rest } = a;
  return {
    ...rest,
    message: a.message || b.message,
    line: Math.max(a.line, b.line),
    registers: { ...b.registers, ...a.registers },
    frames: richer.frames,
    // Where the handler's frames begin is a fact about the frames kept.
    ...(richer.handler ? { handler: richer.handler } : {}),
    source: a.source ?? b.source,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** A copy that fits the bounds, with anything malformed (say, from an old state) dropped. */
export function boundEntry(entry: CrashEntry): CrashEntry | undefined {
  const r = entry?.report;
  if (!r || typeof r.kind !== 'string' || typeof r.message !== 'string' || !Array.isArray(r.frames)) return undefined;
  const registers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.registers ?? {})) if (typeof v === 'string') registers[k] = v;
  const frames = r.frames.slice(0, MAX_FRAMES).filter((f) => f && typeof f.address === 'string');
  const { handler: h, ...rest } = r;
  const handler = h && Number.isInteger(h.from) && h.from > 0 && h.from < frames.length && typeof h.label === 'string' ? { from: h.from, label: h.label } : undefined;
  return {
    ...entry,
    id: String(entry.id),
    time: Number(entry.time) || 0,
    origin: String(entry.origin ?? ''),
    report: {
      ...rest,
      line: Number(r.line) || 0,
      message: r.message.length > MAX_MESSAGE ? `${r.message.slice(0, MAX_MESSAGE)}…` : r.message,
      registers,
      frames,
      ...(handler ? { handler } : {}),
    },
  };
}

/**
 * Adds an entry at the top; a second account of the newest matching crash is merged into it instead.
 * Keeps at most `max` entries, newest first. Returns the new list and the entry that holds the crash.
 */
export function addEntry(list: readonly CrashEntry[], incoming: CrashEntry, max = DEFAULT_MAX_CRASHES): { list: CrashEntry[]; entry: CrashEntry } {
  const bounded = boundEntry(incoming);
  if (!bounded) return { list: [...list], entry: incoming };
  const twin = list.find((e) => sameCrash(e, bounded));
  if (twin) {
    const merged: CrashEntry = { ...twin, report: mergeReports(twin.report, bounded.report), symbols: twin.symbols ?? bounded.symbols, log: twin.log ?? bounded.log };
    return { list: list.map((e) => (e === twin ? merged : e)), entry: merged };
  }
  return { list: [bounded, ...list].slice(0, Math.max(1, max)), entry: bounded };
}

// Registers in the order people scan them; the rest follow alphabetically.
const REGISTER_ORDER = [
  'rip', 'eip', 'rsp', 'esp', 'rbp', 'ebp', 'rflags', 'eflags', 'cr2', 'ec', 'trapno',
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'cr0', 'cr3', 'cr4',
];

export function sortedRegisters(registers: Record<string, string>): [string, string][] {
  const rank = (r: string) => {
    const i = REGISTER_ORDER.indexOf(r);
    return i < 0 ? REGISTER_ORDER.length : i;
  };
  return Object.entries(registers).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A plain-text trace for the clipboard: what someone pasting it into an issue needs. */
export function formatCrashText(entry: CrashEntry): string {
  const r = entry.report;
  const out: string[] = [];
  out.push(`${r.kind}: ${r.message.split('\n')[0] ?? ''}`);
  for (const more of r.message.split('\n').slice(1)) out.push(`  ${more}`);
  const where = [`platform ${r.platform}`];
  if (entry.log) where.push(`console ${entry.log}${r.line ? `:${r.line}` : ''}`);
  else if (r.line) where.push(`console line ${r.line}`);
  where.push(new Date(entry.time).toISOString());
  out.push(`(${where.join(', ')})`);
  if (r.source?.file) out.push(`raised at ${r.source.function ? `${r.source.function} ` : ''}${r.source.file}${r.source.line ? `:${r.source.line}` : ''}`);
  const regs = sortedRegisters(r.registers);
  if (regs.length > 0) {
    out.push('Registers:');
    for (let i = 0; i < regs.length; i += 4) {
      out.push(`  ${regs.slice(i, i + 4).map(([k, v]) => `${k.padEnd(6)} ${v.padEnd(18)}`).join(' ').trimEnd()}`);
    }
  }
  if (r.frames.length > 0) {
    out.push('Backtrace:');
    r.frames.forEach((f, i) => {
      if (r.handler && i === r.handler.from) out.push(`  --- ${r.handler.label} ---`);
      const parts = [`  #${i}`.padEnd(6)];
      if (f.address) parts.push(f.address);
      if (f.function) parts.push(`in ${f.function}`);
      if (f.file) parts.push(`at ${f.file}${f.line ? `:${f.line}` : ''}`);
      out.push(parts.join(' '));
      for (const c of f.inlinedBy ?? []) out.push(`        inlined into ${c.function ?? '??'}${c.file ? ` at ${c.file}${c.line ? `:${c.line}` : ''}` : ''}`);
    });
  }
  if (entry.symbols) out.push(`Symbols: ${entry.symbols}`);
  for (const note of r.notes ?? []) out.push(`Note: ${note}`);
  return `${out.join('\n')}\n`;
}

/** Reads a `<log>.meta.json` sidecar's text: the symbols ELF and image the adapter recorded. */
export function parseLogMeta(text: string): { symbols?: string; kernel?: string; platform?: string } | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object') return undefined;
    const o = v as Record<string, unknown>;
    const str = (x: unknown) => (typeof x === 'string' && x.length > 0 ? x : undefined);
    return { symbols: str(o.symbols), kernel: str(o.kernel), platform: str(o.platform) };
  } catch {
    return undefined;
  }
}
