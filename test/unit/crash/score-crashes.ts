// `npm run score:crashes`: the crash collector's scores on the real-world
// corpus (test/unit/crash/corpus), overall and per family.
//   --verbose   also list every miss and mismatch
//   --json      machine-readable output
import { loadManifest, percent, scoreCorpus, type Scores } from './corpus/scorer';

const ROWS: Array<[string, (s: Scores) => string]> = [
  ['detection (recall)', (s) => percent(s.detected)],
  ['precision', (s) => percent(s.precision)],
  ['clean logs give []', (s) => percent(s.cleanEmpty)],
  ['platform', (s) => percent(s.platform)],
  ['kind', (s) => percent(s.kind)],
  ['registers', (s) => percent(s.registers)],
  ['frames', (s) => percent(s.frames)],
  ['message', (s) => percent(s.message)],
];

function main(): void {
  const all = scoreCorpus();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(`Crash detection on ${all.logs} real console logs (${all.crashes} labelled crashes, ${all.cleanEmpty.total} clean logs)`);
  out.push('');
  out.push('| score | value |');
  out.push('|---|---|');
  for (const [name, value] of ROWS) out.push(`| ${name} | ${value(all)} |`);
  out.push('');
  out.push('| family | logs | detected | kind | registers | frames | clean [] |');
  out.push('|---|---|---|---|---|---|---|');
  const families = [...new Set(loadManifest().logs.map((l) => l.family))].sort();
  for (const family of families) {
    const s = scoreCorpus((l) => l.family === family);
    out.push(`| ${family} | ${s.logs} | ${percent(s.detected)} | ${percent(s.kind)} | ${percent(s.registers)} | ${percent(s.frames)} | ${percent(s.cleanEmpty)} |`);
  }
  if (process.argv.includes('--verbose') && all.problems.length > 0) {
    out.push('');
    out.push(...all.problems.map((p) => `- ${p}`));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
