/**
 * Run control: whether the guest runs, the commands that set it running, and the one mechanism for
 * stops the user does not see (a silent run: a command, then the next stop, awaited and bounded).
 * gdb's `*running` and `*stopped` records arrive here; each stop is classified (stops.ts) with
 * what the other parts know at that moment, and comes out as a `stop` event.
 */
import { EventEmitter } from 'node:events';
import type { Gdb, MiAsync } from '../mi/gdb';
import * as mi from '../mi/commands';
import type { CrashReport } from '../crash/report';
import type { GdbHost } from './gdbHost';
import { classifyStop, intentAfter, type Intent, type Stop, type StopContext } from './stops';

/** What the session is doing with the guest. */
export type RunState = 'starting' | 'stopped' | 'running' | 'ended';

/** What the other parts contribute to a stop's classification. */
export type StopFacts = Omit<StopContext, 'intent' | 'silent' | 'ignoring' | 'shutdownCause'>;

export interface RunControlEvents {
  stop: [Stop];
  /** The guest is about to run: what was known at the last stop (frames, variables) is stale. */
  resuming: [];
  /** gdb accepted the command that runs the guest. */
  resumed: [];
}

export interface RunControlOptions {
  timeoutScale: number;
  facts: () => StopFacts;
  /** Why a launched machine paused itself (QMP's SHUTDOWN event), or undefined when it did not say. */
  shutdownCause: () => Promise<string | undefined>;
}

/** A command that sets the guest running. */
export type RunCommand = (gdb: Gdb) => Promise<unknown>;

export class RunControl extends EventEmitter<RunControlEvents> {
  private current: RunState = 'starting';
  private intent: Intent = {};
  private configured = false;
  private ignoring = 0;
  private waiter: { resolve: () => void } | undefined;

  constructor(
    private readonly host: GdbHost,
    private readonly opts: RunControlOptions,
  ) {
    super();
    host.on('exec', (rec) => this.onExec(rec));
  }

  get state(): RunState {
    return this.current;
  }

  /** gdb is connected to a stopped guest. */
  connected(): void {
    this.current = 'stopped';
  }

  /** A guest that runs without gdb (Run Without Debugging) was set going. */
  runningWithoutGdb(): void {
    this.current = 'running';
  }

  /** VS Code sent configurationDone: from now on stops are the user's. */
  configurationDone(): void {
    this.configured = true;
  }

  ended(): void {
    this.current = 'ended';
  }

  /**
   * Runs the guest with `command`. A user's command says what it expects of its stop (`intent`);
   * the adapter going on by itself (after a logpoint, a restart's entry) keeps the current one.
   */
  async resume(command: RunCommand, intent?: Intent): Promise<void> {
    const gdb = this.host.require();
    if (intent) this.intent = intent;
    this.emit('resuming');
    this.current = 'running';
    try {
      await command(gdb);
    } catch (e) {
      if (intent) this.intent = {};
      throw e;
    }
    this.emit('resumed');
  }

  /** The user's Continue, Next, Step In and Step Out (`instruction`: by instruction, not by line). */
  async move(move: 'continue' | 'next' | 'stepIn' | 'stepOut', threadId?: number, instruction = false): Promise<void> {
    const commands: Record<typeof move, RunCommand> = {
      continue: (gdb) => mi.execContinue(gdb),
      next: (gdb) => mi.execNext(gdb, threadId, instruction),
      stepIn: (gdb) => mi.execStep(gdb, threadId, instruction),
      stepOut: (gdb) => mi.execFinish(gdb, threadId),
    };
    await this.resume(commands[move], move === 'continue' ? {} : { expected: 'step' });
  }

  /** Goes on after a stop the user does not need to see. */
  continue(): Promise<void> {
    return this.resume((gdb) => mi.execContinue(gdb)).catch(() => undefined);
  }

  /** The user's Pause. */
  async pause(): Promise<void> {
    const gdb = this.host.require();
    this.intent = { ...this.intent, expected: 'pause' };
    await mi.execInterrupt(gdb);
  }

  /** The console showed a crash while the guest runs: stop it there. False when it is not running. */
  async interruptForCrash(report: CrashReport): Promise<boolean> {
    const gdb = this.host.gdb;
    // The guest may already have stopped by itself (at the crash function the console's line led
    // to) with its *stopped record still unread: let it be read first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.state !== 'running' || !gdb?.isAlive) return false;
    this.intent = { ...this.intent, consoleCrash: report, expected: 'exception' };
    await mi.execInterrupt(gdb).catch(() => undefined);
    return true;
  }

  /** Runs `command` and resolves at the next stop, which nobody sees (bounded by `timeoutMs`, scaled). */
  runSilently(command: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
    this.current = 'running';
    const bound = timeoutMs * this.opts.timeoutScale;
    return this.awaitSilentStop(command, bound, `The replay did not get where it was going within ${Math.round(bound / 1000)} s.`);
  }

  /** Interrupts a running guest without telling VS Code; resolves once it is stopped. */
  pauseSilently(): Promise<void> {
    const gdb = this.host.gdb;
    if (!gdb?.isAlive || this.state !== 'running') return Promise.resolve();
    return this.awaitSilentStop(() => mi.execInterrupt(gdb), 5_000, 'The guest did not stop within 5 s.');
  }

  /** Runs `fn` with the guest stopped: a running guest is paused for it and resumed after, invisibly. */
  async whileStopped<T>(fn: (gdb: Gdb) => Promise<T>): Promise<T> {
    const gdb = this.host.require();
    if (this.state !== 'running') return fn(gdb);
    await this.pauseSilently();
    try {
      return await fn(gdb);
    } finally {
      await mi.execContinue(gdb).catch(() => undefined);
    }
  }

  /** Runs `fn` while stops are not the user's (QEMU being replaced, gdb connecting to the new one). */
  async ignoringStops<T>(fn: () => Promise<T>): Promise<T> {
    this.ignoring++;
    try {
      return await fn();
    } finally {
      this.ignoring--;
    }
  }

  private awaitSilentStop(command: () => Promise<unknown>, timeoutMs: number, timeoutMessage: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(timeoutMessage));
      }, timeoutMs);
      this.waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      command().catch((e: unknown) => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  private onExec(rec: MiAsync): void {
    if (rec.asyncClass === 'running') {
      this.current = 'running';
      return;
    }
    if (rec.asyncClass !== 'stopped') return;
    const record = mi.stopOf(rec.results);
    this.current = record.reason.startsWith('exited') ? 'ended' : 'stopped';
    this.dispatch(record);
  }

  private dispatch(record: mi.MiStop, shutdownCause?: string): void {
    const stop = classifyStop(record, {
      ...this.opts.facts(),
      intent: this.intent,
      silent: this.waiter !== undefined,
      ignoring: !this.configured || this.ignoring > 0,
      shutdownCause,
    });
    this.intent = intentAfter(stop, this.intent);
    if (stop.kind === 'silent') {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.resolve();
    } else if (stop.kind === 'machine-paused') {
      void this.opts.shutdownCause().then((cause) => this.dispatch(record, cause ?? ''));
    } else {
      this.emit('stop', stop);
    }
  }
}
