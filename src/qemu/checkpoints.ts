/**
 * Replay checkpoints. A reverse step in a QEMU replay loads the nearest snapshot before the target
 * instruction and replays forward from it: with only the snapshot QEMU takes when gdb attaches
 * (instruction 0), a step back at 12 billion instructions replays 12 billion instructions. The run of
 * a new replay to where the user was stops every `interval` instructions to `savevm`, so that every
 * position of the recording has a snapshot at most one interval behind it.
 */
import type { QmpClient } from './qmp';

/** Instructions between checkpoints at least: about 0.1 s of replay on TCG. */
export const MIN_CHECKPOINT_INTERVAL = 100_000_000;

/** Each checkpoint holds the guest's RAM, so a recording gets this many at most. */
export const DEFAULT_MAX_CHECKPOINTS = 32;

/** Where the run from instruction 0 to `end` stops to save checkpoints (ascending, all below `end`). */
export function checkpointPlan(end: number, maxCheckpoints: number): number[] {
  if (maxCheckpoints <= 0 || end <= MIN_CHECKPOINT_INTERVAL) return [];
  const interval = Math.max(MIN_CHECKPOINT_INTERVAL, Math.ceil(end / (maxCheckpoints + 1)));
  const stops: number[] = [];
  for (let at = interval; at < end && stops.length < maxCheckpoints; at += interval) stops.push(at);
  return stops;
}

/** Saves a checkpoint of the stopped replay, named for its instruction count. */
export async function saveCheckpoint(qmp: QmpClient, icount: number, timeoutMs = 30_000): Promise<void> {
  // HMP reports failures as text, not as a QMP error.
  const text = (await qmp.humanMonitorCommand(`savevm rr-${icount}`, timeoutMs)).trim();
  if (/error/i.test(text)) throw new Error(`QEMU could not save a replay checkpoint: ${text}`);
}
