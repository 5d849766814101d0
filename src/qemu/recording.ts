/**
 * QEMU record/replay: a launched guest runs under `rr=record`; when the user steps back, the same
 * machine is started again under `rr=replay` (identical machine arguments, even the `-kernel` path
 * string) and brought to the same instruction, where gdb can execute backwards.
 */
import { execa } from 'execa';
import { dirname, join } from 'node:path';
import type { Recording } from './replayArgs';

export { recordReplayArgs, type Recording } from './replayArgs';

/** Makes the throw-away qcow2 overlay the replay's snapshots live in. */
export async function prepareRecording(dir: string, qemuPath: string, netdevs: string[] = []): Promise<Recording> {
  const qemuImg = qemuPath.includes('/') ? join(dirname(qemuPath), 'qemu-img') : 'qemu-img';
  const r = await execa(qemuImg, ['create', '-q', '-f', 'qcow2', join(dir, 'rr.qcow2'), '1M'], { reject: false, timeout: 10_000 });
  if (r.exitCode !== 0) {
    throw new Error(
      r.failed && /ENOENT/.test(String(r.message))
        ? 'Recording needs qemu-img (Debian package qemu-utils), which was not found.'
        : `qemu-img could not create the replay's snapshot drive: ${String(r.stderr).trim() || r.message}.`,
    );
  }
  return { dir, netdevs, mode: 'record' };
}
