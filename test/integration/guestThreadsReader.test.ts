/**
 * The guest-thread reader against real gdb and QEMU: the two scheduler fixtures
 * (build/threads-rumprun.bin, build/threads_qemu-x86_64, see test/fixtures/README.md "Guest
 * threads"), their 25-thread runs, and the real Unikraft image when ../shared/real-images is there.
 * gdb is driven directly over MI (a small driver below: src/mi/gdb.ts needs execa, an ES module the
 * test runner cannot load), connected to a QEMU started here.
 *
 * The saved contexts are checked the way the adapter will show them: gdb's registers are set to a
 * thread's saved ones, gdb unwinds (`-stack-list-frames`), and the registers are put back; the guest
 * then runs on to its normal end.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MiStreamParser } from '../../src/mi/parser';
import { miQuote } from '../../src/mi/quote';
import type { MiRecord, MiTuple, MiValue } from '../../src/mi/types';
import {
  GuestThreadReader, openGuestThreads, rumprunScheduler, unikraftScheduler,
  type GuestEvaluator, type GuestThread, type SchedulerLayout,
} from '../../src/qemu/profiles/threads';
import { PROFILES } from '../../src/qemu/profiles';
import { BUILD, ROOT, RUN_ENV, STOP_TIMEOUT, assertNoLeftovers, marker, sessionProcesses } from './helpers';

const REAL_UK = join(ROOT, '../shared/real-images/unikraft');

// ---- a small GDB/MI driver ------------------------------------------------------------------------

class Mi {
  private token = 1;
  private readonly pending = new Map<number, { resolve: (r: MiTuple) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; console: string[] }>();
  private readonly stopWaiters: ((r: MiTuple) => void)[] = [];
  private gone: string | undefined;

  constructor(readonly proc: ChildProcess) {
    const parser = new MiStreamParser((rec: MiRecord) => this.onRecord(rec));
    proc.stdout!.on('data', (c: Buffer) => parser.push(c));
    proc.on('exit', (code, signal) => {
      this.gone = `gdb ended (${code ?? signal})`;
      for (const [, p] of this.pending) p.reject(new Error(this.gone));
      this.pending.clear();
    });
  }

  static start(): Mi {
    return new Mi(spawn('gdb', ['-nx', '-q', '--interpreter=mi3'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true, env: { ...process.env, ...RUN_ENV } }));
  }

  private onRecord(rec: MiRecord): void {
    if (rec.kind === 'result' && rec.token !== undefined) {
      const p = this.pending.get(rec.token);
      if (!p) return;
      this.pending.delete(rec.token);
      clearTimeout(p.timer);
      if (rec.resultClass === 'error') p.reject(new Error(typeof rec.results.msg === 'string' ? rec.results.msg : 'gdb error'));
      else p.resolve({ ...rec.results, console: p.console.join('') });
    } else if (rec.kind === 'exec' && rec.asyncClass === 'stopped') {
      for (const w of this.stopWaiters.splice(0)) w(rec.results);
    } else if (rec.kind === 'console') {
      // gdb answers in order: console text belongs to the oldest command waiting
      const first = this.pending.values().next();
      if (!first.done) first.value.console.push(rec.text);
    }
  }

  send(command: string, timeout = STOP_TIMEOUT): Promise<MiTuple> {
    if (this.gone) return Promise.reject(new Error(this.gone));
    const t = this.token++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(t);
        reject(new Error(`no answer to ${command.slice(0, 60)}`));
      }, timeout);
      this.pending.set(t, { resolve, reject, timer, console: [] });
      this.proc.stdin!.write(`${t}${command}\n`);
    });
  }

  nextStop(timeout = STOP_TIMEOUT): Promise<MiTuple> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no stop')), timeout);
      this.stopWaiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  async evaluate(expression: string): Promise<string> {
    const r = await this.send(`-data-evaluate-expression ${miQuote(expression)}`);
    return String(r.value);
  }

  async console(command: string): Promise<string> {
    return String((await this.send(`-interpreter-exec console ${miQuote(command)}`)).console);
  }

  async frames(): Promise<{ func?: string; line?: string; addr: string }[]> {
    const r = await this.send('-stack-list-frames');
    return (r.stack as MiValue[]).map((f) => f as { func?: string; line?: string; addr: string });
  }

  async locals(level: number): Promise<Map<string, string>> {
    const r = await this.send(`-stack-list-variables --thread 1 --frame ${level} --simple-values`);
    return new Map((r.variables as MiTuple[]).map((v) => [String(v.name), String(v.value)]));
  }

  kill(): void {
    try {
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// ---- a guest under QEMU, stopped at a line ----------------------------------------------------------

interface Guest {
  gdb: Mi;
  qemu: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

const guests: Guest[] = [];
const dirs: string[] = [];

async function bootTo(opts: { kernel: string; symbols: string; append: string; qemu?: string[]; stopAt: string }): Promise<Guest> {
  // The directory name is what the leftover check looks for in QEMU's command line.
  const dir = mkdtempSync(join(tmpdir(), 'unikernel-debug-threads-'));
  dirs.push(dir);
  const sock = join(dir, 'gdb.sock');
  const log = join(dir, 'console.log');
  const qemu = spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
    '-serial', `file:${log}`, '-device', 'isa-debug-exit', ...(opts.qemu ?? []),
    '-kernel', opts.kernel, '-append', opts.append, '-S', '-gdb', `unix:${sock},server=on,wait=off`,
  ], { stdio: 'ignore', env: { ...process.env, ...RUN_ENV } });
  const exited = new Promise<number | null>((resolve) => qemu.on('exit', (code) => resolve(code)));
  const gdb = Mi.start();
  const guest = { gdb, qemu, exited, log };
  guests.push(guest);
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 100) throw new Error('QEMU did not open its gdb socket');
    await new Promise((r) => setTimeout(r, 50));
  }
  // as src/mi/gdb.ts sets gdb up (a console line wrapped at 80 columns costs)
  for (const set of ['pagination off', 'confirm off', 'width 0', 'height 0', 'print pretty off']) await gdb.send(`-gdb-set ${set}`);
  await gdb.send(`-file-exec-and-symbols ${miQuote(opts.symbols)}`);
  await gdb.send(`-target-select remote ${sock}`);
  await gdb.send(`-break-insert ${opts.stopAt}`);
  const stop = gdb.nextStop();
  await gdb.send('-exec-continue');
  const r = await stop;
  assert.equal(r.reason, 'breakpoint-hit', `stopped for ${String(r.reason)}`);
  return guest;
}

function at(name: string): string {
  const m = marker(name);
  return `${m.path.split('/').pop()}:${m.line}`;
}

/** gdb as the reader sees it: expressions only, or with CLI commands (then it uses gdb's Python). */
const evaluator = (g: Guest, python = false): GuestEvaluator =>
  python ? { evaluate: (e) => g.gdb.evaluate(e), console: (c) => g.gdb.console(c) } : { evaluate: (e) => g.gdb.evaluate(e) };

const REGS = ['rip', 'rsp', 'rbp', 'rbx', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi'] as const;

/** gdb's stack for a thread that is not on the CPU: its saved registers in, the frames out, the CPU's registers back. */
async function savedStack(g: Guest, t: GuestThread): Promise<{ frames: { func?: string; line?: string; addr: string }[]; locals: (level: number) => Promise<Map<string, string>> }> {
  const s = t.saved;
  assert.ok(s, `${t.name} has a saved context`);
  const own = new Map<string, string>();
  for (const r of REGS) own.set(r, await g.gdb.evaluate(`(long)$${r}`));
  const values: Record<(typeof REGS)[number], bigint | undefined> = {
    rip: s.ip, rsp: s.sp, rbp: s.rbp, rbx: s.rbx, r12: s.r12, r13: s.r13, r14: s.r14, r15: s.r15, rdi: s.rdi, rsi: s.rsi,
  };
  try {
    for (const r of REGS) if (values[r] !== undefined) await g.gdb.evaluate(`$${r}=${values[r]}`);
    const frames = await g.gdb.frames();
    const locals = new Map<number, Map<string, string>>();
    for (let level = 0; level < frames.length; level++) {
      if (frames[level]!.func) locals.set(level, await g.gdb.locals(level).catch(() => new Map<string, string>()));
    }
    return { frames, locals: async (level) => locals.get(level) ?? new Map<string, string>() };
  } finally {
    for (const r of REGS) await g.gdb.evaluate(`$${r}=${own.get(r)}`);
  }
}

/** The frames end in `start`: after it come only the start trampoline or frames without code (address 0). */
function assertEndsIn(frames: { func?: string; addr: string }[], start: string, trampolines: readonly string[], who: string): number {
  const i = frames.findIndex((f) => f.func === start);
  assert.ok(i >= 0, `${who}: ${start} is in ${frames.map((f) => f.func ?? f.addr).join(' <- ')}`);
  for (const f of frames.slice(i + 1)) {
    assert.ok(trampolines.includes(f.func ?? '') || BigInt(f.addr) === 0n, `${who}: after ${start} comes ${f.func ?? f.addr}`);
  }
  return i;
}

const byName = (threads: GuestThread[]): Map<string, GuestThread> => new Map(threads.map((t) => [t.name, t]));

describe('guest threads: the reader over gdb and QEMU', function () {
  this.timeout(180_000);
  let before: Map<number, string>;

  beforeEach(() => {
    before = sessionProcesses();
  });

  afterEach(async () => {
    for (const g of guests.splice(0)) {
      g.gdb.kill();
      g.qemu.kill('SIGKILL');
      await g.exited;
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    // gdb's process group dies with SIGKILL at once, but the kernel may take a moment to reap it
    for (let i = 0; i < 40 && [...sessionProcesses().keys()].some((p) => !before.has(p)); i++) await new Promise((r) => setTimeout(r, 50));
    assertNoLeftovers(before);
  });

  const fixtures: {
    title: string;
    kernel: string;
    symbols: string;
    layout: SchedulerLayout;
    prefix: string;
    trampoline: string;
    main: string;
    base: string[];
  }[] = [
    {
      title: 'Rumprun layout (threads-rumprun.bin)', kernel: join(BUILD, 'threads-rumprun.bin'), symbols: join(BUILD, 'threads-rumprun.bin'),
      layout: rumprunScheduler, prefix: 'rrthreads', trampoline: 'bmk_cpu_sched_bouncer', main: 'main',
      base: ['main', 'worker', 'sleeper', 'yielder', 'fresh', 'exiter'],
    },
    {
      title: 'Unikraft layout (threads_qemu-x86_64)', kernel: join(BUILD, 'threads_qemu-x86_64'), symbols: join(BUILD, 'threads_qemu-x86_64.dbg'),
      layout: unikraftScheduler, prefix: 'ukthreads', trampoline: '', main: 'init',
      base: ['idle', 'init', 'worker', 'sleeper', 'yielder', 'fresh', 'exiter'],
    },
  ];

  for (const f of fixtures) {
    describe(f.title, () => {
      it('lists every thread by name and state at the marker, in three evaluations', async () => {
        const g = await bootTo({ kernel: f.kernel, symbols: f.symbols, append: '', stopAt: at(`${f.prefix}-all-blocked`) });
        const reader = await GuestThreadReader.open(f.layout, evaluator(g));
        const snap = await reader.read();
        assert.deepEqual(snap.threads.map((t) => t.name), f.base);
        assert.equal(snap.truncated, false);
        assert.equal(snap.problem, undefined);
        const t = byName(snap.threads);
        assert.equal(t.get(f.main)!.state, 'running');
        assert.equal(t.get(f.main)!.cpu, 0);
        assert.equal(t.get(f.main)!.saved, undefined, 'the running thread has the CPU\'s registers');
        assert.equal(t.get('worker')!.state, 'blocked');
        assert.equal(t.get('sleeper')!.state, 'sleeping');
        assert.equal(t.get('sleeper')!.wakeup, 5_000_000_000n);
        assert.equal(t.get('yielder')!.state, 'runnable');
        assert.equal(t.get('fresh')!.state, 'runnable');
        assert.equal(t.get('exiter')!.state, 'exited');
        // ids are the thread structures' addresses
        const threadType = f.layout.threadType;
        for (const th of snap.threads) assert.match(await g.gdb.evaluate(`((${threadType}*)0x${th.id.toString(16)})->${f.layout.name.member}`), new RegExp(`"${th.name}`));
        // never-run threads start at their start function
        assert.equal(t.get('fresh')!.entry, BigInt(await g.gdb.evaluate('(long)&fresh_main')));
        if (f.layout === unikraftScheduler) {
          assert.equal(t.get('idle')!.state, 'runnable');
          assert.equal(t.get('idle')!.entry, BigInt(await g.gdb.evaluate('(long)&idle_thread_fn')));
        }
        // the walk, the thread structures, the stacks with the names
        assert.equal(snap.evaluations, 3);
        assert.equal(snap.via, 'expressions');
        // gdb's Python reads the same, in one command
        const py = await (await GuestThreadReader.open(f.layout, evaluator(g, true))).read();
        assert.equal(py.via, 'python');
        assert.equal(py.evaluations, 1);
        assert.deepEqual(py.threads, snap.threads);
      });

      it('rebuilds each blocked thread\'s stack down to its start function, with its locals, and the guest runs on', async () => {
        const g = await bootTo({ kernel: f.kernel, symbols: f.symbols, append: '', stopAt: at(`${f.prefix}-all-blocked`) });
        const reader = await GuestThreadReader.open(f.layout, evaluator(g));
        const t = byName((await reader.read()).threads);
        const tramps = f.trampoline ? [f.trampoline] : [];

        const worker = await savedStack(g, t.get('worker')!);
        const wl = assertEndsIn(worker.frames, 'worker_main', tramps, 'worker');
        assert.equal(worker.frames[wl]!.line, String(marker(`${f.prefix}-worker-wait`).line));
        const locals = await worker.locals(wl);
        assert.equal(locals.get('handled'), '0');
        assert.equal(locals.get('checksum'), String(0x5eed));

        const sleeper = await savedStack(g, t.get('sleeper')!);
        const sl = assertEndsIn(sleeper.frames, 'sleeper_main', tramps, 'sleeper');
        assert.equal(sleeper.frames[sl]!.line, String(marker(`${f.prefix}-sleeper-nap`).line));
        assert.equal((await sleeper.locals(sl)).get('nap'), '5000000000');

        const yielder = await savedStack(g, t.get('yielder')!);
        const yl = assertEndsIn(yielder.frames, 'yielder_main', tramps, 'yielder');
        assert.equal(yielder.frames[yl]!.line, String(marker(`${f.prefix}-yielder-yield`).line));
        assert.equal((await yielder.locals(yl)).get('rounds'), '1');

        const fresh = await savedStack(g, t.get('fresh')!);
        assert.equal(fresh.frames[0]!.func, 'fresh_main');

        // The CPU's own registers are back: the stop is where it was, and the guest ends as usual.
        const own = await g.gdb.frames();
        assert.equal(own[0]!.func, 'main');
        assert.equal(own[0]!.line, String(marker(`${f.prefix}-all-blocked`).line));
        await g.gdb.send('-break-delete');
        await g.gdb.send('-exec-continue');
        assert.equal(await g.exited, 83);
        assert.match(readFileSync(g.log, 'utf8'), /worker: checksum of 3 jobs = 723951124\r?\n[\s\S]*threads: all done/);
      });

      it('keeps thread ids across stops and follows the states', async () => {
        const g = await bootTo({ kernel: f.kernel, symbols: f.symbols, append: '', stopAt: at(`${f.prefix}-all-blocked`) });
        const reader = await GuestThreadReader.open(f.layout, evaluator(g));
        const first = byName((await reader.read()).threads);
        await g.gdb.send('-break-delete');
        await g.gdb.send(`-break-insert ${at(`${f.prefix}-worker-done`)}`);
        const stop = g.gdb.nextStop();
        await g.gdb.send('-exec-continue');
        await stop;
        const second = byName((await reader.read()).threads);
        assert.equal(second.get('worker')!.id, first.get('worker')!.id);
        assert.equal(second.get('worker')!.state, 'running');
        assert.notEqual(second.get(f.main)!.state, 'running');
        assert.ok(second.get(f.main)!.saved, `${f.main} now has a saved context`);
        // the yielder saw stop_yielding and is gone; the fresh one ran and exited
        assert.equal(second.get('fresh')?.state ?? 'exited', 'exited');
        for (const [name, th] of second) if (first.has(name)) assert.equal(th.id, first.get(name)!.id, name);
      });

      it('reads 25 threads in a fixed number of evaluations, and says how long it takes', async () => {
        const g = await bootTo({ kernel: f.kernel, symbols: f.symbols, append: 'threads=25', stopAt: at(`${f.prefix}-all-blocked`) });
        const results: GuestThread[][] = [];
        for (const python of [false, true]) {
          const reader = await GuestThreadReader.open(f.layout, evaluator(g, python));
          const times: number[] = [];
          let evaluations = 0;
          let threads: GuestThread[] = [];
          for (let i = 0; i < 12; i++) {
            const t0 = performance.now();
            const snap = await reader.read();
            times.push(performance.now() - t0);
            evaluations = snap.evaluations;
            threads = snap.threads;
            assert.equal(snap.via, python ? 'python' : 'expressions');
          }
          assert.equal(threads.length, 25);
          assert.deepEqual([...new Set(threads.map((t) => t.state))].sort(), ['blocked', 'exited', 'runnable', 'running', 'sleeping']);
          assert.equal(evaluations, python ? 1 : 3);
          times.sort((a, b) => a - b);
          const median = times[times.length >> 1]!;
          console.log(`      ${f.title}, ${python ? 'Python' : 'expressions'}: 25 threads, ${evaluations} evaluation(s), min ${times[0]!.toFixed(1)} ms, median ${median.toFixed(1)} ms`);
          assert.ok(median < 1000, `a read takes ${median} ms`);
          results.push(threads);
        }
        assert.deepEqual(results[1], results[0]);
        // for scale: one round trip, and gdb's own thread list (the vCPUs)
        const t0 = performance.now();
        for (let i = 0; i < 12; i++) await g.gdb.send('-thread-info');
        console.log(`      (gdb's -thread-info: ${((performance.now() - t0) / 12).toFixed(2)} ms)`);
      });
    });
  }

  it('finds no scheduler where the image has none of that layout (a one-thread Rumprun image, Solo5)', async () => {
    const g = await bootTo({ kernel: join(BUILD, 'hello-rumprun.bin'), symbols: join(BUILD, 'hello-rumprun.bin'), append: '{"cmdline": "hello.bin"}', stopAt: at('rumprun-main') });
    assert.equal(await openGuestThreads(PROFILES.rumprun.scheduler, evaluator(g)), undefined);
    assert.equal(await openGuestThreads(PROFILES.mirage.scheduler, evaluator(g)), undefined);
  });

  const real = existsSync(join(REAL_UK, 'helloworld_qemu-x86_64.dbg'));
  (real ? it : it.skip)('real Unikraft 0.17 helloworld at main: init runs main, idle waits at its entry', async () => {
    const g = await bootTo({
      kernel: join(REAL_UK, 'helloworld_qemu-x86_64'), symbols: join(REAL_UK, 'helloworld_qemu-x86_64.dbg'), append: 'a b',
      qemu: ['-cpu', 'max'], stopAt: 'main',
    });
    const reader = await openGuestThreads(PROFILES.unikraft.scheduler, evaluator(g));
    assert.ok(reader, 'the image has uksched');
    const snap = await reader.read();
    const py = await (await GuestThreadReader.open(unikraftScheduler, evaluator(g, true))).read();
    assert.equal(py.via, 'python');
    assert.deepEqual(py.threads, snap.threads);
    assert.deepEqual(snap.threads.map((t) => t.name).sort(), ['idle', 'init']);
    const t = byName(snap.threads);
    assert.equal(t.get('init')!.state, 'running');
    assert.equal(t.get('init')!.cpu, 0);
    assert.ok((await g.gdb.frames()).some((fr) => fr.func === 'main'), 'init is in main');
    assert.equal(t.get('idle')!.state, 'runnable');
    assert.equal(t.get('idle')!.entry, BigInt(await g.gdb.evaluate('(long)&idle_thread_fn')));
    const idle = await savedStack(g, t.get('idle')!);
    assert.equal(idle.frames[0]!.func, 'idle_thread_fn');
    assertEndsIn(idle.frames, 'idle_thread_fn', [], 'idle');
    assert.equal((await g.gdb.frames())[0]!.func, 'main');
  });
});
