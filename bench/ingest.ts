/**
 * Console ingestion on real consoles: the logs of the crash corpus
 * (test/unit/crash/corpus: public issue threads and the consoles of the images in
 * ../shared/real-images, crashes of every family and clean boots) made into
 * 100 MB and pushed in 64 KiB chunks through CrashWatcher (console reader +
 * every detector), as a live console is.
 *
 *   mixed (default)  1 MB blocks of the clean real consoles in shuffled rounds, with
 *                    every crash log of the corpus inserted once per block (~30 crashes/MB)
 *   rounds           every corpus log in shuffled rounds: a crash every ~30 lines, the worst case
 *
 *   npx tsx bench/ingest.ts                   a summary and, last, one JSON line
 *   npx tsx bench/ingest.ts --mix rounds      the crash-dense worst case
 *   npx tsx bench/ingest.ts --mb 20           another size
 *   npx tsx bench/ingest.ts --no-prefilter    every detector fed every line
 *
 * Target: ≥ 50 MB/s with bounded memory. Part of `npm run bench` (offline).
 * MB/s is wall-clock; `cpuMbPerS` (per second of this process's CPU time) is
 * steadier on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CrashWatcher } from '../src/crash/crashWatcher';

const ROOT = resolve(__dirname, '..');
const LOGS = join(ROOT, 'test/unit/crash/corpus/logs');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

/** A fixed-seed generator, so every run ingests the same bytes. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface CorpusLog {
  file: string;
  clean: boolean;
}

function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** About `bytes` of real consoles from the corpus, mixed as `mix` says (see above). */
function realConsoles(bytes: number, mix: string): { data: Buffer; logs: number } {
  const manifest = JSON.parse(readFileSync(join(LOGS, '..', 'manifest.json'), 'utf8')) as { logs: CorpusLog[] };
  const read = (l: CorpusLog): Buffer => readFileSync(join(LOGS, '..', l.file));
  const clean = manifest.logs.filter((l) => l.clean).map(read);
  const crashes = manifest.logs.filter((l) => !l.clean).map(read);
  const rnd = prng(17);
  const parts: Buffer[] = [];
  let size = 0;
  const add = (b: Buffer): void => {
    parts.push(b);
    size += b.length;
  };
  if (mix === 'rounds') {
    while (size < bytes) for (const log of shuffled([...clean, ...crashes], rnd)) if (size < bytes) add(log);
  } else {
    const BLOCK = 1_000_000;
    while (size < bytes) {
      const blockEnd = Math.min(bytes, size + BLOCK);
      const crashBytes = crashes.reduce((n, b) => n + b.length, 0);
      const block: Buffer[] = [];
      let filled = 0;
      while (filled < BLOCK - crashBytes) for (const log of shuffled(clean, rnd)) if (filled < BLOCK - crashBytes) (block.push(log), (filled += log.length));
      // Each crash log once, somewhere in the block, between two whole logs.
      for (const c of crashes) block.splice(Math.floor(rnd() * (block.length + 1)), 0, c);
      for (const b of block) if (size < blockEnd) add(b);
    }
  }
  return { data: Buffer.concat(parts, size), logs: manifest.logs.length };
}

function main(): void {
  const target = option('mb', 100) * 1e6;
  const prefilter = !process.argv.includes('--no-prefilter');
  const mixAt = process.argv.indexOf('--mix');
  const mix = mixAt < 0 ? 'mixed' : (process.argv[mixAt + 1] ?? 'mixed');
  const { data, logs } = realConsoles(target, mix);
  const CHUNK = 64 * 1024;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let crashes = 0;
  const watcher = new CrashWatcher({ onCrash: () => crashes++, prefilter });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let off = 0, n = 0; off < data.length; off += CHUNK, n++) {
    watcher.push(data.subarray(off, Math.min(off + CHUNK, data.length)));
    if (n % 256 === 255) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  watcher.end();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  watcher.dispose();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  // What the pipeline still holds at the end (bounded: history ring, the last reports), without garbage.
  global.gc?.();
  const heapAfterMiB = process.memoryUsage().heapUsed / 2 ** 20;
  const mbPerS = data.length / 1e6 / (ms / 1000);
  const result = {
    mix,
    bytes: data.length,
    corpusLogs: logs,
    lines: watcher.reader.lines,
    crashes,
    prefilter,
    ms,
    mbPerS,
    cpuMs,
    cpuMbPerS: data.length / 1e6 / (cpuMs / 1000),
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: peakRss / 2 ** 20,
    heapAfterMiB,
  };
  const grow = result.peakRssMiB - result.rssBeforeMiB;
  process.stdout.write(
    `console ingestion, real consoles (${mix}): ${(data.length / 1e6).toFixed(0)} MB from ${logs} corpus logs, ${result.lines} lines, ${crashes} crashes\n` +
      `${mbPerS.toFixed(1)} MB/s (${result.cpuMbPerS.toFixed(1)} MB per CPU second), RSS +${grow.toFixed(0)} MiB beyond the ${(data.length / 2 ** 20).toFixed(0)} MiB input the bench holds${global.gc ? `, heap after ${heapAfterMiB.toFixed(0)} MiB` : ''}${prefilter ? '' : ', prefilter off'}\n` +
      `target ≥ 50 MB/s: ${mbPerS >= 50 ? 'met' : 'NOT met'}\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
