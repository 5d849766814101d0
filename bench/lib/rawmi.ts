/**
 * The floor: gdb driven over MI by a minimal client (token-matched results, *stopped waited on),
 * with nothing in between. Independent commands are written back to back (pipelined).
 */
import type { ChildProcess } from 'node:child_process';
import { MiStreamParser } from '../../src/mi/parser';
import type { MiRecord, MiTuple } from '../../src/mi/types';
import { killTree, spawnTracked } from './procs';

export interface MiDone {
  resultClass: string;
  results: MiTuple;
}

interface Pending {
  resolve: (r: MiDone) => void;
  reject: (e: Error) => void;
  command: string;
  timer: NodeJS.Timeout;
}

/** Bound of one command's answer and of one stop. */
const TIMEOUT_MS = 30_000;

export class RawGdb {
  private nextToken = 1;
  private readonly pending = new Map<number, Pending>();
  private stopWaiters: { resolve: (r: MiTuple) => void; reject: (e: Error) => void }[] = [];
  private exited: string | undefined;
  /** Every byte gdb wrote to stdout, when recording. */
  readonly transcript: Buffer[] | undefined;

  private constructor(readonly proc: ChildProcess, record: boolean) {
    this.transcript = record ? [] : undefined;
    const parser = new MiStreamParser((rec) => this.onRecord(rec));
    proc.stdout?.on('data', (chunk: Buffer) => {
      this.transcript?.push(chunk);
      parser.push(chunk);
    });
    proc.stderr?.resume();
    proc.stdin?.on('error', () => undefined);
    proc.once('exit', (code, signal) => {
      this.exited = `gdb exited (${signal ?? code})`;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${this.exited} while waiting for ${p.command}`));
      }
      this.pending.clear();
      for (const w of this.stopWaiters.splice(0)) w.reject(new Error(`${this.exited} while waiting for *stopped`));
    });
  }

  /** Spawns gdb the way the adapter does (mi3, no init files, quiet). */
  static spawn(record = false): RawGdb {
    const proc = spawnTracked('gdb', ['-nx', '--interpreter=mi3', '-q']);
    return new RawGdb(proc, record);
  }

  /** One command; resolves with its result record (^error rejects). */
  send(command: string): Promise<MiDone> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const token = this.nextToken++;
    const p = new Promise<MiDone>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`${command}: no answer from gdb within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.pending.set(token, { resolve, reject, command, timer });
    });
    this.proc.stdin?.write(`${token}${command}\n`);
    return p;
  }

  /** Like send, but an ^error is an answer too (for commands that may fail, e.g. absent crash symbols). */
  sendSettled(command: string): Promise<MiDone | Error> {
    return this.send(command).catch((e: Error) => e);
  }

  /** Several commands in one write; resolves when all are answered. */
  sendAll(commands: string[]): Promise<MiDone[]> {
    return Promise.all(commands.map((c) => this.send(c)));
  }

  /** Resolves at the next *stopped; register before resuming. */
  nextStop(): Promise<MiTuple> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const p = new Promise<MiTuple>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stopWaiters = this.stopWaiters.filter((w) => w !== waiter);
        reject(new Error(`no *stopped within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      const waiter = {
        resolve: (r: MiTuple) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.stopWaiters.push(waiter);
    });
    // A waiter abandoned because the resuming command failed must not become an unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  async dispose(): Promise<void> {
    await killTree(this.proc);
  }

  private onRecord(rec: MiRecord): void {
    if (rec.kind === 'result' && rec.token !== undefined) {
      const p = this.pending.get(rec.token);
      if (!p) return;
      this.pending.delete(rec.token);
      clearTimeout(p.timer);
      if (rec.resultClass === 'error') {
        const msg = typeof rec.results.msg === 'string' ? rec.results.msg : 'error';
        p.reject(new Error(`${p.command}: ${msg}`));
      } else {
        p.resolve({ resultClass: rec.resultClass, results: rec.results });
      }
    } else if (rec.kind === 'exec' && rec.asyncClass === 'stopped') {
      const waiters = this.stopWaiters;
      this.stopWaiters = [];
      for (const w of waiters) w.resolve(rec.results);
    }
  }
}
