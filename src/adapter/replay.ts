/**
 * Going back in time. QEMU executes backwards only in a replay, so the first reverse command ends
 * the recorded run where it stands and starts the same machine replaying the recording, with gdb
 * attached from instruction 0 (QEMU keeps that as its first snapshot), then runs the replay to the
 * instruction the user was at, saving checkpoints on the way. Reverse commands then run in the
 * replay, with the moves gdb has no single command for (reverseMoves.ts); going forward stops at
 * the end of the recording; a replay that stops answering is reported.
 */
import { EventEmitter } from 'node:events';
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import { checkpointPlan, saveCheckpoint } from '../qemu/checkpoints';
import { watchLiveness } from '../qemu/liveness';
import type { GdbHost } from './gdbHost';
import type { Guest } from './guest';
import * as moves from './reverseMoves';
import type { RunCommand, RunControl } from './runControl';

export interface ReplayEvents {
  /** The switch's run to where the user was: `done` of `total` instructions. */
  progress: [done: number, total: number];
  /** The replay stopped answering (QEMU hung): the session cannot go on. */
  hung: [];
}

export interface ReplayStarted {
  /** The instruction the recording ends at, where the user was. */
  end: number;
  checkpoints: number;
  ms: number;
  /** What the user is told. */
  text: string;
}

/** Step Back, Reverse Step Into, Reverse Step Out, Reverse Continue. */
export interface ReverseMove {
  move: 'step' | 'stepIn' | 'stepOut' | 'continue';
  /** By instruction instead of by line. */
  instruction?: boolean;
  /** Reverse Continue with data breakpoints set: its stop is moved back onto the write. */
  watch?: boolean;
}

/** A replay runs at 1e9 instructions a second here; bound each run far above that, the liveness check catches hangs. */
const runBound = (instructions: number): number => 60_000 + instructions / 20_000;

export class Replay extends EventEmitter<ReplayEvents> {
  private stopLiveness: (() => void) | undefined;

  constructor(
    private readonly guest: Guest,
    private readonly host: GdbHost,
    private readonly run: RunControl,
    private readonly opts: { maxCheckpoints: number; timeoutScale: number },
  ) {
    super();
  }

  get replaying(): boolean {
    return this.guest.mode === 'replay';
  }

  /** Turns the recorded run into a replay at the same instruction. */
  async start(): Promise<ReplayStarted> {
    const gdb = this.host.require();
    const started = Date.now();
    const { end, checkpoints } = await this.run.ignoringStops(() => this.replayToHere(gdb));
    this.watchLiveness();
    const ms = Date.now() - started;
    const saved = checkpoints ? `, ${checkpoints} checkpoint${checkpoints === 1 ? '' : 's'}` : '';
    const text =
      `Replaying the recording (${end} instructions${saved}) from here, switched in ${ms} ms: ` +
      'Step Back and Reverse Continue go back in time; going forward stops at the end of the recording.\n';
    return { end, checkpoints, ms, text };
  }

  /**
   * Runs a reverse command in the replay (`start` it first). At a trap stop gdb stands in the
   * handler while the user sees the faulting line (`fault`): going back starts from there, and a
   * step back is that line (or instruction) before it ran. Returns 'at-fault' for such a step,
   * whose stop the caller reports; otherwise the stop comes as any other.
   */
  async reverse(threadId: number, m: ReverseMove, fault: string | undefined): Promise<'running' | 'at-fault'> {
    const gdb = this.host.require();
    const insn = !!m.instruction;
    const stepping = m.move === 'step' || m.move === 'stepIn';
    if (fault && stepping) {
      await this.run.resume(() => moves.backToFault(gdb, this.run, threadId, fault, insn ? 'instruction' : 'line'), {});
      return 'at-fault';
    }
    if (fault) await moves.backToFault(gdb, this.run, threadId, fault, 'line');
    const commands: Record<ReverseMove['move'], RunCommand> = {
      step: (g) => mi.execNext(g, threadId, insn, true),
      stepIn: (g) => mi.execStep(g, threadId, insn, true),
      stepOut: (g) => mi.execFinish(g, threadId, true),
      continue: (g) => mi.execContinue(g, undefined, true),
    };
    // gdb's reverse line step stops at a line-table entry, not always the line's start (see reverseMoves.ts).
    await this.run.resume(commands[m.move], { expected: 'step', reverseLine: stepping && !insn, reverseWatch: m.move === 'continue' && !!m.watch });
    return 'running';
  }

  /** A reverse line step stopped at a later entry of its line: on to the line's start. */
  async finishLine(pc: string): Promise<void> {
    await moves.finishLineBackwards(this.host.require(), this.run, pc);
  }

  /** A reverse watchpoint stop, one instruction after the write: back onto the write itself. */
  async backOntoWrite(threadId: number): Promise<void> {
    await moves.backOntoWrite(this.host.require(), this.run, threadId);
  }

  /** Going forward in a replay stops at the end of the recording instead of running off it. */
  async beforeForward(): Promise<void> {
    const end = this.guest.recording?.end;
    if (this.replaying && end !== undefined) await this.guest.qmp?.replayBreak(end).catch(() => undefined);
  }

  /** Restart in a replay: a reset would leave the recording, so a new recording of a fresh boot starts. */
  async recordAgain(): Promise<void> {
    this.stopLiveness?.();
    this.stopLiveness = undefined;
    await this.guest.replace('record');
  }

  dispose(): void {
    this.stopLiveness?.();
    this.stopLiveness = undefined;
  }

  private async replayToHere(gdb: Gdb): Promise<{ end: number; checkpoints: number }> {
    const recorded = this.guest.qmp;
    if (!recorded) throw new Error('The recorded QEMU is gone.');
    const end = (await recorded.queryReplay()).icount;
    // Quitting records a shutdown event at the current instruction. A replay standing on the very
    // instruction of that event has it pending, and the next reverse step then stops as a shutdown
    // halfway (seen 1 time in 6). One instruction more in the recording keeps the event past `end`.
    // Not from a machine paused on its own reset or triple fault: resuming that one reboots it.
    const status = await recorded.queryStatus().catch(() => undefined);
    if (status?.status === 'debug') await this.run.runSilently(() => mi.execStep(gdb, undefined, true), 2_000).catch(() => undefined);
    await this.guest.replace('replay');
    const qmp = this.guest.qmp;
    if (!qmp) throw new Error('The replay QEMU has no QMP socket.');
    // Run to where the user was, past every breakpoint on the way (a breakpoint also makes QEMU single-step its page).
    await mi.breakEnableAll(gdb, false);
    const stops = checkpointPlan(end, this.opts.maxCheckpoints);
    let at = 0;
    for (const stop of [...stops, end]) {
      await qmp.replayBreak(stop);
      try {
        await this.run.runSilently(() => mi.execContinue(gdb), runBound(stop - at));
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        if (!this.guest.alive) throw new Error(`${why} The replay's QEMU ended (its reason is above).`);
        const now = await qmp.queryReplay().catch(() => undefined);
        throw new Error(`${why} It stopped at instruction ${now?.icount ?? 'unknown'} of ${end}.`);
      }
      at = stop;
      if (stop < end) await saveCheckpoint(qmp, stop);
      this.emit('progress', stop, end);
    }
    await mi.breakEnableAll(gdb, true);
    // Reverse commands are only right from where the recording was left.
    const settled = await qmp.queryReplay();
    if (settled.icount !== end) throw new Error(`The replay stopped at instruction ${settled.icount}, not at ${end} where the recording was left.`);
    if (this.guest.recording) this.guest.recording.end = end;
    return { end, checkpoints: stops.length };
  }

  /**
   * A replay that stops answering ends the session instead of leaving VS Code waiting for a stop
   * forever. It is watched once the switch is done: the switch's own waits are bounded, and its
   * snapshots of a big guest can keep the monitor busy for a while.
   */
  private watchLiveness(): void {
    const qmp = this.guest.qmp;
    if (!qmp) return;
    const scale = this.opts.timeoutScale;
    this.stopLiveness?.();
    this.stopLiveness = watchLiveness(qmp, {
      everyMs: 5_000 * scale,
      timeoutMs: 10_000 * scale,
      onHung: () => {
        if (this.guest.qmp === qmp) this.emit('hung');
      },
    });
  }
}
