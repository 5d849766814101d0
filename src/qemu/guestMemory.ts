/**
 * Guest memory read straight from QEMU (QMP `memsave` into a file of a private directory, then the
 * file read): far faster than gdb's hex-encoded remote protocol for large ranges. It needs QEMU on
 * this machine, able to write into the directory; anything else answers undefined and the caller
 * reads through gdb.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { QmpClient } from './qmp';

export class MemsaveReader {
  private files = 0;

  constructor(
    private readonly qmp: () => QmpClient | undefined,
    private readonly dir: string,
  ) {}

  /** `size` bytes of virtual memory at `address` as vCPU `cpuIndex` sees it; undefined when QEMU cannot. */
  async read(address: bigint, size: number, cpuIndex = 0): Promise<Buffer | undefined> {
    const qmp = this.qmp();
    // QMP numbers are JSON numbers: exact only below 2^53.
    if (!qmp || qmp.isClosed || address + BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const file = join(this.dir, `memsave-${this.files++}.bin`);
    try {
      await qmp.memsave(Number(address), size, file, cpuIndex, 30_000);
      return await readFile(file);
    } catch {
      return undefined;
    } finally {
      await rm(file, { force: true });
    }
  }
}
