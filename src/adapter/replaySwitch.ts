/**
 * The switch from a recorded run to its replay: QEMU can execute backwards only in a replay, so the
 * first reverse command ends the recorded run where it stands and starts the same machine replaying
 * the recording, with gdb attached from instruction 0 (QEMU keeps that as its first snapshot), then
 * runs the replay to the instruction the user was at, saving checkpoints on the way.
 */
import type { Gdb } from '../mi/gdb';
import * as mi from '../mi/commands';
import { checkpointPlan, saveCheckpoint } from '../qemu/checkpoints';
import { QemuInstance, type QemuStartOptions } from '../qemu/instance';
import { recordReplayArgs, type Recording } from '../qemu/recording';

/** What the switch needs of the debug session. */
export interface ReplayHost {
  /** How the recorded QEMU was started; the replay starts the identical machine. */
  readonly machine: QemuStartOptions;
  /** The old QEMU is about to end; its exit is not the end of the session. */
  retire(old: QemuInstance): void;
  /** The replay's QEMU is the session's QEMU from now on. */
  adopt(fresh: QemuInstance): void;
  connect(gdb: Gdb, gdbSocket: string): Promise<void>;
  /** Runs the guest to its next stop without telling the user (bounded by `timeoutMs`). */
  runSilently(command: () => Promise<unknown>, timeoutMs: number): Promise<void>;
  /** How far the replay has come, for a progress bar. */
  progress(done: number, total: number): void;
}

export interface ReplayStarted {
  /** The instruction the recording ends at, where the user was. */
  end: number;
  checkpoints: number;
  ms: number;
}

/** A replay runs at 1e9 instructions a second here; bound each run far above that, the liveness check catches hangs. */
const runBound = (instructions: number): number => 60_000 + instructions / 20_000;

export async function startReplay(host: ReplayHost, gdb: Gdb, old: QemuInstance, recording: Recording, maxCheckpoints: number): Promise<ReplayStarted> {
  if (!old.qmp) throw new Error('The recorded QEMU is gone.');
  const started = Date.now();
  const end = (await old.qmp.queryReplay()).icount;
  // Quitting records a shutdown event at the current instruction. A replay standing on the very
  // instruction of that event has it pending, and the next reverse step then stops as a shutdown
  // halfway (seen 1 time in 6). One instruction more in the recording keeps the event past `end`.
  // Not from a machine paused on its own reset or triple fault: resuming that one reboots it.
  const status = await old.qmp.queryStatus().catch(() => undefined);
  if (status?.status === 'debug') await host.runSilently(() => mi.execStep(gdb, undefined, true), 2_000).catch(() => undefined);
  host.retire(old);
  await mi.targetDisconnect(gdb).catch(() => undefined);
  await old.qmp.quit().catch(() => undefined);
  await old.waitExit(5_000);
  await old.dispose();
  // Same machine arguments, but no console: the recorded one was shown already.
  const fresh = await QemuInstance.start({
    ...host.machine,
    extraArgs: [...(host.machine.extraArgs ?? []), ...recordReplayArgs(recording, 'replay')],
    noConsole: true,
  });
  host.adopt(fresh);
  const qmp = fresh.qmp;
  if (!qmp) throw new Error('The replay QEMU has no QMP socket.');
  await host.connect(gdb, fresh.plan.gdbSocket);
  // Run to where the user was, past every breakpoint on the way (a breakpoint also makes QEMU single-step its page).
  await mi.breakEnableAll(gdb, false);
  const stops = checkpointPlan(end, maxCheckpoints);
  let at = 0;
  for (const stop of [...stops, end]) {
    await qmp.replayBreak(stop);
    try {
      await host.runSilently(() => mi.execContinue(gdb), runBound(stop - at));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (!fresh.isAlive) throw new Error(`${why} The replay's QEMU ended (its reason is above).`);
      const now = await qmp.queryReplay().catch(() => undefined);
      throw new Error(`${why} It stopped at instruction ${now?.icount ?? 'unknown'} of ${end}.`);
    }
    at = stop;
    if (stop < end) await saveCheckpoint(qmp, stop);
    host.progress(stop, end);
  }
  await mi.breakEnableAll(gdb, true);
  // Reverse commands are only right from where the recording was left.
  const settled = await qmp.queryReplay();
  if (settled.icount !== end) throw new Error(`The replay stopped at instruction ${settled.icount}, not at ${end} where the recording was left.`);
  recording.mode = 'replay';
  recording.end = end;
  return { end, checkpoints: stops.length, ms: Date.now() - started };
}
