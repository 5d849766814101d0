/**
 * Scenarios 8–10, each run by bench/run.ts in a fresh Node process (so that peak memory is its own):
 *
 *   tsx bench/offline.ts symbolize <kernel.elf>         crash symbolization, ours vs one addr2line per address
 *   tsx bench/offline.ts ingest                          100 MB of console text through reader + detectors
 *   tsx bench/offline.ts mi-parse <transcript> <cdtdir>  MB/s of recorded gdb output, ours vs cdt-gdb-adapter's
 *
 * Each prints one JSON object on stdout.
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { analyzeLog, CrashWatcher, Symbolizer, symbolizeReport, type CrashReport } from '../src/crash';
import { ElfFile } from '../src/elf';
import { MiStreamParser } from '../src/mi/parser';
import { median } from './lib/stats';

const run = promisify(execFile);
const now = (): number => performance.now();

/** A small deterministic PRNG, so every run sees the same input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex16 = (n: bigint): string => n.toString(16).padStart(16, '0');

// ---- 8: crash symbolization ---------------------------------------------------------------------

/** Unikraft-style crash dumps (RIP + 19 caller frames each) whose addresses lie in the image's code. */
function crashLog(code: { start: bigint; end: bigint }[], addresses: number): { text: string; sample: bigint[] } {
  const rnd = prng(8);
  const span = code.reduce((n, r) => n + Number(r.end - r.start), 0);
  const pick = (): bigint => {
    let off = Math.floor(rnd() * span);
    for (const r of code) {
      const len = Number(r.end - r.start);
      if (off < len) return r.start + BigInt(off);
      off -= len;
    }
    return code[0]!.start;
  };
  const lines: string[] = ['Powered by', 'Tethys 0.5.0~825b115', 'Hello world!'];
  const all: bigint[] = [];
  let n = 0;
  let base = 0x1ffe90n;
  while (n < addresses) {
    const rip = pick();
    all.push(rip);
    lines.push(
      'CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0',
      `CRIT: [libkvmplat] <traps.c @ 41> RIP: ${hex16(rip)} CS: 0008`,
      `CRIT: [libkvmplat] <traps.c @ 42> RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246`,
      `CRIT: [libkvmplat] <traps.c @ 43> RAX: 0000000000000000 RBX: 0000000000000001 RCX: 00000000001ffe58`,
    );
    n++;
    for (let i = 0; i < 19 && n < addresses; i++, n++) {
      const caller = pick();
      all.push(caller);
      base += 0x20n;
      lines.push(`CRIT: [libkvmplat] <traps.c @ 64> base is 0x${base.toString(16)} caller is 0x${caller.toString(16)}`);
    }
    lines.push('CRIT: [libkvmplat] <traps.c @ 107> Crashing', 'Info: [libkvmplat] <shutdown.c @ 35> Unikraft halted');
  }
  return { text: `${lines.join('\r\n')}\r\n`, sample: all };
}

/** Address range of the section `name` (the image's code is `.text`). */
async function sectionRange(path: string, name: string): Promise<{ start: bigint; end: bigint }> {
  const file = await ElfFile.open(path);
  try {
    const section = (await file.sections()).find((s) => s.name === name);
    if (!section) throw new Error(`${path} has no ${name} section`);
    return { start: section.addr, end: section.addr + BigInt(section.size) };
  } finally {
    await file.close();
  }
}

async function symbolize(kernel: string): Promise<unknown> {
  const ADDRESSES = 10_000;
  const SAMPLE = 200;
  const { text, sample } = crashLog([await sectionRange(kernel, '.text')], ADDRESSES);

  // Ours, the way `unikernel-trace analyze` does it: find the crashes, then symbolize report by report.
  const t0 = now();
  const reports = analyzeLog(text);
  const symbolizer = await Symbolizer.open(kernel);
  const done: CrashReport[] = [];
  for (const r of reports) done.push(await symbolizeReport(r, symbolizer));
  const oursMs = now() - t0;
  symbolizer.dispose();
  const frames = done.flatMap((r) => r.frames);
  const withAddress = frames.filter((f) => f.address).length;
  const resolved = frames.filter((f) => f.address && f.function && f.line).length;

  // decode_stacktrace.sh's way: one addr2line process per address (a sample, extrapolated).
  const perAddress = sample.slice(0, SAMPLE);
  const names: string[] = [];
  const t1 = now();
  for (const a of perAddress) {
    const { stdout } = await run('addr2line', ['-f', '-i', '-p', '-C', '-e', kernel, `0x${a.toString(16)}`]);
    names.push(stdout.split(' ')[0] ?? '');
  }
  const sampleMs = now() - t1;
  // Do both agree? Compare the innermost function of the sample's RIPs (not return addresses).
  const rips = done.map((r) => r.frames[0]).filter((f) => f !== undefined);
  let agree = 0;
  let compared = 0;
  const differ: string[] = [];
  perAddress.forEach((a, i) => {
    const f = rips.find((x) => x.address && BigInt(x.address) === a && x.returnAddress !== true);
    if (!f) return;
    compared++;
    if (f.function === names[i]) agree++;
    else if (differ.length < 5) differ.push(`0x${a.toString(16)}: ours ${f.function ?? '?'}, addr2line ${names[i]}`);
  });
  return {
    addresses: ADDRESSES,
    distinct: new Set(sample.map(String)).size,
    crashes: reports.length,
    framesWithAddress: withAddress,
    resolved,
    backend: symbolizer.backend,
    oursMs,
    perAddress: { sample: SAMPLE, sampleMs, perAddressMs: sampleMs / SAMPLE, extrapolatedMs: (sampleMs / SAMPLE) * ADDRESSES },
    agreement: { compared, agree, differ },
  };
}

// ---- 9: console ingestion -----------------------------------------------------------------------

/** About 1 MB of console text in the shapes the detectors know, with a few crashes of each platform. */
function consoleBlock(): Buffer {
  const rnd = prng(9);
  const lines: string[] = [];
  let bytes = 0;
  let n = 0;
  const push = (l: string): void => {
    lines.push(l);
    bytes += l.length + 2;
  };
  while (bytes < 1_000_000) {
    n++;
    const r = rnd();
    if (r < 0.6) push(`flood line ${n} the quick brown fox jumps over the lazy dog`);
    else if (r < 0.8) push(`[    ${(n / 1000).toFixed(6)}] Info: [libukboot] <boot.c @ 243> tick ${n} mem=${Math.floor(rnd() * 1e6)}KiB`);
    else if (r < 0.9) push(`\x1b[32mfixture:\x1b[0m demo compute=${n} perimeter=100 recurse=1275 step=8`);
    else if (r < 0.9995) push(`net: rx ${Math.floor(rnd() * 1500)} bytes from 10.0.0.${n % 254} port ${n % 65535}`);
    else {
      switch (n % 4) {
        case 0:
          push('Solo5: trap: type=#PF ec=0x2 rip=0x105fe2 rsp=0x7ffffa0 rflags=0x206');
          push('Solo5: trap: cr2=0x400000000');
          push('Solo5: ABORT: cpu_x86_64.c:182: Fatal trap');
          push('Solo5: Halted');
          break;
        case 1:
          push('Fatal error: exception Failure("boom")');
          push('Raised at Stdlib.failwith in file "stdlib.ml", line 29, characters 17-33');
          push('Called from Unikernel.Main.start in file "unikernel.ml", line 10, characters 2-8');
          break;
        case 2:
          push('CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0');
          push('CRIT: [libkvmplat] <traps.c @ 41> RIP: 0000000000104a3b CS: 0008');
          push('CRIT: [libkvmplat] <traps.c @ 64> base is 0x1ffe90 caller is 0x104a8f');
          push('CRIT: [libkvmplat] <traps.c @ 107> Crashing');
          break;
        default:
          push('FATAL TRAP: page fault at 0x110cc7 (0x2)');
          push('halted');
      }
    }
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

async function ingest(): Promise<unknown> {
  const block = consoleBlock();
  const repeats = Math.ceil(100_000_000 / block.length);
  const total = block.length * repeats;
  const CHUNK = 64 * 1024;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let crashes = 0;
  let peakRss = rssBefore;
  const watcher = new CrashWatcher({ onCrash: () => crashes++ });
  const t0 = now();
  for (let i = 0; i < repeats; i++) {
    for (let off = 0; off < block.length; off += CHUNK) watcher.push(block.subarray(off, Math.min(off + CHUNK, block.length)));
    if (i % 10 === 9) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  watcher.end();
  const ms = now() - t0;
  watcher.dispose();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return {
    bytes: total,
    lines: watcher.reader.lines,
    crashes,
    ms,
    mbPerS: total / 1e6 / (ms / 1000),
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: peakRss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

// ---- 10: MI parsing -----------------------------------------------------------------------------

interface CdtParser {
  parse(stream: EventEmitter): Promise<void>;
  queueCommand(token: string, command: string, callback: (...a: unknown[]) => void): void;
}

async function miParse(transcriptPath: string, cdtDir: string): Promise<unknown> {
  const transcript = readFileSync(transcriptPath);
  const target = 32 * 2 ** 20;
  const reps = Math.ceil(target / transcript.length);
  const input = Buffer.concat(Array.from({ length: reps }, () => transcript));
  const CHUNK = 64 * 1024;
  const chunks: Buffer[] = [];
  for (let off = 0; off < input.length; off += CHUNK) chunks.push(input.subarray(off, Math.min(off + CHUNK, input.length)));
  const tokens = [...transcript.toString('utf8').matchAll(/^(\d+)\^/gm)].map((m) => m[1]!);

  const req = createRequire(join(cdtDir, 'package.json'));
  const { MIParser } = req('./dist/MIParser.js') as { MIParser: new (gdb: { emit: (...a: unknown[]) => boolean }, name: string) => CdtParser };
  // The adapter's logger as cdt-gdb-adapter sets it up for a session (level Warn, no file).
  const { logger, Logger } = req('@vscode/debugadapter') as {
    logger: { init(cb: (e: unknown) => void, file?: string, console?: boolean): void; setup(level: number, file: boolean): void };
    Logger: { LogLevel: { Warn: number } };
  };
  logger.init(() => undefined, undefined, false);
  logger.setup(Logger.LogLevel.Warn, false);
  await new Promise((r) => setImmediate(r));

  const runOurs = (): { ms: number; records: number } => {
    let records = 0;
    const t0 = now();
    const p = new MiStreamParser(() => {
      records++;
    });
    for (const c of chunks) p.push(c);
    p.end();
    return { ms: now() - t0, records };
  };
  const runCdt = (): { ms: number; records: number } => {
    let records = 0;
    const gdb = {
      emit: (): boolean => {
        records++;
        return true;
      },
    };
    const t0 = now();
    const p = new MIParser(gdb, '');
    const stream = new EventEmitter();
    void p.parse(stream);
    // Every result record answers a command the adapter queued, as in a session.
    let i = 0;
    const perRep = chunks.length / reps;
    for (const c of chunks) {
      if (i++ % Math.max(1, Math.floor(perRep)) === 0) for (const t of tokens) p.queueCommand(t, '', () => undefined);
      stream.emit('data', c);
    }
    return { ms: now() - t0, records };
  };
  const ours: number[] = [];
  const cdt: number[] = [];
  let oursRecords = 0;
  let cdtRecords = 0;
  runOurs();
  runCdt();
  for (let k = 0; k < 5; k++) {
    const a = runOurs();
    const b = runCdt();
    ours.push(a.ms);
    cdt.push(b.ms);
    oursRecords = a.records;
    cdtRecords = b.records;
  }
  const mb = input.length / 1e6;
  return {
    transcriptBytes: transcript.length,
    inputBytes: input.length,
    oursMs: median(ours),
    cdtMs: median(cdt),
    oursMbPerS: mb / (median(ours)! / 1000),
    cdtMbPerS: mb / (median(cdt)! / 1000),
    oursSamplesMs: ours,
    cdtSamplesMs: cdt,
    records: { ours: oursRecords, cdt: cdtRecords },
  };
}

async function main(): Promise<void> {
  const [what, a, b] = process.argv.slice(2);
  let out: unknown;
  if (what === 'symbolize' && a) out = await symbolize(a);
  else if (what === 'ingest') out = await ingest();
  else if (what === 'mi-parse' && a && b) out = await miParse(a, b);
  else throw new Error('usage: offline.ts symbolize KERNEL | ingest | mi-parse TRANSCRIPT CDTDIR');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
