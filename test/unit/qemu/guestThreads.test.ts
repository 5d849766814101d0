/**
 * Guest threads without gdb: gdb's printed values, the layouts' state rules, saved contexts, and the
 * reader end to end against a fake gdb that evaluates the small C subset the reader sends (longs,
 * convenience variables, `?:`, `=`, `+`, `*(long*)`, `*(long(*)[N])`, `{…}`) over a fake memory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GdbValueError, GuestThreadReader, SchedulerNotFound, decodeThread, fieldString, fieldValue, measuredLayout,
  openGuestThreads, parseAddress, parseCString, parseNumberTree, parsePythonOutput, parseRows, probeExpression, pythonCall,
  pythonDefinition, rumprunScheduler,
  savedContext, unikraftScheduler, walkExpression, walkOnExpression, wordsExpression,
  type GuestEvaluator, type GuestThread, type SchedulerLayout,
} from '../../../src/qemu/profiles/threads';
import { PROFILES } from '../../../src/qemu/profiles';

const MASK = (1n << 64n) - 1n;

// ---- a fake target and a fake gdb -------------------------------------------------------------------

class Memory {
  private readonly bytes = new Map<bigint, number>();
  word(addr: bigint, value: bigint): void {
    for (let i = 0n; i < 8n; i++) this.bytes.set(addr + i, Number((value >> (8n * i)) & 0xffn));
  }
  u32(addr: bigint, value: number): void {
    for (let i = 0n; i < 4n; i++) this.bytes.set(addr + i, (value >>> Number(8n * i)) & 0xff);
  }
  string(addr: bigint, text: string): void {
    [...Buffer.from(`${text}\0`)].forEach((b, i) => this.bytes.set(addr + BigInt(i), b));
  }
  zero(addr: bigint, n: number): void {
    for (let i = 0; i < n; i++) this.bytes.set(addr + BigInt(i), 0);
  }
  /** Contiguous runs of bytes: [address, hex]. */
  runs(): [string, string][] {
    const addrs = [...this.bytes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: [string, string][] = [];
    let start = -1n;
    let hex = '';
    let prev = -2n;
    for (const a of addrs) {
      if (a !== prev + 1n) {
        if (hex) out.push([start.toString(), hex]);
        start = a;
        hex = '';
      }
      hex += this.bytes.get(a)!.toString(16).padStart(2, '0');
      prev = a;
    }
    if (hex) out.push([start.toString(), hex]);
    return out;
  }
  read(addr: bigint): bigint {
    let v = 0n;
    for (let i = 0n; i < 8n; i++) {
      const b = this.bytes.get((addr + i) & MASK);
      if (b === undefined) throw new Error(`Cannot access memory at address 0x${addr.toString(16)}`);
      v |= BigInt(b) << (8n * i);
    }
    return v;
  }
}

type Value = bigint | Value[];

/** gdb prints longs signed, runs of 10 or more equal elements as `<repeats N times>`. */
function print(v: Value): string {
  if (!Array.isArray(v)) return (v >= 1n << 63n ? v - (1n << 64n) : v).toString();
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j < v.length && print(v[j]!) === print(v[i]!)) j++;
    parts.push(j - i >= 10 ? `${print(v[i]!)} <repeats ${j - i} times>` : Array.from({ length: j - i }, () => print(v[i]!)).join(', '));
    i = j;
  }
  return `{${parts.join(', ')}}`;
}

class FakeGdb implements GuestEvaluator {
  readonly vars = new Map<string, bigint>();
  readonly answers = new Map<string, string>();
  evaluations: string[] = [];
  constructor(readonly mem: Memory) {}

  async evaluate(expr: string): Promise<string> {
    this.evaluations.push(expr);
    const canned = this.answers.get(expr);
    if (canned !== undefined) {
      if (canned.startsWith('!')) throw new Error(canned.slice(1));
      return canned;
    }
    let i = 0;
    const peek = (s: string): boolean => expr.startsWith(s, i);
    const eat = (s: string): void => {
      if (!peek(s)) throw new Error(`fake gdb: expected ${s} at ${i} in ${expr}`);
      i += s.length;
    };
    const num = (v: Value): bigint => {
      if (Array.isArray(v)) throw new Error('fake gdb: array in arithmetic');
      return v & MASK;
    };
    const assign = (): Value => {
      const m = /^\$[a-z0-9_]+=/.exec(expr.slice(i));
      if (m && expr[i + m[0].length] !== '=') {
        i += m[0].length;
        const v = assign();
        this.vars.set(m[0].slice(0, -1), num(v));
        return v;
      }
      return cond();
    };
    const cond = (): Value => {
      const c = add();
      if (!peek('?')) return c;
      eat('?');
      // only the taken branch is evaluated, as in gdb: the other is parsed with reads off
      const taken = num(c) !== 0n;
      const a = taken ? assign() : skip(':');
      eat(':');
      const b = taken ? skip('') : cond();
      return taken ? a : b;
    };
    /** Steps over a branch up to `stop` at depth 0 (or the end of the expression). */
    const skip = (stop: string): Value => {
      let depth = 0;
      while (i < expr.length) {
        const ch = expr[i]!;
        if (depth === 0 && (ch === ',' || ch === '}' || ch === ')' || (stop && ch === stop))) break;
        if ('({['.includes(ch)) depth++;
        if (')}]'.includes(ch)) depth--;
        i++;
      }
      return 0n;
    };
    const add = (): Value => {
      let v = unary();
      while (peek('+')) {
        eat('+');
        v = (num(v) + num(unary())) & MASK;
      }
      return v;
    };
    const unary = (): Value => {
      if (peek('*(long*)')) {
        eat('*(long*)');
        return this.mem.read(num(unary()));
      }
      const arr = /^\*\(long\(\*\)\[(\d+)\]\)/.exec(expr.slice(i));
      if (arr) {
        i += arr[0].length;
        const base = num(unary());
        return Array.from({ length: Number(arr[1]) }, (_, k) => this.mem.read(base + 8n * BigInt(k)));
      }
      if (peek('(')) {
        eat('(');
        const v = assign();
        eat(')');
        return v;
      }
      if (peek('{')) {
        eat('{');
        const items = [assign()];
        while (peek(',')) {
          eat(',');
          items.push(assign());
        }
        eat('}');
        return items;
      }
      const n = /^(0x[0-9a-f]+|\d+)L?/.exec(expr.slice(i));
      if (n) {
        i += n[0].length;
        return BigInt(n[1]!);
      }
      const v = /^\$[a-z0-9_]+/.exec(expr.slice(i));
      if (v) {
        i += v[0].length;
        const value = this.vars.get(v[0]);
        if (value === undefined) throw new Error(`fake gdb: ${v[0]} is void`);
        return value;
      }
      throw new Error(`fake gdb: cannot parse at ${i}: ${expr.slice(i, i + 30)}`);
    };
    const v = assign();
    if (i !== expr.length) throw new Error(`fake gdb: left over at ${i}: ${expr.slice(i, i + 30)}`);
    return print(v);
  }
}

// ---- a Unikraft 0.17-shaped guest in fake memory ----------------------------------------------------

/** What probeExpression measures in Unikraft 0.17's x86_64 structures (see the integration test's real image). */
const UK = { sizeof: 208n, name: 184n, flags: 64n, ip: 0n, sp: 8n, wakeup: 72n, next: 192n, schedNext: 136n, list: 72n, exited: 88n };
const UK_HEAD = 0x9000n;
const UK_CURRENT = 0x9010n;
const CLEARREGS = 0x7000n;
const CALL1 = 0x7040n;
const SWITCH_RESUME = 0x7120n;

interface FakeThread {
  name: string;
  flags: number;
  wakeup?: bigint;
  /** switched out: return address into the switch's caller, pushed registers; fresh: entry and arg. */
  ctx?: { kind: 'switched'; ret: bigint; rbp: bigint; rbx: bigint } | { kind: 'fresh'; entry: bigint; arg: bigint };
  exitedList?: boolean;
  running?: boolean;
}

function ukGuest(threads: FakeThread[], opts: { schedulers?: number; nameAt?: (i: number) => bigint } = {}): { gdb: FakeGdb; addr: (i: number) => bigint } {
  const mem = new Memory();
  const addr = (i: number): bigint => 0x20000n + BigInt(i) * 0x100n;
  const schedulers = opts.schedulers ?? 1;
  const sched = (k: number): bigint => 0x10000n + BigInt(k) * 0x1000n;
  mem.word(UK_HEAD, sched(0));
  for (let k = 0; k < schedulers; k++) {
    mem.zero(sched(k), 144);
    mem.word(sched(k) + UK.schedNext, k + 1 < schedulers ? sched(k + 1) : 0n);
  }
  mem.word(UK_CURRENT, 0n);
  // threads go round-robin over the schedulers, each on its thread_list or exited_threads
  const tails = new Map<string, bigint>();
  threads.forEach((t, i) => {
    const a = addr(i);
    mem.zero(a, Number(UK.sizeof));
    const k = i % schedulers;
    const head = sched(k) + (t.exitedList ? UK.exited : UK.list);
    const prev = tails.get(head.toString()) ?? head;
    mem.word(prev === head ? head : prev + UK.next, a);
    tails.set(head.toString(), a);
    const name = opts.nameAt?.(i) ?? 0x30000n + BigInt(i) * 0x100n;
    mem.zero(name, 0x100);
    mem.string(name, t.name);
    mem.word(a + UK.name, name);
    mem.u32(a + UK.flags, t.flags);
    mem.word(a + UK.wakeup, t.wakeup ?? 0n);
    const stack = 0x40000n + BigInt(i) * 0x1000n;
    if (t.ctx?.kind === 'switched') {
      mem.word(a + UK.ip, SWITCH_RESUME);
      mem.word(a + UK.sp, stack);
      // r15, r14, r13, r12, rbx, rbp, return address
      [15n, 14n, 13n, 12n, t.ctx.rbx, t.ctx.rbp, t.ctx.ret, 0n].forEach((w, k) => mem.word(stack + 8n * BigInt(k), w));
    } else if (t.ctx?.kind === 'fresh') {
      mem.word(a + UK.ip, CLEARREGS);
      mem.word(a + UK.sp, stack);
      [CALL1, t.ctx.arg, t.ctx.entry, 0n, 0n, 0n, 0n, 0n].forEach((w, k) => mem.word(stack + 8n * BigInt(k), w));
    }
    if (t.running) mem.word(UK_CURRENT, a);
  });
  const gdb = new FakeGdb(mem);
  gdb.answers.set(probeExpression(unikraftScheduler), print([UK.sizeof, UK.name, 8n, UK.flags, 4n, UK.ip, 8n, UK.sp, 8n, UK.wakeup, 8n, UK.next, UK_HEAD, UK.schedNext, UK.list, UK.exited, UK_CURRENT, 1n]));
  gdb.answers.set('(long)&_ctx_x86_clearregs', CLEARREGS.toString());
  gdb.answers.set('(long)&_ctx_x86_call1', CALL1.toString());
  gdb.answers.set('(long)&_ctx_x86_call0', '!No symbol "_ctx_x86_call0" in current context.');
  gdb.answers.set('(long)&_ctx_x86_call2', '!No symbol "_ctx_x86_call2" in current context.');
  return { gdb, addr };
}

const RUNNABLE = 0xf; // UK_THREADF_ECTX | AUXSP | UKTLS | RUNNABLE, as in the real image
const BLOCKED = 0x7;

const ukThreads = (): FakeThread[] => [
  { name: 'idle', flags: RUNNABLE, ctx: { kind: 'fresh', entry: 0x5000n, arg: 0x10000n } },
  { name: 'init', flags: RUNNABLE, running: true },
  { name: 'worker', flags: BLOCKED, ctx: { kind: 'switched', ret: 0x6010n, rbp: 0x41f50n, rbx: 0xbbn } },
  { name: 'sleeper', flags: BLOCKED, wakeup: 5_000_000_000n, ctx: { kind: 'switched', ret: 0x6020n, rbp: 0x42f50n, rbx: 0n } },
  { name: 'exiter', flags: RUNNABLE | 0x10, exitedList: true, ctx: { kind: 'switched', ret: 0x6030n, rbp: 0x43f50n, rbx: 0n } },
];

// ---- tests ------------------------------------------------------------------------------------------

describe('guest threads: gdb values', () => {
  it('reads nested arrays, repeats, hex and negative numbers', () => {
    assert.deepEqual(parseNumberTree('{1, 0x10, -1}'), [1n, 16n, MASK]);
    assert.deepEqual(parseNumberTree('{{1, 2}, {0 <repeats 3 times>}, {3, 4} <repeats 2 times>}'), [[1n, 2n], [0n, 0n, 0n], [3n, 4n], [3n, 4n]]);
    assert.deepEqual(parseRows('{{1, 2}, {3, 4}}', 2), [[1n, 2n], [3n, 4n]]);
    assert.deepEqual(parseNumberTree('{}'), []);
  });

  it('refuses what it cannot trust: a truncated array, a string, rows of the wrong width', () => {
    assert.throws(() => parseNumberTree('{1, 2, 3...}'), GdbValueError);
    assert.throws(() => parseNumberTree('0x1025d9 "idle"'), GdbValueError);
    assert.throws(() => parseRows('{{1, 2}, {3}}', 2), GdbValueError);
  });

  it('reads addresses and C strings as gdb prints them', () => {
    assert.equal(parseAddress('1202067'), 1202067n);
    assert.equal(parseAddress('(<text variable, no debug info> *) 0x1257bf <_ctx_x86_call1>'), 0x1257bfn);
    assert.equal(parseCString('0x1025d9 "idle"'), 'idle');
    assert.equal(parseCString('"worker", \'\\000\' <repeats 9 times>'), 'worker');
    assert.equal(parseCString('0x10 "a\\"b\\n\\033"'), 'a"b\n\x1b');
    assert.equal(parseCString('0x0'), undefined);
  });

  it('takes fields out of little-endian words', () => {
    const words = [0x72656b726f77n, 0x0000_0000_0000_0402n];
    assert.deepEqual(fieldString(words, { offset: 0, size: 16 }), { text: 'worker', complete: true });
    assert.deepEqual(fieldString(words, { offset: 0, size: 4 }), { text: 'work', complete: false });
    assert.equal(fieldValue(words, { offset: 8, size: 4 }), 0x402n);
    assert.equal(fieldValue(words, { offset: 9, size: 1 }), 4n);
  });
});

describe('guest threads: expressions', () => {
  const m = measuredLayout(unikraftScheduler, [208n, 184n, 8n, 64n, 4n, 0n, 8n, 8n, 8n, 72n, 8n, 192n, 0x1744a8n, 136n, 72n, 88n, 0x1744a0n, 1n]);

  it('measures the layout from the probe\'s numbers', () => {
    assert.deepEqual(m, {
      words: 26, name: { offset: 184, size: 8 }, flags: { offset: 64, size: 4 }, ip: { offset: 0, size: 8 }, sp: { offset: 8, size: 8 },
      wakeup: { offset: 72, size: 8 }, next: 192, heads: [72n, 88n], schedulers: { first: 0x1744a8n, next: 136 }, current: { address: 0x1744a0n, cpus: 1 },
    });
    assert.throws(() => measuredLayout(unikraftScheduler, [208n]), /probe gave 1 numbers/);
  });

  it('keeps the per-stop text short and blank-free: under 30 characters a thread', () => {
    const walk = walkExpression(m, { rows: [[27, 3]] });
    assert.doesNotMatch(walk, /\s/);
    assert.ok(walk.length < 30 * 27 + 200, `${walk.length} characters`);
    assert.match(walk, /^\{\*\(long\*\)0x1744a0,\$us=\*\(long\*\)0x1744a8,\$ut=\$us\?\*\(long\*\)\(\$us\+0x48\):0L,\$ut=\$ut\?\*\(long\*\)\(\$ut\+192\):0L,/);
    assert.match(walk, /,\$us\?\*\(long\*\)\(\$us\+136\):0L\}$/);
    assert.equal(walkOnExpression(m, 0x1000n, 2), '{$ut=*(long*)0x10c0,$ut=$ut?*(long*)($ut+192):0L}');
    assert.equal(wordsExpression([0x10n, 0x20n], 8), '{*(long(*)[8])0x10,*(long(*)[8])0x20}');
    // the probe names types, so blanks remain only inside them
    assert.doesNotMatch(probeExpression(rumprunScheduler).replaceAll('struct bmk_thread', ''), /\s/);
  });
});

describe('guest threads: states and saved contexts', () => {
  const rr = measuredLayout(rumprunScheduler, [112n, 0n, 16n, 24n, 4n, 56n, 8n, 48n, 8n, 16n, 8n, 96n, 0x102800n, 0x102810n]);
  const bouncer = new Map([[0x100010n, rumprunScheduler.trampolines[0]!]]);

  function rrThread(flags: number, opts: { list?: number; wakeup?: bigint; ip?: bigint; sp?: bigint; stack?: bigint[] } = {}): GuestThread {
    const words = Array.from({ length: rr.words }, () => 0n);
    words[0] = 0x72656b726f77n; // "worker"
    words[2] = opts.wakeup ?? MASK; // BMK_SCHED_BLOCK_INFTIME
    words[3] = BigInt(flags);
    words[6] = opts.sp ?? 0n;
    words[7] = opts.ip ?? 0n;
    return decodeThread(rumprunScheduler, rr, { address: 0x116090n, list: opts.list ?? 0, words, cpu: 0, ...(opts.stack ? { stack: opts.stack } : {}) }, bouncer).thread;
  }

  it('Rumprun: the flags say where a thread is; zombieq and THR_DEAD mean exited', () => {
    assert.deepEqual([rrThread(0x8).state, rrThread(0x8).cpu], ['running', 0]);
    assert.equal(rrThread(0x404).state, 'blocked');
    assert.deepEqual([rrThread(0x402, { wakeup: 5_000_000_000n }).state, rrThread(0x402, { wakeup: 5_000_000_000n }).wakeup], ['sleeping', 5_000_000_000n]);
    assert.equal(rrThread(0x1).state, 'runnable');
    assert.equal(rrThread(0x200).state, 'exited');
    assert.equal(rrThread(0x0, { list: 1 }).state, 'exited');
    assert.equal(rrThread(0x400).state, 'blocked', 'between blockprepare and the switch');
    assert.equal(rrThread(0x1).name, 'worker');
  });

  it('a switched-out thread resumes past the six pushed registers, at the return address', () => {
    const stack = [0x15n, 0x14n, 0x13n, 0x12n, 0xbbn, 0x11ff10n, 0x10047en, 0x99n];
    assert.deepEqual(savedContext(rumprunScheduler, 0x100123n, 0x11fec8n, stack, bouncer), {
      saved: { ip: 0x10047en, sp: 0x11fec8n + 56n, rbp: 0x11ff10n, rbx: 0xbbn, r12: 0x12n, r13: 0x13n, r14: 0x14n, r15: 0x15n },
    });
    assert.equal(savedContext(rumprunScheduler, 0x100123n, 0x11fec8n, stack.slice(0, 5), bouncer), undefined, 'too few words');
    assert.equal(savedContext(rumprunScheduler, 0n, 0x11fec8n, stack, bouncer), undefined, 'never switched');
  });

  it('a thread that never ran is at its start function: Rumprun\'s bouncer, Unikraft\'s clearregs and callN', () => {
    assert.deepEqual(savedContext(rumprunScheduler, 0x100010n, 0x12fff0n, [0xa5n, 0x100f96n], bouncer), {
      saved: { ip: 0x100f96n, sp: 0x130000n, rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rdi: 0xa5n },
      entry: 0x100f96n,
    });
    const uk = new Map([[CLEARREGS, unikraftScheduler.trampolines[0]!], [CALL1, unikraftScheduler.trampolines[2]!], [0x7080n, unikraftScheduler.trampolines[3]!]]);
    assert.deepEqual(savedContext(unikraftScheduler, CLEARREGS, 0x30000n, [CALL1, 0x14020n, 0x123bf0n, 0n], uk)?.saved, {
      ip: 0x123bf0n, sp: 0x30018n, rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rdi: 0x14020n,
    });
    // ukarch_ctx_init_entry2 with keep_regs: straight into _ctx_x86_call2
    assert.deepEqual(savedContext(unikraftScheduler, 0x7080n, 0x30000n, [2n, 1n, 0x5000n, 0n], uk)?.saved, {
      ip: 0x5000n, sp: 0x30018n, rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rsi: 2n, rdi: 1n,
    });
  });
});

describe('guest threads: the reader against a fake gdb', () => {
  it('lists a Unikraft guest in three evaluations: walk, structures, stacks and names', async () => {
    const { gdb, addr } = ukGuest(ukThreads());
    const reader = await GuestThreadReader.open(unikraftScheduler, gdb);
    const snap = await reader.read();
    assert.equal(snap.evaluations, 3);
    assert.equal(snap.problem, undefined);
    assert.deepEqual(snap.threads.map((t) => [t.name, t.state, t.id]), [
      ['idle', 'runnable', addr(0)], ['init', 'running', addr(1)], ['worker', 'blocked', addr(2)], ['sleeper', 'sleeping', addr(3)], ['exiter', 'exited', addr(4)],
    ]);
    const t = new Map(snap.threads.map((x) => [x.name, x]));
    assert.equal(t.get('init')!.cpu, 0);
    assert.equal(t.get('init')!.saved, undefined);
    assert.equal(t.get('sleeper')!.wakeup, 5_000_000_000n);
    assert.equal(t.get('idle')!.entry, 0x5000n);
    assert.deepEqual(t.get('idle')!.saved, { ip: 0x5000n, sp: 0x40018n, rbp: 0n, rbx: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rdi: 0x10000n });
    assert.deepEqual(t.get('worker')!.saved, { ip: 0x6010n, sp: 0x42000n + 56n, rbp: 0x41f50n, rbx: 0xbbn, r12: 12n, r13: 13n, r14: 14n, r15: 15n });
    // the same again: the plan fits, still three
    assert.equal((await reader.read()).evaluations, 3);
  });

  it('follows a list that has grown past the plan, then plans for it', async () => {
    const many: FakeThread[] = Array.from({ length: 25 }, (_, i) => ({ name: `t${i}`, flags: BLOCKED, ctx: { kind: 'switched', ret: 0x6000n, rbp: 0n, rbx: 0n } }));
    const { gdb } = ukGuest(many);
    const reader = await GuestThreadReader.open(unikraftScheduler, gdb, { chunk: 8 });
    const first = await reader.read();
    assert.deepEqual(first.threads.map((t) => t.name), many.map((t) => t.name));
    assert.ok(first.evaluations > 3, `${first.evaluations} evaluations`);
    const again = await reader.read();
    assert.equal(again.evaluations, 3);
    assert.equal(again.threads.length, 25);
    // one walk element per thread (and a few to spare), under 30 characters each
    const walk = gdb.evaluations.at(-3)!;
    assert.ok(walk.length < 30 * (25 + 6) + 100, `walk of ${walk.length} characters`);
  });

  it('walks every scheduler of a chain, planning for more when there are', async () => {
    const { gdb } = ukGuest(ukThreads(), { schedulers: 2 });
    const reader = await GuestThreadReader.open(unikraftScheduler, gdb);
    const snap = await reader.read();
    assert.deepEqual(snap.threads.map((t) => t.name).sort(), ['exiter', 'idle', 'init', 'sleeper', 'worker']);
    assert.equal((await reader.read()).evaluations, 3);
  });

  it('rejects a read whose list points nowhere, saying which scheduler', async () => {
    const { gdb, addr } = ukGuest(ukThreads());
    gdb.mem.word(addr(1) + UK.next, 0xbad000n);
    const reader = await GuestThreadReader.open(unikraftScheduler, gdb);
    await assert.rejects(reader.read(), /Unikraft's uksched: the thread list cannot be read: Cannot access memory at address 0xbad0c0/);
  });

  it('stops at a list that loops, listing each thread once', async () => {
    const { gdb, addr } = ukGuest(ukThreads().slice(0, 4));
    gdb.mem.word(addr(3) + UK.next, addr(1));
    const snap = await (await GuestThreadReader.open(unikraftScheduler, gdb)).read();
    assert.equal(snap.truncated, true);
    assert.deepEqual(snap.threads.map((t) => t.name), ['idle', 'init', 'worker', 'sleeper']);
    assert.equal(snap.evaluations, 3, 'the loop is seen in the first walk');
  });

  it('lists a thread whose stack cannot be read without its context, and says so', async () => {
    const { gdb, addr } = ukGuest(ukThreads());
    gdb.mem.word(addr(2) + UK.sp, 0xdead0000n);
    const snap = await (await GuestThreadReader.open(unikraftScheduler, gdb)).read();
    const worker = snap.threads.find((t) => t.name === 'worker')!;
    assert.equal(worker.state, 'blocked');
    assert.equal(worker.saved, undefined);
    assert.match(snap.problem ?? '', /no stack for thread 0x20200 at 0xdead0000/);
    assert.ok(snap.threads.find((t) => t.name === 'sleeper')!.saved, 'the others keep theirs');
  });

  it('asks gdb for a name longer than the words read with it', async () => {
    const long = 'a-thread-with-a-name-much-longer-than-sixty-four-bytes-which-is-rare';
    const { gdb, addr } = ukGuest([{ name: long, flags: RUNNABLE, running: true }]);
    gdb.answers.set(`((struct uk_thread*)0x${addr(0).toString(16)})->name`, `0x30000 "${long}"`);
    const snap = await (await GuestThreadReader.open(unikraftScheduler, gdb)).read();
    assert.equal(snap.threads[0]!.name, long);
    assert.equal(snap.evaluations, 4);
  });

  it('finds no scheduler where gdb knows none of the layout, and none for platforms without one', async () => {
    const gdb = new FakeGdb(new Memory());
    gdb.answers.set(probeExpression(rumprunScheduler), '!There is no member named bt_name.');
    await assert.rejects(GuestThreadReader.open(rumprunScheduler, gdb), (e: unknown) => e instanceof SchedulerNotFound && /bt_name/.test(e.message));
    assert.equal(await openGuestThreads(rumprunScheduler, gdb), undefined);
    assert.equal(await openGuestThreads(PROFILES.mirage.scheduler, gdb), undefined);
    assert.equal(PROFILES.generic.scheduler, undefined);
    assert.equal(PROFILES.rumprun.scheduler, rumprunScheduler);
    assert.equal(PROFILES.unikraft.scheduler, unikraftScheduler);
  });

  it('Rumprun: inline names, threadq then zombieq, the running one by its flag', async () => {
    const mem = new Memory();
    const threadq = 0x102800n;
    const zombieq = 0x102810n;
    const at = (i: number): bigint => 0x116000n + BigInt(i) * 0x70n;
    const threads: [string, number, number][] = [['main', 0x8, 0], ['worker', 0x404, 0], ['fresh', 0x1, 0], ['exiter', 0x200, 1]];
    mem.word(threadq, 0n);
    mem.word(zombieq, 0n);
    const last = new Map<bigint, bigint>();
    threads.forEach(([name, flags, list], i) => {
      const a = at(i);
      mem.zero(a, 112);
      mem.string(a, name);
      mem.word(a + 16n, MASK);
      mem.u32(a + 24n, flags);
      const head = list ? zombieq : threadq;
      mem.word(last.has(head) ? last.get(head)! + 96n : head, a);
      last.set(head, a);
    });
    // fresh: at the bouncer with arg and f on its stack
    mem.word(at(2) + 48n, 0x12fff0n);
    mem.word(at(2) + 56n, 0x100010n);
    [0xa5n, 0x100f96n, 0n, 0n, 0n, 0n, 0n, 0n].forEach((w, k) => mem.word(0x12fff0n + 8n * BigInt(k), w));
    const gdb = new FakeGdb(mem);
    gdb.answers.set(probeExpression(rumprunScheduler), print([112n, 0n, 16n, 24n, 4n, 56n, 8n, 48n, 8n, 16n, 8n, 96n, threadq, zombieq]));
    gdb.answers.set('(long)&bmk_cpu_sched_bouncer', '1048592');
    const snap = await (await GuestThreadReader.open(rumprunScheduler, gdb)).read();
    assert.deepEqual(snap.threads.map((t) => [t.name, t.state]), [['main', 'running'], ['worker', 'blocked'], ['fresh', 'runnable'], ['exiter', 'exited']]);
    assert.equal(snap.threads[2]!.entry, 0x100f96n);
    // inline names come with the structures: no name reads
    assert.equal(snap.evaluations, 3);
  });
});

/** A layout whose lists are all empty reads as no threads (a scheduler not started yet). */
describe('guest threads: before the scheduler runs', () => {
  it('an empty list gives no threads, not an error', async () => {
    const { gdb } = ukGuest([]);
    const snap = await (await GuestThreadReader.open(unikraftScheduler as SchedulerLayout, gdb)).read();
    assert.deepEqual(snap.threads, []);
  });
});

/** gdb's Python module, as much of it as the reader's function uses, over a fake memory. */
const GDB_STUB = `
import json, sys
class MemoryError(Exception):
    pass
_mem = {}
for start, data in json.load(open(sys.argv[1])):
    for i, b in enumerate(bytes.fromhex(data)):
        _mem[int(start) + i] = b
class _Inferior:
    def read_memory(self, a, n):
        out = bytearray()
        for i in range(n):
            if a + i not in _mem:
                raise MemoryError('Cannot access memory at address 0x%x' % (a + i))
            out.append(_mem[a + i])
        return memoryview(bytes(out))
def selected_inferior():
    return _Inferior()
def write(s):
    sys.stdout.write(s)
`;

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('guest threads: the Python reader', () => {
  (hasPython ? it : it.skip)('reads what the expressions read, from the same memory (python3 with a stub of gdb\'s module)', async () => {
    const threads = ukThreads();
    threads.push({ name: 'x'.repeat(100), flags: BLOCKED, ctx: { kind: 'switched', ret: 0x6040n, rbp: 0n, rbx: 0n } });
    const { gdb, addr } = ukGuest(threads);
    gdb.answers.set(`((struct uk_thread*)0x${addr(5).toString(16)})->name`, `0x30500 "${'x'.repeat(100)}"`);
    const reader = await GuestThreadReader.open(unikraftScheduler, gdb);
    const byExpressions = await reader.read();
    assert.equal(byExpressions.via, 'expressions');

    const dir = mkdtempSync(join(tmpdir(), 'guest-threads-py-'));
    try {
      writeFileSync(join(dir, 'gdb.py'), GDB_STUB);
      writeFileSync(join(dir, 'memory.json'), JSON.stringify(gdb.mem.runs()));
      // the commands the reader sends: "python exec(<source>)" and "python f(<spec>)"
      const source = JSON.parse(/^python exec\((.*)\)$/s.exec(pythonDefinition())![1]!) as string;
      const call = /^python (\w+)\((.*)\)$/s.exec(pythonCall(reader.measured, unikraftScheduler, 1024))!;
      writeFileSync(join(dir, 'run.py'), `import gdb\n${source}\n${call[1]}(${call[2]})\n`);
      const run = spawnSync('python3', [join(dir, 'run.py'), join(dir, 'memory.json')], { cwd: dir, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const { threads: words, truncated } = parsePythonOutput(run.stdout, reader.measured, false);
      assert.equal(truncated, false);
      const byPython = words.map((w) => decodeThread(unikraftScheduler, reader.measured, w, new Map([[CLEARREGS, unikraftScheduler.trampolines[0]!], [CALL1, unikraftScheduler.trampolines[2]!]])).thread);
      assert.deepEqual(byPython, byExpressions.threads);
      assert.ok(byPython.some((t) => t.name === 'x'.repeat(100)), 'a name longer than 64 bytes, whole');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads big numbers exactly', () => {
    const m = measuredLayout(unikraftScheduler, [208n, 184n, 8n, 64n, 4n, 0n, 8n, 8n, 8n, 72n, 8n, 192n, 0x1744a8n, 136n, 72n, 88n, 0x1744a0n, 1n]);
    const out = '{"current":[18446744071562067968],"threads":[[18446744071562067968,0,15,18446744073709551615,18446744071562068000,0,"696e6974",[]]],"truncated":false}\n';
    const { threads } = parsePythonOutput(out, m, false);
    assert.equal(threads[0]!.address, 0xffffffff80000000n);
    assert.equal(threads[0]!.cpu, 1);
    assert.equal(fieldValue(threads[0]!.words, m.wakeup!), MASK);
    assert.equal(fieldValue(threads[0]!.words, m.ip), 0xffffffff80000020n);
  });
});
