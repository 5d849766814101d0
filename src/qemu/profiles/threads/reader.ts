/**
 * Reads the guest's threads at a stop. When gdb has Python (and the evaluator can run a command),
 * a read is one command (python.ts). Otherwise it is made of gdb expressions (see expression.ts for
 * why it is split this way):
 *
 * - opening: one evaluation checks the layout and measures it (types only), and one per start
 *   trampoline (sent together) finds where never-run threads sit;
 * - each read: three evaluations, one after the other: the walk (sized from the last count; a list
 *   that has grown past it takes one more), the thread structures, and the saved stacks with the
 *   name strings. Groups of more than 100 threads take one evaluation more per group (gdb prints at
 *   most 200 elements of an array), and a name longer than 64 bytes one of its own.
 *
 * A stack or name that cannot be read (a bad pointer makes gdb give up on the whole expression) is
 * read again thread by thread; a thread whose stack or name still cannot be read is listed without.
 * A list that cannot be walked rejects the read: the debugger then shows the vCPUs alone.
 */
import { measuredLayout, probeExpression, STACK_WORDS, walkExpression, walkOnExpression, wordsExpression, type MeasuredLayout, type WalkPlan } from './expression';
import { decodeThread, fieldValue, isRunning, savedSp, type ThreadWords } from './decode';
import type { GuestEvaluator, GuestThread, SchedulerLayout, StartTrampoline } from './types';
import { GdbValueError, parseAddress, parseCString, parseNumbers, parseRows } from './values';
import { parsePythonOutput, pythonCall, pythonDefinition } from './python';

export interface GuestThreadSnapshot {
  threads: GuestThread[];
  /** Evaluations this read took (gdb round trips; those sent together overlap). */
  evaluations: number;
  /** The walk stopped early: more threads than `maxThreads`, or a list that loops. */
  truncated: boolean;
  /** What could not be read, when something could not (the threads are still listed). */
  problem?: string;
  /** How it was read: one Python command, or gdb expressions. */
  via: 'python' | 'expressions';
}

export interface ReaderOptions {
  /** Most threads listed (a corrupted list can be endless). */
  maxThreads?: number;
  /** Walk elements for the first list in the first read; later reads size the walk to the last count. */
  chunk?: number;
  /** Use gdb's Python when the evaluator can run commands and gdb has it (default true). */
  python?: boolean;
}

/** The image has no scheduler of this layout (or gdb cannot see its types). */
export class SchedulerNotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerNotFound';
  }
}

const CHUNK_MIN = 8;
const CHUNK_MAX = 256;
/** Walk elements beyond last time's count: a list's first element, its end, and room to grow. */
const SLACK = 3;
const MAX_SCHEDULERS = 64;
/** Rows per words evaluation: gdb's default `print elements` is 200 per array. */
const GROUP = 100;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const hex = (v: bigint): string => `0x${v.toString(16)}`;

function groups<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += GROUP) out.push(items.slice(i, i + GROUP));
  return out;
}

export class GuestThreadReader {
  private plan: WalkPlan;

  private constructor(
    readonly layout: SchedulerLayout,
    /** Offsets and sizes gdb measured in this image. */
    readonly measured: MeasuredLayout,
    private readonly ev: GuestEvaluator,
    private readonly trampolines: ReadonlyMap<bigint, StartTrampoline>,
    private readonly maxThreads: number,
    chunk: number,
    /** gdb's Python has our function: reads take one command. */
    private python: boolean,
  ) {
    // At first: `chunk` elements for the first list, a few for the others.
    const lists = layout.lists.map((_, i) => (i === 0 ? chunk : CHUNK_MIN));
    this.plan = { rows: [lists] };
  }

  /**
   * Checks that the image has `layout` and prepares reading it. Rejects with SchedulerNotFound
   * (gdb's reason in the message) when it has not.
   */
  static async open(layout: SchedulerLayout, ev: GuestEvaluator, opts: ReaderOptions = {}): Promise<GuestThreadReader> {
    let m: MeasuredLayout;
    try {
      m = measuredLayout(layout, parseNumbers(await ev.evaluate(probeExpression(layout))));
    } catch (e) {
      throw new SchedulerNotFound(`${layout.label} is not in this image: ${message(e)}`);
    }
    const bad = (why: string): never => {
      throw new SchedulerNotFound(`${layout.label}: ${why} in this image`);
    };
    if (layout.name.inline ? !(m.name.size > 0 && m.name.size <= 256) : m.name.size !== 8) bad(`${layout.name.member} is not a name ${layout.name.inline ? 'array' : 'pointer'}`);
    if (![1, 2, 4, 8].includes(m.flags.size)) bad(`${layout.flags} is not a flag word`);
    if (m.ip.size !== 8 || m.sp.size !== 8) bad(`${layout.context.ip} and ${layout.context.sp} are not 64-bit`);
    if (m.current && !(m.current.cpus >= 1 && m.current.cpus <= 256)) bad(`the per-CPU current array has ${m.current.cpus} entries`);
    // A missing trampoline only means such threads show no start function.
    const found = await Promise.all(
      layout.trampolines.map(async (t) => {
        try {
          return [parseAddress(await ev.evaluate(`(long)&${t.symbol}`)), t] as const;
        } catch {
          return undefined;
        }
      }),
    );
    const trampolines = new Map(found.filter((f) => f !== undefined));
    const chunk = Math.min(CHUNK_MAX, Math.max(CHUNK_MIN, opts.chunk ?? 32));
    // A gdb without Python (or one that refuses it) says so here, once.
    const python = opts.python !== false && ev.console !== undefined && (await ev.console(pythonDefinition()).then(() => true, () => false));
    return new GuestThreadReader(layout, m, ev, trampolines, opts.maxThreads ?? 1024, chunk, python);
  }

  /** The threads now, in list order. */
  async read(): Promise<GuestThreadSnapshot> {
    const console = this.ev.console;
    if (this.python && console) {
      try {
        const text = await console.call(this.ev, pythonCall(this.measured, this.layout, this.maxThreads));
        const { threads, truncated } = parsePythonOutput(text, this.measured, this.layout.name.inline);
        return { threads: threads.map((t) => decodeThread(this.layout, this.measured, t, this.trampolines).thread), evaluations: 1, truncated, via: 'python' };
      } catch {
        // A list pointer into nowhere, or a Python that fails: the expressions say what is wrong,
        // and if they can read the list, Python is not used again.
        const snap = await this.readByExpressions();
        this.python = false;
        return snap;
      }
    }
    return this.readByExpressions();
  }

  private async readByExpressions(): Promise<GuestThreadSnapshot> {
    let evaluations = 0;
    const io = (e: string): Promise<string> => {
      evaluations++;
      return this.ev.evaluate(e);
    };
    const { records, truncated } = await this.walk(io).catch((e: unknown) => {
      // A list pointer into nowhere (a corrupted list), or gdb not stopped: nothing to list.
      throw new Error(`${this.layout.label}: the thread list cannot be read: ${message(e)}`);
    });
    const problems: string[] = [];
    const structs = await this.words(io, records.map((r) => r.address), this.measured.words);
    const threads: ThreadWords[] = records.map((r, i) => ({ ...r, words: structs[i]! }));
    if (structs.some((s) => s.length === 0)) problems.push('some thread structures could not be read');

    const layout = this.layout;
    const m = this.measured;
    const needStack = threads.filter((t) => t.words.length > 0 && !isRunning(layout, m, t) && savedSp(m, t) !== 0n);
    const namePtr = (t: ThreadWords): bigint => fieldValue(t.words, m.name);
    const needName = layout.name.inline ? [] : threads.filter((t) => t.words.length > 0 && namePtr(t) !== 0n);
    // Stacks and name strings in one evaluation: both are STACK_WORDS words.
    const got = await this.words(io, [...needStack.map((t) => savedSp(m, t)), ...needName.map(namePtr)], STACK_WORDS);
    needStack.forEach((t, i) => {
      if (got[i]!.length) t.stack = got[i];
      else problems.push(`no stack for thread ${hex(t.address)} at ${hex(savedSp(m, t))}`);
    });
    needName.forEach((t, i) => {
      const w = got[needStack.length + i]!;
      if (w.length) t.name = w;
    });

    const decoded = threads.filter((t) => t.words.length > 0).map((t) => decodeThread(layout, m, t, this.trampolines));
    // Names longer than the words read, or whose words could not be read: gdb reads the string.
    await Promise.all(
      decoded.map(async (d) => {
        if (d.nameComplete) return;
        const text = await io(`((${layout.threadType}*)${hex(d.thread.id)})->${layout.name.member}`).catch(() => undefined);
        const full = text === undefined ? undefined : parseCString(text);
        if (full !== undefined) d.thread.name = full;
      }),
    );
    return { threads: decoded.map((d) => d.thread), evaluations, truncated, via: 'expressions', ...(problems.length ? { problem: problems.join('; ') } : {}) };
  }

  private async walk(io: (e: string) => Promise<string>): Promise<{ records: Omit<ThreadWords, 'words'>[]; truncated: boolean }> {
    const m = this.measured;
    const chained = m.schedulers !== undefined;
    for (;;) {
      const plan = this.plan;
      const values = parseNumbers(await io(walkExpression(m, plan)));
      let at = 0;
      const take = (n: number): bigint[] => {
        const part = values.slice(at, at + n);
        at += n;
        if (part.length !== n) throw new GdbValueError(`the walk gave ${values.length} numbers, fewer than planned`);
        return part;
      };
      const current = take(m.current?.cpus ?? 0);
      const segments: { list: number; addresses: bigint[]; more: boolean }[] = [];
      let schedulers = 0;
      plan.rows.forEach((lists) => {
        if (chained && take(1)[0] !== 0n) schedulers++;
        lists.forEach((rows, list) => {
          const part = take(rows);
          const end = part.indexOf(0n);
          segments.push({ list, addresses: end < 0 ? part : part.slice(0, end), more: rows > 0 && end < 0 });
        });
      });
      if (chained && take(1)[0] !== 0n) {
        // More schedulers than planned: plan one more and walk again.
        if (plan.rows.length >= MAX_SCHEDULERS) throw new Error(`${this.layout.label}: more than ${MAX_SCHEDULERS} schedulers`);
        this.plan = { rows: [...plan.rows, plan.rows[0]!.map(() => CHUNK_MIN)] };
        continue;
      }
      const seen = new Set<bigint>();
      let truncated = false;
      const records: Omit<ThreadWords, 'words'>[] = [];
      const counts: number[] = [];
      const keep = (seg: (typeof segments)[number], addresses: readonly bigint[]): void => {
        for (const address of addresses) {
          // a list that loops, or more threads than anyone should list
          if (seen.has(address) || records.length >= this.maxThreads) {
            truncated = true;
            seg.more = false;
            return;
          }
          seen.add(address);
          records.push({ address, list: seg.list, cpu: current.indexOf(address) + 1 });
        }
      };
      for (const seg of segments) {
        keep(seg, seg.addresses);
        // A list longer than planned goes on from its last thread, a chunk at a time.
        let last = seg.addresses[seg.addresses.length - 1];
        let count = seg.addresses.length;
        while (seg.more && last !== undefined) {
          const rows = Math.min(CHUNK_MAX, Math.max(CHUNK_MIN, count));
          const more = parseNumbers(await io(walkOnExpression(m, last, rows)));
          const end = more.indexOf(0n);
          const got = end < 0 ? more : more.slice(0, end);
          seg.more = end < 0;
          keep(seg, got);
          count += got.length;
          last = got[got.length - 1] ?? last;
        }
        counts.push(count);
      }
      // Next time, one walk covers every list: its count, and room for a few more.
      const lists = this.layout.lists.length;
      const used = chained ? Math.max(1, schedulers) : 1;
      this.plan = { rows: Array.from({ length: used }, (_, k) => Array.from({ length: lists }, (_, i) => Math.min(CHUNK_MAX, (counts[k * lists + i] ?? 0) + SLACK))) };
      return { records, truncated };
    }
  }

  /**
   * `count` words at each address, in groups of one evaluation each, sent together. A group gdb
   * cannot read is read address by address; an address that cannot be read gets no words.
   */
  private async words(io: (e: string) => Promise<string>, addresses: readonly bigint[], count: number): Promise<bigint[][]> {
    const parts = await Promise.all(
      groups(addresses).map(async (group) => {
        try {
          return parseRows(await io(wordsExpression(group, count)), count);
        } catch {
          return Promise.all(group.map((a) => io(wordsExpression([a], count)).then((t) => parseRows(t, count)[0]!, () => [])));
        }
      }),
    );
    return parts.flat();
  }
}

/**
 * The reader for a platform's scheduler, or undefined when the platform has none (Solo5) or the
 * image does not have it (a Rumprun image built without threads): the debugger then shows vCPUs.
 */
export async function openGuestThreads(
  layout: SchedulerLayout | undefined,
  ev: GuestEvaluator,
  opts?: ReaderOptions,
): Promise<GuestThreadReader | undefined> {
  if (!layout) return undefined;
  try {
    return await GuestThreadReader.open(layout, ev, opts);
  } catch (e) {
    if (e instanceof SchedulerNotFound) return undefined;
    throw e;
  }
}
