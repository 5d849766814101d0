// Scores the crash collector against the labelled real-world corpus in this
// folder (manifest.json). Labels were written from the logs; this only compares.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeLog } from '../../../../src/crash/collector';
import type { CrashReport } from '../../../../src/crash/report';

export const CORPUS = __dirname;

export interface LabelledCrash {
  /** First line of the crash (1-based). */
  line: number;
  /** Last line that still belongs to it (its consequences included); defaults to `line`. */
  end?: number;
  platform: string;
  kind: string;
  /** Text the report's message must contain (case-insensitive). */
  message?: string;
  registers: Record<string, string>;
  /** Hex addresses, or `file:line` for frames the console gives without an address. */
  frames: string[];
}

export interface CorpusLog {
  file: string;
  family: string;
  source: { type: string; url?: string; repo?: string; thread?: string; command?: string; note?: string };
  clean: boolean;
  crashes: LabelledCrash[];
}

export interface Manifest {
  about: string;
  logs: CorpusLog[];
}

/** A ratio with what it counts, so totals can be added up. */
export interface Ratio {
  hit: number;
  total: number;
}

export interface Scores {
  logs: number;
  crashes: number;
  detected: Ratio; // recall over labelled crashes
  precision: Ratio; // reports that match a labelled crash, over all reports
  platform: Ratio;
  kind: Ratio;
  registers: Ratio; // labelled name=value pairs found
  frames: Ratio; // labelled frames found
  message: Ratio;
  cleanEmpty: Ratio; // clean logs that gave []
  problems: string[];
}

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as Manifest;
}

/** A log as the console reader decodes it (invalid UTF-8 becomes U+FFFD). */
export function corpusText(log: CorpusLog): string {
  return new TextDecoder().decode(readFileSync(join(CORPUS, log.file)));
}

const ratio = (): Ratio => ({ hit: 0, total: 0 });

export function percent(r: Ratio): string {
  return r.total === 0 ? 'n/a' : `${((100 * r.hit) / r.total).toFixed(1)}% (${r.hit}/${r.total})`;
}

function frameKey(frame: CrashReport['frames'][number]): string[] {
  const keys: string[] = [];
  if (frame.address) keys.push(frame.address);
  if (frame.file !== undefined && frame.line !== undefined) keys.push(`${frame.file}:${frame.line}`);
  return keys;
}

/** Scores one log's reports against its labels, adding to `s`. */
export function scoreLog(log: CorpusLog, reports: readonly CrashReport[], s: Scores): void {
  const used = new Set<CrashReport>();
  s.precision.total += reports.length;
  if (log.clean) {
    s.cleanEmpty.total++;
    if (reports.length === 0) s.cleanEmpty.hit++;
    else s.problems.push(`${log.file}: clean log gave ${reports.map((r) => `${r.kind}@${r.line}`).join(', ')}`);
  }
  for (const c of log.crashes) {
    s.crashes++;
    s.detected.total++;
    const end = c.end ?? c.line;
    const inSpan = reports.filter((r) => r.line >= c.line && r.line <= end);
    const r = inSpan[0];
    if (inSpan.length > 1) s.problems.push(`${log.file}:${c.line}: ${inSpan.length} reports for one crash`);
    if (!r) {
      s.problems.push(`${log.file}:${c.line}: missed (${c.platform} ${c.kind})`);
      s.platform.total++;
      s.kind.total++;
    } else {
      used.add(r);
      s.detected.hit++;
      s.precision.hit++;
      s.platform.total++;
      s.kind.total++;
      if (r.platform === c.platform) s.platform.hit++;
      else s.problems.push(`${log.file}:${c.line}: platform ${r.platform}, labelled ${c.platform}`);
      if (r.kind === c.kind) s.kind.hit++;
      else s.problems.push(`${log.file}:${c.line}: kind ${r.kind}, labelled ${c.kind}`);
    }
    for (const [name, value] of Object.entries(c.registers)) {
      s.registers.total++;
      if (r?.registers[name] === value) s.registers.hit++;
      else s.problems.push(`${log.file}:${c.line}: register ${name}=${r?.registers[name] ?? '(none)'}, labelled ${value}`);
    }
    const got = new Set((r?.frames ?? []).flatMap(frameKey));
    for (const f of c.frames) {
      s.frames.total++;
      if (got.has(f)) s.frames.hit++;
      else s.problems.push(`${log.file}:${c.line}: frame ${f} missing`);
    }
    if (c.message !== undefined) {
      s.message.total++;
      if (r && r.message.toLowerCase().includes(c.message.toLowerCase())) s.message.hit++;
      else s.problems.push(`${log.file}:${c.line}: message ${JSON.stringify(r?.message ?? '')} lacks ${JSON.stringify(c.message)}`);
    }
  }
  for (const r of reports) {
    if (!used.has(r) && !log.crashes.some((c) => r.line >= c.line && r.line <= (c.end ?? c.line))) {
      s.problems.push(`${log.file}:${r.line}: unlabelled report ${r.platform} ${r.kind}: ${r.message.split('\n')[0]}`);
    }
  }
}

/** Runs the collector over every log of the corpus (or those `only` keeps). */
export function scoreCorpus(only?: (log: CorpusLog) => boolean): Scores {
  const s: Scores = {
    logs: 0,
    crashes: 0,
    detected: ratio(),
    precision: ratio(),
    platform: ratio(),
    kind: ratio(),
    registers: ratio(),
    frames: ratio(),
    message: ratio(),
    cleanEmpty: ratio(),
    problems: [],
  };
  for (const log of loadManifest().logs) {
    if (only && !only(log)) continue;
    s.logs++;
    scoreLog(log, analyzeLog(corpusText(log)), s);
  }
  return s;
}
