/**
 * The machine arguments of QEMU record/replay. Record and replay must be started with identical
 * machine arguments (even the `-kernel` path string); only these differ, by `rr=`.
 */
import { join } from 'node:path';

export interface Recording {
  dir: string;
  /** The guest's user-network backends: their packets are recorded and replayed too. */
  netdevs: string[];
  /** Instruction count where the recording ends (set when the replay starts). */
  end?: number;
  mode: 'record' | 'replay';
}

/** The machine arguments that make a run recordable and replayable, for one mode. */
export function recordReplayArgs(recording: Pick<Recording, 'dir' | 'netdevs'>, mode: 'record' | 'replay'): string[] {
  const dir = recording.dir;
  return [
    '-icount', `shift=auto,rr=${mode},rrfile=${join(dir, 'rr.bin').replaceAll(',', ',,')}`,
    // The replay keeps its snapshots in a qcow2 drive; without one every reverse step fails (E14).
    '-drive', `file=${join(dir, 'rr.qcow2').replaceAll(',', ',,')},if=none,id=rr,snapshot=on`,
    // Loading a snapshot with the vAPIC on can deadlock QEMU.
    '-global', 'apic-common.vapic=off',
    // Packets from the host are events like any other: recorded, then replayed instead of received.
    ...recording.netdevs.flatMap((id) => ['-object', `filter-replay,id=replay-${id},netdev=${id}`]),
  ];
}
