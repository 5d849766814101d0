/**
 * Guest threads: the unikernel's own scheduler threads, read from guest memory through gdb. A
 * platform profile describes its scheduler's data structures as a `SchedulerLayout` (data, not
 * code); the reader in this folder turns a layout and an evaluator into a thread list.
 */

export type ThreadState = 'running' | 'runnable' | 'blocked' | 'sleeping' | 'exited';

/** The callee-saved registers a context switch keeps, plus where the thread resumes. */
export type CalleeSaved = 'rbp' | 'rbx' | 'r12' | 'r13' | 'r14' | 'r15';

export interface SavedRegisters {
  /** Where the thread goes on: the return address of the switch, or a new thread's start function. */
  ip: bigint;
  /** rsp at that point (after the switch's pops and return). */
  sp: bigint;
  rbp: bigint;
  rbx: bigint;
  r12: bigint;
  r13: bigint;
  r14: bigint;
  r15: bigint;
  /** Argument registers a start trampoline loads (a thread that never ran). */
  rdi?: bigint;
  rsi?: bigint;
}

export interface GuestThread {
  /** The thread structure's address: stable while the thread exists. */
  id: bigint;
  name: string;
  state: ThreadState;
  /** The vCPU a running thread is on. */
  cpu?: number;
  /** A sleeping thread's deadline, in the guest clock's nanoseconds. */
  wakeup?: bigint;
  /** The scheduler's raw flag word (for a tooltip or a bug report). */
  flags: number;
  /** Registers to unwind a thread that is not on a CPU; absent for running threads or when unknown. */
  saved?: SavedRegisters;
  /** A thread that never ran: its start function (also `saved.ip`). */
  entry?: bigint;
}

/**
 * What gdb (or a test) offers the reader: the adapter implements it with `-data-evaluate-expression`.
 * Evaluations may be sent before earlier ones are answered (gdb answers in order).
 */
export interface GuestEvaluator {
  /** The text gdb prints for a C expression; rejects with gdb's message. */
  evaluate(expression: string): Promise<string>;
  /**
   * Runs a gdb CLI command and resolves with what it printed (`-interpreter-exec console`); rejects
   * with gdb's message. With it the reader uses gdb's Python, when gdb has it: one command a read.
   */
  console?(command: string): Promise<string>;
}

/** A flag test: every bit of `all`, any bit of `any`, none of `none`. */
export interface FlagTest {
  all?: number;
  any?: number;
  none?: number;
}

/** One rule of the state table; the first rule whose conditions all hold names the state. */
export interface StateRule {
  state: ThreadState;
  flags?: FlagTest;
  /** The thread is on a list marked `exited`. */
  onExitedList?: boolean;
  /** The thread is on a CPU (per `SchedulerLayout.running`). */
  running?: boolean;
  /** The thread has a deadline (its wakeup value is not one of `wakeup.none`). */
  hasDeadline?: boolean;
}

/**
 * A code stub a new thread starts in: it pops `pops` off its stack in order; `ip` is popped last
 * by `ret` (or, for a stub that calls its function, is the function it calls).
 */
export interface StartTrampoline {
  symbol: string;
  pops: readonly ('ip' | 'rdi' | 'rsi')[];
}

/** A BSD tail queue of threads: its head as a C lvalue, or a member of the scheduler structure. */
export interface ThreadList {
  head: string;
  /** Threads on it have exited (Rumprun's zombieq, Unikraft's exited_threads). */
  exited?: boolean;
}

export interface SchedulerLayout {
  /** For messages: "Rumprun's bmk scheduler". */
  label: string;
  /** The C type of a thread: `struct bmk_thread`. */
  threadType: string;
  /**
   * Several schedulers chained in a list (Unikraft's `uk_sched_head` → `next`); `lists` heads are
   * then members of each. Without it, `lists` heads are global lvalues.
   */
  schedulers?: { first: string; type: string; next: string };
  /** The lists that together hold every thread, in the order they are shown. */
  lists: readonly ThreadList[];
  /** The tail-queue entry member linking a thread to the next one on every list of `lists`. */
  link: string;
  /** The thread's name: a char array in the structure (`inline`) or a pointer to a string. */
  name: { member: string; inline: boolean };
  flags: string;
  /** The deadline member and the values that mean "none". */
  wakeup?: { member: string; none: readonly bigint[] };
  /** Member paths of the saved instruction and stack pointers. */
  context: { ip: string; sp: string };
  /** Who is on a CPU: a per-CPU array of thread pointers, or a flag (one vCPU). */
  running: { array: string } | { flags: number };
  states: readonly StateRule[];
  /** The registers the switch pushes, in push order; the return address into its caller is above them. */
  switchPushes: readonly CalleeSaved[];
  /** Where a thread that never ran starts. */
  trampolines: readonly StartTrampoline[];
}
