/**
 * The launched guest: its QEMU (started from the launch plan, recorded when asked), the console
 * bytes QEMU passes on, what its exit means (the platform decodes the status), a reset in place
 * for Restart, and the one way of putting another QEMU in its place: a replay of the recording, or
 * a fresh recording. gdb is disconnected from the old QEMU and connected to the new one meanwhile,
 * with stops ignored.
 */
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import * as mi from '../mi/commands';
import { QemuInstance, makePrivateDir, type QemuStartOptions } from '../qemu/instance';
import type { PlatformProfile } from '../qemu/profiles';
import type { QmpClient } from '../qemu/qmp';
import { prepareRecording, recordReplayArgs, type Recording } from '../qemu/recording';
import type { GdbHost } from './gdbHost';
import type { ProcessGuard } from './reaper';
import type { RunControl } from './runControl';

/** Live, recording, or replaying the recording. */
export type GuestMode = 'live' | 'record' | 'replay';

export interface GuestEvents {
  console: [Buffer];
  /** QEMU ended by itself (not replaced, not disposed), its last console bytes read; code null: a signal. */
  exit: [reason: string, code: number | null];
}

export interface GuestOptions {
  /** How QEMU is started; every QEMU of the session is the same machine. */
  machine: QemuStartOptions;
  profile: PlatformProfile;
  /** The image's entry point as a gdb location (`*0x…`). */
  kernelEntry: string;
  consoleLog?: string;
  /** The guest's user-network backends: a recording replays their packets. */
  netdevs: string[];
  processes: ProcessGuard;
}

/** The sentence and status for the guest's end. */
export interface GuestEnd {
  text: string;
  status: number;
  /** A signal killed QEMU: the user should hear of it. */
  important: boolean;
}

export class Guest extends EventEmitter<GuestEvents> {
  private qemu: QemuInstance | undefined;
  private disposed = false;
  /** The recording of a `record` launch: its files, its mode, and where it ends once replayed. */
  recording: Recording | undefined;
  /** After a restart: the temporary breakpoint at the entry point, and whether the user stops there. */
  restartGuard: { breakpoint: string; stopThere: boolean } | undefined;

  constructor(
    private readonly opts: GuestOptions,
    private readonly host: GdbHost,
    private readonly run: RunControl,
  ) {
    super();
  }

  get qmp(): QmpClient | undefined {
    return this.qemu?.qmp;
  }

  get alive(): boolean {
    return !!this.qemu?.isAlive;
  }

  get gdbSocket(): string {
    if (!this.qemu) throw new Error('QEMU is gone.');
    return this.qemu.plan.gdbSocket;
  }

  get mode(): GuestMode {
    return this.recording?.mode ?? 'live';
  }

  get kernelEntry(): string {
    return this.opts.kernelEntry;
  }

  /** Starts QEMU, paused, recording when asked. */
  async start(mode: 'live' | 'record'): Promise<void> {
    if (mode === 'record') {
      const dir = await makePrivateDir('unikernel-rr-');
      this.opts.processes.guardDir(dir);
      this.recording = await prepareRecording(dir, this.qemuPath, this.opts.netdevs);
    }
    await this.startQemu(mode, false);
  }

  /**
   * Puts a new QEMU of the same machine in place of the current one: a replay of the recording, or
   * a fresh recording (with a fresh snapshot drive: the old checkpoints belong to the old one).
   */
  async replace(mode: 'record' | 'replay'): Promise<void> {
    const old = this.qemu;
    const recording = this.recording;
    if (!old || !recording) throw new Error('The recorded QEMU is gone.');
    await this.run.ignoringStops(async () => {
      // From here on the old QEMU's exit is not the guest's.
      this.qemu = undefined;
      await this.host.disconnect();
      await old.qmp?.quit().catch(() => undefined);
      await old.waitExit(5_000);
      await old.dispose();
      this.opts.processes.releaseDir(old.privateDir);
      if (mode === 'record') this.recording = await prepareRecording(recording.dir, this.qemuPath, recording.netdevs);
      await this.startQemu(mode, true);
      await this.host.connect(this.gdbSocket, true);
    });
  }

  /**
   * Resets the machine in place for Restart. Our machines turn a reset into a pause (to catch
   * triple faults); this one is wanted, and so are the ones the firmware does while it boots again:
   * resets stay resets until the image's entry point, where a temporary breakpoint (the restart
   * guard) turns them back. `entry` is where the user wants to stop; returns whether the guard is it.
   */
  async reset(entry: string | undefined): Promise<boolean> {
    const qmp = this.qmp;
    const gdb = this.host.require();
    if (!qmp) throw new Error('QEMU is gone.');
    await qmp.setRebootAction('reset');
    await qmp.systemReset();
    await qmp.queryStatus();
    const guard = await mi.breakInsert(gdb, this.kernelEntry, { temporary: true, hardware: true });
    this.restartGuard = { breakpoint: guard.number, stopThere: entry === this.kernelEntry };
    await mi.flushCaches(gdb);
    return this.restartGuard.stopThere;
  }

  /** The restarted guest reached its entry: resets are crashes again. */
  async restarted(): Promise<void> {
    this.restartGuard = undefined;
    await this.qmp?.setRebootAction('shutdown').catch(() => undefined);
  }

  /** Why the machine paused itself: QMP's SHUTDOWN reason, if it came within 2 s. */
  async shutdownCause(): Promise<string | undefined> {
    const shutdown = await this.qmp?.waitForShutdown(2_000);
    return typeof shutdown?.data.reason === 'string' ? shutdown.data.reason : undefined;
  }

  /** Ends QEMU (a power-off, a reset nobody stops at); its exit ends the session. */
  async quit(): Promise<void> {
    await this.qmp?.quit().catch(() => undefined);
  }

  /** Runs a guest that no gdb runs (Run Without Debugging). */
  async cont(): Promise<void> {
    await this.qmp?.cont().catch(() => undefined);
  }

  /** Guest memory straight from QEMU (see QemuInstance.readGuestMemory); undefined when it cannot. */
  readMemory(address: bigint, size: number): Promise<Buffer | undefined> {
    return this.qemu?.readGuestMemory(address, size) ?? Promise.resolve(undefined);
  }

  /** QEMU's exit as the user should read it: the platform says what the guest meant by its code. */
  describeExit(reason: string, code: number | null, consoleLines: readonly string[]): GuestEnd {
    if (code === null) return { text: `${reason} The debug session ends.`, status: 0, important: true };
    const exit = this.opts.profile.exitStatus(code, consoleLines);
    // QEMU's own complaint on stderr, if it made one, comes with it (its exit code is decoded above).
    const complaint = /^QEMU exited with code \d+: (.*)$/s.exec(reason)?.[1];
    return { text: `${exit.text}${complaint ? ` QEMU said: ${complaint}` : ''}`, status: exit.status, important: false };
  }

  /** Ends QEMU and removes what the session made for it. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const qemu = this.qemu;
    this.qemu = undefined;
    if (qemu) {
      await qemu.dispose();
      if (qemu.pid !== undefined) this.opts.processes.release(qemu.pid);
      this.opts.processes.releaseDir(qemu.privateDir);
    }
    const recording = this.recording;
    this.recording = undefined;
    if (recording) {
      await rm(recording.dir, { recursive: true, force: true });
      this.opts.processes.releaseDir(recording.dir);
    }
  }

  private get qemuPath(): string {
    return this.opts.machine.qemuPath ?? 'qemu-system-x86_64';
  }

  private async startQemu(mode: GuestMode, again: boolean): Promise<void> {
    const machine = this.opts.machine;
    const recording = this.recording;
    const qemu = await QemuInstance.start({
      ...machine,
      extraArgs: [...(machine.extraArgs ?? []), ...(recording && mode !== 'live' ? recordReplayArgs(recording, mode) : [])],
      // A replay shows no console of its own: the recorded one is on screen already.
      noConsole: mode === 'replay',
      consoleLog: mode === 'replay' ? undefined : this.opts.consoleLog,
      consoleLogAppend: again,
      // A recording's console is a file QEMU writes (see QemuPlanInput.consoleFile).
      consoleFile: mode === 'record',
      onSpawn: (pid) => this.opts.processes.guard(pid),
      onPrivateDir: (dir) => this.opts.processes.guardDir(dir),
    });
    this.qemu = qemu;
    if (recording && mode === 'replay') recording.mode = 'replay';
    qemu.on('console', (chunk) => this.emit('console', chunk));
    qemu.on('exit', (reason, code) => void this.onExit(qemu, reason, code));
  }

  private async onExit(qemu: QemuInstance, reason: string, code: number | null): Promise<void> {
    if (qemu.pid !== undefined) this.opts.processes.release(qemu.pid);
    if (this.disposed || qemu !== this.qemu) return;
    await qemu.consoleDrained(2_000);
    if (!this.disposed) this.emit('exit', reason, code);
  }
}
