/**
 * `npm run bench`: our adapter against raw GDB/MI (the floor) and cdt-gdb-adapter, on the x86_64
 * fixture under QEMU TCG. See bench/README.md for what each scenario does and how it is timed.
 *
 *   npm run bench                      everything (a few minutes)
 *   npm run bench -- --rounds 5        fewer rounds
 *   npm run bench -- --only live       live | launch | offline | reverse (comma-separated)
 *   npm run bench -- --record-mi       re-record bench/data/mi-session.log from a real gdb session
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join, resolve } from 'node:path';
import { installCleanupHandlers, killTree, spawnTracked, sweep, taggedProcesses, within } from './lib/procs';
import { startGuest } from './lib/qemu';
import { DapSession, NA, RawSession, type Fixture, type LiveSession, type SubjectName } from './lib/subjects';
import { reverseStepBench, type ReverseResult } from './lib/reverse';
import { threadsBench, type ThreadsResult } from './lib/threads';
import { fmtMs, fmtRatio, median, pairedRatio, table, type Samples } from './lib/stats';

const ROOT = resolve(__dirname, '..');
const BENCH = join(ROOT, 'bench');
const CDT_DIR = join(BENCH, 'node_modules', 'cdt-gdb-adapter');
const CDT_VERSION = '1.7.0';
const TRANSCRIPT = join(BENCH, 'data', 'mi-session.log');
const RESULTS = join(BENCH, 'results', 'latest.json');

// ---- options ------------------------------------------------------------------------------------

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a whole number, not ${process.argv[i + 1]}`);
  return v;
}
const ROUNDS = option('rounds', 30);
const STEPS = option('steps', 5);
if (STEPS > 8) throw new Error('--steps: at most 8 step cycles fit in count_up\'s loop');
const onlyArg = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] ?? '' : 'live,launch,offline,reverse,threads';
const ONLY = new Set(onlyArg.split(','));
/** Which live subjects run (`--subjects raw,inline`: e.g. to profile one of them). */
const SUBJECTS = new Set((process.argv.includes('--subjects') ? process.argv[process.argv.indexOf('--subjects') + 1] ?? '' : 'raw,inline,ours,cdt').split(','));

// ---- the fixture --------------------------------------------------------------------------------

const KERNEL = join(ROOT, 'test/fixtures/build/kernel.elf');
const SOURCE = join(ROOT, 'test/fixtures/kernel.c');
function markerLine(name: string): number {
  const i = readFileSync(SOURCE, 'utf8').split('\n').findIndex((l) => l.includes(`@bp:${name} `));
  if (i < 0) throw new Error(`marker @bp:${name} not found in ${SOURCE}`);
  return i + 1;
}
/** The guest's command line: the demo (count_up, compute, make_shape, recurse, …), then exit. */
const CMDLINE = 'mode=normal';
/**
 * Stops in the order the guest reaches them. `counter` is in count_up's 5-iteration loop: the step
 * cycles run there (at most 8 fit before the loop ends), then that breakpoint is removed.
 */
const STOPS = ['counter', 'compute', 'shape-call', 'recurse-base'] as const;
const STACK_LEVELS = 64;
const MEM_64K = { address: 0x106000, count: 64 * 1024 }; // boot_stack: the live stack
const MEM_1M = { address: 0x116000, count: 1024 * 1024 }; // trap_stack and the RAM after it (disjoint from the 64 KiB)
/** Scenario 11: `grind` rounds (about 9 instructions each): a recording of just over a billion instructions. */
const GRIND_ROUNDS = 125_000_000;
const REVERSE_ROUNDS = option('reverse-rounds', 10);
const THREAD_ROUNDS = option('thread-rounds', 20);
const WATCH = (() => {
  const base = ['a', 'b', 'sum', 'product', 'result', 'global_counter', 'compute_calls', 'global_anchor.x', 'global_anchor.y', 'a * b + sum'];
  return Array.from({ length: 50 }, (_, i) => (i < base.length ? base[i]! : `${base[i % base.length]} + ${i}`));
})();

// ---- set-up -------------------------------------------------------------------------------------

/** cdt-gdb-adapter lives in bench/'s own package (its install script would compile a native helper). */
function ensureCdt(): void {
  const installed = join(CDT_DIR, 'package.json');
  if (existsSync(installed) && (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version === CDT_VERSION) return;
  process.stderr.write(`bench: installing cdt-gdb-adapter ${CDT_VERSION} into bench/node_modules (npm ci --ignore-scripts --prefix bench)\n`);
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', BENCH], { stdio: 'inherit', timeout: 300_000 });
  if (r.status !== 0) throw new Error('npm ci --ignore-scripts --prefix bench failed');
}

/** Which adapter was measured: the tree is edited by others while the bench runs. */
function build(ourAdapter: string): Record<string, string> {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    gitHead: git(['rev-parse', '--short', 'HEAD']),
    gitDirtyFiles: String(git(['status', '--porcelain']).split('\n').filter(Boolean).length),
    adapterSha256: createHash('sha256').update(readFileSync(ourAdapter)).digest('hex').slice(0, 16),
    adapterBuilt: statSync(ourAdapter).mtime.toISOString(),
    cdtGdbAdapter: CDT_VERSION,
  };
}

function versions(): Record<string, string> {
  const first = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000 }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    node: process.version,
    qemu: first('qemu-system-x86_64', ['--version']),
    gdb: first('gdb', ['--version']),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: String(cpus().length),
    memoryGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    accel: 'tcg',
  };
}

// ---- bookkeeping --------------------------------------------------------------------------------

type ScenarioId = 'start' | 'startServer' | 'launch' | 'step' | 'stack' | 'struct' | 'mem64k' | 'mem1m' | 'disasm' | 'disasmBack' | 'evaluate';
const samples = new Map<ScenarioId, Map<SubjectName, Samples>>();
const unavailable = new Map<ScenarioId, Set<SubjectName>>();
const checks: Record<string, Record<string, unknown>> = {};
const errors: string[] = [];

function add(id: ScenarioId, subject: SubjectName, key: string, ms: number): void {
  const bySubject = samples.get(id) ?? new Map<SubjectName, Samples>();
  samples.set(id, bySubject);
  const s = bySubject.get(subject) ?? new Map<string, number>();
  bySubject.set(subject, s);
  s.set(key, ms);
}
function na(id: ScenarioId, subject: SubjectName): void {
  const s = unavailable.get(id) ?? new Set<SubjectName>();
  unavailable.set(id, s);
  s.add(subject);
}
/** The first answer seen per check and subject, and whether later ones differ from the floor's. */
function check(id: string, subject: SubjectName, value: unknown): void {
  const c = (checks[id] ??= {});
  if (!(subject in c)) c[subject] = value;
}

// ---- one live session per subject per round -----------------------------------------------------

function session(subject: SubjectName, fx: Fixture): LiveSession {
  if (subject === 'raw') return new RawSession(fx);
  return subject === 'inline' ? new DapSession('ours', fx, 'inline') : new DapSession(subject, fx);
}

async function liveRound(subject: SubjectName, fx: Fixture, round: number, record: boolean): Promise<void> {
  const key = String(round);
  const keep = round >= 0; // round -1 warms up
  const guest = startGuest(fx.kernel, CMDLINE);
  const s = record ? new RawSession(fx, true) : session(subject, fx);
  try {
    await guest.ready;
    // 1. session start (attach)
    const startMs = await within(s.start(guest), 60_000, `${subject}: session start`);
    if (keep) add('start', subject, key, startMs);

    // in count_up's loop: 2. step cycles
    await s.afterStop(true);
    for (let k = 0; k < (record ? 8 : STEPS); k++) {
      const ms = await within(s.stepCycle(), 30_000, `${subject}: step cycle`);
      if (keep) add('step', subject, `${key}:${k}`, ms);
    }
    await s.dropFirstBreakpoint();
    await s.resume();

    // at compute: 7. evaluate ×50 in the watch context
    let top = await s.afterStop(true);
    const ev = await within(s.evaluate(top.frameId, WATCH), 30_000, `${subject}: evaluate`);
    if (keep) add('evaluate', subject, key, ev.ms);
    check('evaluate', subject, ev.check.slice(0, 10).join(' '));

    // at shape-call: 4. struct expansion of the local `s`
    await s.resume();
    top = await s.afterStop(true);
    const st = await within(s.struct(top.frameId, 's'), 30_000, `${subject}: struct`);
    if (keep) add('struct', subject, key, st.ms);
    check('struct', subject, st.check);

    // at recurse-base: 3. deep stack, then 5. readMemory and 6. disassemble
    await s.resume();
    await s.afterStop(false);
    const ds = await within(s.deepStack(STACK_LEVELS), 30_000, `${subject}: deep stack`);
    if (keep) add('stack', subject, key, ds.ms);
    check('stack', subject, ds.check.frames);
    if (!record) {
      for (const [id, m] of [['mem64k', MEM_64K], ['mem1m', MEM_1M]] as const) {
        const r = await within(s.readMemory(m.address, m.count), 60_000, `${subject}: readMemory ${m.count}`);
        if (r === NA) na(id, subject);
        else {
          if (keep) add(id, subject, key, r.ms);
          check(id, subject, r.check);
        }
      }
    }
    // 6. disassemble: the 200 instructions from the pc, then (VS Code's Disassembly view scrolling
    // up) the 200 before it.
    for (const [id, offset] of [['disasm', 0], ['disasmBack', -200]] as const) {
      const dis = await within(s.disassemble(ds.check.pc, 200, offset), 30_000, `${subject}: disassemble ${offset}`);
      if (dis === NA) na(id, subject);
      else {
        if (keep) add(id, subject, key, dis.ms);
        check(id, subject, dis.check);
      }
    }

    if (record && s instanceof RawSession) {
      mkdirSync(join(BENCH, 'data'), { recursive: true });
      writeFileSync(TRANSCRIPT, s.transcript ?? Buffer.alloc(0));
    }
  } finally {
    await s.close().catch(() => undefined);
    await guest.stop();
  }
}

/** Our adapter started beforehand with --server=0 (as VS Code's debugServer, or an inline adapter, would be). */
async function startServer(fx: Fixture): Promise<{ port: number; proc: ReturnType<typeof spawnTracked> }> {
  const proc = spawnTracked(process.execPath, [fx.ourAdapter, '--server=0']);
  const port = await within(
    new Promise<number>((res, rej) => {
      let err = '';
      proc.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) res(Number(m[1]));
      });
      proc.once('exit', (c) => rej(new Error(`adapter --server exited (${c}): ${err.trim()}`)));
    }),
    15_000,
    'ours --server',
  );
  return { port, proc };
}

async function serverRound(fx: Fixture, round: number): Promise<void> {
  const server = await startServer(fx);
  const guest = startGuest(fx.kernel, CMDLINE);
  const s = new DapSession('ours', fx, server.port);
  try {
    await guest.ready;
    const ms = await within(s.start(guest), 60_000, 'ours (server): session start');
    if (round >= 0) add('startServer', 'ours', String(round), ms);
  } finally {
    await s.close().catch(() => undefined);
    await killTree(server.proc);
    await guest.stop();
  }
}

async function launchRound(subject: 'raw' | 'ours' | 'inline', fx: Fixture, round: number): Promise<void> {
  if (subject === 'raw') {
    const r = await within(RawSession.launchByHand(fx, CMDLINE), 60_000, 'raw: QEMU + gdb by hand');
    if (round >= 0) add('launch', 'raw', String(round), r.ms);
    await r.session.close();
    await r.guest.stop();
    return;
  }
  const s = new DapSession('ours', fx, subject === 'inline' ? 'inline' : undefined);
  try {
    const ms = await within(s.launch(CMDLINE), 60_000, `${subject}: launch`);
    if (round >= 0) add('launch', subject, String(round), ms);
  } finally {
    await s.close();
  }
}

/** Runs one piece; an adapter that misbehaves costs that sample, not the run. */
async function attempt(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    errors.push(msg);
    process.stderr.write(`\nbench: ${msg}\n`);
  }
}

// ---- offline scenarios (8–10), each in its own process ------------------------------------------

async function offline(args: string[], timeoutMs = 300_000, script = 'offline.ts'): Promise<Record<string, unknown> | undefined> {
  const child = spawnTracked(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH, script), ...args], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await within(
    new Promise<number | null>((res) => child.once('exit', (c) => res(c))),
    timeoutMs,
    `offline ${args[0]}`,
  ).catch(async (e: Error) => {
    await killTree(child);
    throw e;
  });
  if (code !== 0) throw new Error(`offline ${args[0]} failed (${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

// ---- report -------------------------------------------------------------------------------------

interface Row {
  id: string;
  title: string;
  raw: string;
  /** Ours inline (F5 in VS Code), when measured. */
  inline?: string;
  ours: string;
  cdt: string;
  inlineRaw?: string;
  oursRaw: string;
  cdtRaw: string;
  oursCdt: string;
  target: string;
  met: string;
}

const TITLES: Record<ScenarioId, string> = {
  start: '1 session start (attach)',
  startServer: '1 session start (attach; ours already running, --server)',
  launch: '1 session start (launch, QEMU included; raw = QEMU + gdb by hand)',
  step: '2 step cycle',
  stack: '3 deep stack (54 frames)',
  struct: '4 struct expansion',
  mem64k: '5 readMemory 64 KiB',
  mem1m: '5 readMemory 1 MiB',
  disasm: '6 disassemble 200 from the pc (instructionOffset 0)',
  disasmBack: '6 disassemble 200 before the pc (instructionOffset -200)',
  evaluate: '7 evaluate ×50 (watch)',
};

/**
 * One scenario's row. Targets are judged on the adapter as VS Code's F5 runs it (inline, in the
 * extension host) when that was measured; the standalone process is shown beside it.
 */
function liveRow(id: ScenarioId, json: Record<string, unknown>): Row {
  const by = samples.get(id) ?? new Map<SubjectName, Samples>();
  const med = (s: SubjectName): number | undefined => median([...(by.get(s)?.values() ?? [])]);
  const cell = (s: SubjectName): string => (unavailable.get(id)?.has(s) ? 'n/a' : by.has(s) ? fmtMs(med(s)) : 'n/a');
  const judged: SubjectName = by.has('inline') ? 'inline' : 'ours';
  const inlineRaw = pairedRatio(by.get('inline'), by.get('raw'));
  const oursRaw = pairedRatio(by.get('ours'), by.get('raw'));
  const cdtRaw = pairedRatio(by.get('cdt'), by.get('raw'));
  const judgedRaw = pairedRatio(by.get(judged), by.get('raw'));
  const judgedCdt = pairedRatio(by.get(judged), by.get('cdt'));
  const limit = id === 'mem1m' ? 0.5 : 1.15;
  const noCdt = id === 'launch' || id === 'startServer';
  const who = judged === 'inline' ? 'inline' : 'ours';
  let target = `${who}/raw ≤ ${limit}${noCdt ? '' : `, ${who} < cdt`}`;
  let met: string;
  if (judgedRaw === undefined) met = 'n/a';
  else {
    const okRaw = judgedRaw <= limit;
    const okCdt = noCdt || judgedCdt === undefined || judgedCdt < 1;
    met = okRaw && okCdt ? 'yes' : `NO${okRaw ? '' : ` (×${fmtRatio(judgedRaw)} raw)`}${okCdt ? '' : ` (×${fmtRatio(judgedCdt)} cdt)`}`;
  }
  if (id === 'mem1m') target += ', identical bytes';
  let title = TITLES[id];
  if (id === 'struct') {
    const c = checks.struct?.ours as { variables?: number } | undefined;
    if (c?.variables) title = `4 struct expansion (${c.variables} variables)`;
  }
  json[id] = {
    title,
    medianMs: { raw: med('raw'), inline: med('inline'), ours: med('ours'), cdt: med('cdt') },
    pairedRatio: { inlineRaw, oursRaw, cdtRaw, inlineCdt: pairedRatio(by.get('inline'), by.get('cdt')), oursCdt: pairedRatio(by.get('ours'), by.get('cdt')) },
    samplesMs: Object.fromEntries([...by].map(([s, m]) => [s, [...m.values()]])),
    unavailable: [...(unavailable.get(id) ?? [])],
    target,
    met,
  };
  return {
    id,
    title,
    raw: cell('raw'),
    inline: cell('inline'),
    ours: cell('ours'),
    cdt: noCdt ? 'n/a' : cell('cdt'),
    inlineRaw: fmtRatio(inlineRaw),
    oursRaw: fmtRatio(oursRaw),
    cdtRaw: fmtRatio(cdtRaw),
    oursCdt: fmtRatio(judgedCdt),
    target,
    met,
  };
}

/** Whether every subject answered the same as the floor (the DAP shapes differ; the facts must not). */
function consistency(): string[] {
  const notes: string[] = [];
  for (const [id, bySubject] of Object.entries(checks)) {
    const raw = JSON.stringify(bySubject.raw);
    for (const [subject, v] of Object.entries(bySubject)) {
      if (subject === 'raw') continue;
      if (JSON.stringify(v) !== raw) notes.push(`${id}: ${subject} answered ${JSON.stringify(v)}, raw ${raw}`);
    }
  }
  return notes;
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  installCleanupHandlers();
  if (!existsSync(KERNEL)) throw new Error(`${KERNEL} is missing: run \`make -C test/fixtures\``);
  const fx: Fixture = {
    kernel: KERNEL,
    source: SOURCE,
    breakpoints: STOPS.map(markerLine),
    ourAdapter: join(ROOT, 'dist/debugAdapter.js'),
    ourInline: join(ROOT, 'dist/inlineAdapter.js'),
    cdtAdapter: join(CDT_DIR, 'dist/debugTargetAdapter.js'),
  };
  if (!existsSync(fx.ourAdapter)) throw new Error(`${fx.ourAdapter} is missing: run \`npm run build\``);

  if (process.argv.includes('--record-mi')) {
    await liveRound('raw', fx, -1, true);
    process.stdout.write(`recorded ${readFileSync(TRANSCRIPT).length} bytes of gdb output into ${TRANSCRIPT}\n`);
    return;
  }
  ensureCdt();
  const started = Date.now();
  const machine = versions();
  const subjects = (['raw', 'inline', 'ours', 'cdt'] as SubjectName[]).filter((x) => SUBJECTS.has(x));

  // Rounds interleave the subjects (raw, ours, cdt, raw, ours, cdt, …); round -1 is a warm-up.
  for (let round = -1; round < ROUNDS; round++) {
    process.stderr.write(`bench: round ${round < 0 ? 'warm-up' : `${round + 1}/${ROUNDS}`} `);
    if (ONLY.has('live')) {
      for (const subject of subjects) {
        await attempt(`round ${round} ${subject}`, () => liveRound(subject, fx, round, false));
        process.stderr.write({ raw: 'R', inline: 'I', ours: 'O', cdt: 'C' }[subject]);
      }
      if (SUBJECTS.has('ours')) await attempt(`server round ${round}`, () => serverRound(fx, round));
      process.stderr.write('s');
    }
    if (ONLY.has('launch')) {
      for (const subject of (['raw', 'inline', 'ours'] as const).filter((x) => SUBJECTS.has(x))) {
        await attempt(`launch round ${round} ${subject}`, () => launchRound(subject, fx, round));
        process.stderr.write({ raw: 'r', inline: 'i', ours: 'o' }[subject]);
      }
    }
    process.stderr.write('\n');
  }

  const json: Record<string, unknown> = {};
  const rows: Row[] = [];
  // The server variant's floor is the same raw session start.
  const rawStart = samples.get('start')?.get('raw');
  if (rawStart && samples.has('startServer')) samples.get('startServer')!.set('raw', rawStart);
  for (const id of ['start', 'startServer', 'launch', 'step', 'stack', 'struct', 'mem64k', 'mem1m', 'disasm', 'disasmBack', 'evaluate'] as ScenarioId[]) {
    if (samples.has(id) || unavailable.has(id)) rows.push(liveRow(id, json));
  }
  const mem = checks.mem1m as Record<string, { sha256?: string }> | undefined;
  if (mem?.ours && mem.raw) {
    const same = mem.ours.sha256 === mem.raw.sha256;
    const row = rows.find((r) => r.id === 'mem1m');
    if (row && !same) row.met = `NO (bytes differ) ${row.met}`;
  }

  const offlineResults: Record<string, unknown> = {};
  if (ONLY.has('offline')) {
    process.stderr.write('bench: crash symbolization, console ingestion, MI parsing\n');
    const sym = await offline(['symbolize', KERNEL]).catch((e: Error) => void errors.push(e.message));
    if (sym) {
      offlineResults.symbolize = sym;
      const per = sym.perAddress as { extrapolatedMs: number; sample: number; perAddressMs: number };
      const ours = sym.oursMs as number;
      const speedup = per.extrapolatedMs / ours;
      rows.push({
        id: 'symbolize',
        title: `8 symbolize 10,000 addresses (${String(sym.backend)}; baseline: 1 addr2line per address, ${per.sample} timed ×${10_000 / per.sample})`,
        raw: fmtMs(per.extrapolatedMs),
        ours: fmtMs(ours),
        cdt: 'n/a',
        oursRaw: fmtRatio(ours / per.extrapolatedMs),
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '< 1 s, ≥ 50× faster than per address',
        met: ours < 1000 && speedup >= 50 ? `yes (${speedup.toFixed(0)}×)` : `NO (${fmtMs(ours)}, ${speedup.toFixed(0)}×)`,
      });
    }
    const ing = await offline(['ingest']).catch((e: Error) => void errors.push(e.message));
    if (ing) {
      offlineResults.ingest = ing;
      const mbs = ing.mbPerS as number;
      const grow = (ing.peakRssMiB as number) - (ing.rssBeforeMiB as number);
      rows.push({
        id: 'ingest',
        title: `9 console ingestion ${((ing.bytes as number) / 1e6).toFixed(0)} MB (reader + all detectors)`,
        raw: 'n/a',
        ours: `${mbs.toFixed(1)} MB/s, RSS +${grow.toFixed(0)} MiB`,
        cdt: 'n/a',
        oursRaw: 'n/a',
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '≥ 50 MB/s, bounded memory',
        met: mbs >= 50 && grow < 64 ? 'yes' : `NO${mbs < 50 ? ` (${mbs.toFixed(1)} MB/s)` : ''}${grow >= 64 ? ` (+${grow.toFixed(0)} MiB)` : ''}`,
      });
    }
    // 9b: the same pipeline on 100 MB of real consoles (bench/ingest.ts: the crash corpus's logs).
    const real = await offline([], 300_000, 'ingest.ts').catch((e: Error) => void errors.push(e.message));
    if (real) {
      offlineResults.ingestReal = real;
      const mbs = real.mbPerS as number;
      const grow = (real.peakRssMiB as number) - (real.rssBeforeMiB as number);
      rows.push({
        id: 'ingestReal',
        title: `9b console ingestion ${((real.bytes as number) / 1e6).toFixed(0)} MB of real consoles (${String(real.crashes)} crashes; bench/ingest.ts)`,
        raw: 'n/a',
        ours: `${mbs.toFixed(1)} MB/s, RSS +${grow.toFixed(0)} MiB`,
        cdt: 'n/a',
        oursRaw: 'n/a',
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '≥ 50 MB/s, bounded memory',
        met: mbs >= 50 ? 'yes' : `NO (${mbs.toFixed(1)} MB/s)`,
      });
    }
    if (existsSync(TRANSCRIPT)) {
      const mi = await offline(['mi-parse', TRANSCRIPT, CDT_DIR]).catch((e: Error) => void errors.push(e.message));
      if (mi) {
        offlineResults.miParse = mi;
        rows.push({
          id: 'mi-parse',
          title: `10 MI parsing (recorded session, ${((mi.inputBytes as number) / 1e6).toFixed(0)} MB)`,
          raw: 'n/a',
          ours: `${(mi.oursMbPerS as number).toFixed(0)} MB/s`,
          cdt: `${(mi.cdtMbPerS as number).toFixed(0)} MB/s`,
          oursRaw: 'n/a',
          cdtRaw: 'n/a',
          oursCdt: fmtRatio((mi.oursMs as number) / (mi.cdtMs as number)),
          target: '(none; ours faster)',
          met: (mi.oursMs as number) < (mi.cdtMs as number) ? 'yes' : 'NO',
        });
      }
    }
  }

  if (ONLY.has('threads')) {
    process.stderr.write('bench: a stop with 25 guest threads, every thread\'s stack (guest threads, then vCPUs only)\n');
    const src = join(ROOT, 'test/fixtures/app_ukthreads.c');
    const line = readFileSync(src, 'utf8').split('\n').findIndex((l) => l.includes('uk_sched_thread_sleep(1000000);')) + 1;
    const base = { adapter: fx.ourAdapter, kernel: join(ROOT, 'test/fixtures/build/threads_qemu-x86_64'), source: src, line, rounds: THREAD_ROUNDS };
    let guest: ThreadsResult | undefined;
    let vcpus: ThreadsResult | undefined;
    await attempt('threads (guest threads)', async () => void (guest = await threadsBench({ ...base, platform: 'unikraft' })));
    await attempt('threads (vCPUs only)', async () => void (vcpus = await threadsBench({ ...base, platform: 'generic' })));
    offlineResults.threads = { guestThreads: guest, vcpusOnly: vcpus };
    if (guest) {
      const shown = median(guest.shownMs) ?? Number.NaN;
      const shownBase = vcpus ? median(vcpus.shownMs) : undefined;
      rows.push({
        id: 'threadsShown',
        title: `12 stop → threads → the stopped thread's stack: ${guest.threads} guest threads; raw column: the same stop with the vCPUs only`,
        raw: shownBase === undefined ? 'n/a' : fmtMs(shownBase),
        ours: fmtMs(shown),
        cdt: 'n/a',
        oursRaw: shownBase === undefined ? 'n/a' : fmtRatio(shown / shownBase),
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '25 threads must not make a stop feel slower (< 100 ms)',
        met: shown < 100 ? 'yes' : `NO (${fmtMs(shown)})`,
      });
      const ms = median(guest.stopMs) ?? Number.NaN;
      const baseline = vcpus ? median(vcpus.stopMs) : undefined;
      rows.push({
        id: 'threads',
        title: `12b … and every thread's stack: ${guest.threads} guest threads (${guest.frames} frames); raw column: the same stop with the vCPUs only (${vcpus?.threads ?? '?'} thread)`,
        raw: baseline === undefined ? 'n/a' : fmtMs(baseline),
        ours: fmtMs(ms),
        cdt: 'n/a',
        oursRaw: baseline === undefined ? 'n/a' : fmtRatio(ms / baseline),
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '(none; every stack is asked only as it is expanded)',
        met: '—',
      });
    }
  }

  if (ONLY.has('reverse')) {
    process.stderr.write('bench: reverse step at the end of a long recording (with and without checkpoints)\n');
    const base = { adapter: fx.ourAdapter, kernel: KERNEL, source: SOURCE, line: markerLine('grind-end'), grindRounds: GRIND_ROUNDS };
    let withCp: ReverseResult | undefined;
    let without: ReverseResult | undefined;
    await attempt('reverse (checkpoints)', async () => void (withCp = await reverseStepBench({ ...base, rounds: REVERSE_ROUNDS, replayCheckpoints: 32 })));
    await attempt('reverse (no checkpoints)', async () => void (without = await reverseStepBench({ ...base, rounds: 3, replayCheckpoints: 0 })));
    offlineResults.reverse = { withCheckpoints: withCp, withoutCheckpoints: without };
    if (withCp) {
      const ms = median(withCp.stepBackMs) ?? Number.NaN;
      const baseline = without ? median(without.stepBackMs) : undefined;
      rows.push({
        id: 'reverse',
        title: `11 Step Back at the end of a ${(withCp.instructions / 1e9).toFixed(2)}e9-instruction recording, ${withCp.checkpoints} checkpoints (first Step Back, switching to the replay: ${fmtMs(withCp.switchMs)}); raw column: without checkpoints`,
        raw: baseline === undefined ? 'n/a' : fmtMs(baseline),
        ours: fmtMs(ms),
        cdt: 'n/a',
        oursRaw: baseline === undefined ? 'n/a' : fmtRatio(ms / baseline),
        cdtRaw: 'n/a',
        oursCdt: 'n/a',
        target: '< 0.5 s at ≥ 1e9 instructions',
        met: ms < 500 && withCp.instructions >= 1e9 ? 'yes' : `NO (${fmtMs(ms)})`,
      });
    }
  }

  const header = ['scenario', 'raw GDB/MI', 'ours inline (F5)', 'ours standalone', 'cdt-gdb-adapter', 'inline/raw', 'standalone/raw', 'cdt/raw', 'ours/cdt', 'target', 'met'];
  const printed = table(
    header,
    rows.map((r) => [r.title, r.raw, r.inline ?? 'n/a', r.ours, r.cdt, r.inlineRaw ?? 'n/a', r.oursRaw, r.cdtRaw, r.oursCdt, r.target, r.met]),
  );
  const date = new Date().toString();
  const notes = consistency();
  process.stdout.write(`\n${printed}\n\n`);
  process.stdout.write(
    `Medians in ms; ratios are medians of per-round ratios (same round, same stop). ${ROUNDS} rounds` +
      ` (+1 warm-up), ${STEPS} step cycles per round; ${machine.cores} cores, ${machine.cpu}, QEMU TCG; ${date}.\n`,
  );
  for (const n of notes) process.stdout.write(`check: ${n}\n`);

  // Every process this run started must be gone.
  const left = taggedProcesses();
  sweep();
  process.stdout.write(left.length === 0 ? 'leftover processes: none\n' : `leftover processes (killed now): ${left.map((p) => `${p.pid} ${p.cmd}`).join('; ')}\n`);
  for (const e of errors) process.stdout.write(`error: ${e}\n`);

  mkdirSync(join(BENCH, 'results'), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        durationS: Math.round((Date.now() - started) / 1000),
        machine,
        build: build(fx.ourAdapter),
        config: { rounds: ROUNDS, stepsPerRound: STEPS, warmupRounds: 1, cmdline: CMDLINE, stops: STOPS, watchExpressions: WATCH.length, stackLevels: STACK_LEVELS, mem64k: MEM_64K, mem1m: MEM_1M },
        scenarios: json,
        offline: offlineResults,
        checks,
        consistency: notes,
        table: printed,
        leftovers: left,
        errors,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`results: ${RESULTS}\n`);
  if (left.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  sweep();
  process.exit(1);
});
