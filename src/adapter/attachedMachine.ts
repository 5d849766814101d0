/**
 * The QEMU of an attached guest, when the user names its QMP socket (`qmp` in an attach
 * configuration): large memory reads then come straight from QEMU instead of through the GDB stub,
 * as they do in a launch. Nothing else is asked of a machine the session did not start.
 */
import { rm } from 'node:fs/promises';
import { MemsaveReader } from '../qemu/guestMemory';
import { makePrivateDir } from '../qemu/instance';
import { QmpClient } from '../qemu/qmp';
import type { ProcessGuard } from './reaper';

export class AttachedMachine {
  private readonly memory: MemsaveReader;

  private constructor(
    private readonly qmp: QmpClient,
    private readonly dir: string,
    private readonly processes: ProcessGuard,
  ) {
    this.memory = new MemsaveReader(() => qmp, dir);
  }

  /** Connects; throws one sentence when nothing answers QMP there. */
  static async open(target: string, processes: ProcessGuard): Promise<AttachedMachine> {
    const qmp = await QmpClient.connect(target).catch((e: Error) => {
      throw new Error(`QEMU's QMP socket ${target} did not answer (${e.message.replace(/^Cannot talk to QEMU's QMP socket: |\.$/g, '')}); large memory reads go through gdb.`);
    });
    const dir = await makePrivateDir();
    processes.guardDir(dir);
    return new AttachedMachine(qmp, dir, processes);
  }

  readMemory(address: bigint, size: number): Promise<Buffer | undefined> {
    return this.memory.read(address, size);
  }

  async dispose(): Promise<void> {
    this.qmp.close();
    await rm(this.dir, { recursive: true, force: true });
    this.processes.releaseDir(this.dir);
  }
}
