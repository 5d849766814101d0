import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeLog } from '../../../src/crash/collector';
import { isCrashKind, PLATFORMS, type CrashReport } from '../../../src/crash/report';

export const SAMPLES = join(__dirname, 'samples');

export function samplePath(name: string): string {
  return join(SAMPLES, `${name}.console.log`);
}

/** A sample log decoded the way the reader decodes bytes (invalid UTF-8 → U+FFFD). */
export function sampleText(name: string): string {
  return new TextDecoder().decode(readFileSync(samplePath(name)));
}

export function analyzeSample(name: string): CrashReport[] {
  return analyzeLog(sampleText(name));
}

/** Reports reduced to what most tests compare. */
export function summary(reports: readonly CrashReport[]): Array<Pick<CrashReport, 'platform' | 'kind' | 'line'>> {
  return reports.map((r) => ({ platform: r.platform, kind: r.kind, line: r.line }));
}

/** Checks a report against the JSON schema of DESIGN.md; returns what is wrong. */
export function schemaProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (!Array.isArray(value)) return ['not an array'];
  value.forEach((r: Record<string, unknown>, i) => {
    const at = `report ${i}`;
    if (!(PLATFORMS as readonly string[]).includes(r.platform as string)) problems.push(`${at}: platform ${String(r.platform)}`);
    if (typeof r.kind !== 'string' || !isCrashKind(r.kind)) problems.push(`${at}: kind ${String(r.kind)} is not in the vocabulary`);
    if (typeof r.message !== 'string' || r.message === '') problems.push(`${at}: message`);
    if (!Number.isInteger(r.line) || (r.line as number) < 1) problems.push(`${at}: line`);
    const regs = r.registers as Record<string, unknown>;
    if (typeof regs !== 'object' || regs === null || Array.isArray(regs)) problems.push(`${at}: registers`);
    else for (const [k, v] of Object.entries(regs)) {
      if (k !== k.toLowerCase()) problems.push(`${at}: register name ${k}`);
      if (typeof v !== 'string' || !/^0x[0-9a-f]+$/.test(v)) problems.push(`${at}: register ${k}=${String(v)}`);
    }
    if (!Array.isArray(r.frames)) problems.push(`${at}: frames`);
    else (r.frames as Record<string, unknown>[]).forEach((f, j) => {
      if (typeof f.address !== 'string' || (f.address !== '' && !/^0x[0-9a-f]+$/.test(f.address))) problems.push(`${at} frame ${j}: address`);
      if (f.function !== undefined && typeof f.function !== 'string') problems.push(`${at} frame ${j}: function`);
      if (f.file !== undefined && typeof f.file !== 'string') problems.push(`${at} frame ${j}: file`);
      if (f.line !== undefined && !Number.isInteger(f.line)) problems.push(`${at} frame ${j}: line`);
    });
  });
  return problems;
}
