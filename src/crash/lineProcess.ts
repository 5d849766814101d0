/**
 * A long-lived helper process spoken to in lines: one request at a time, each
 * answered by lines on stdout, each with a deadline. Keeps one process per
 * image instead of one per address.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { LineSplitter } from './lineSplitter';

/** Reads a request's answer line by line; `take` returns true once the answer is complete. */
export interface AnswerReader<T> {
  take(line: string): boolean;
  result(): T;
}

interface Active {
  reader: AnswerReader<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class LineProcess {
  private child?: ChildProcessWithoutNullStreams;
  private active?: Active;
  private queue: Promise<unknown> = Promise.resolve();
  private stderrTail = '';
  private exited?: string;
  private readonly splitter = new LineSplitter((l) => this.onLine(l.text));

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    private readonly label: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  /** Sends `input` and resolves with what `reader` made of the answer; requests run one after another. */
  request<T>(input: string, reader: AnswerReader<T>, timeoutMs: number): Promise<T> {
    const run = () => this.run(input, reader, timeoutMs);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  dispose(): void {
    this.exited ??= 'it was disposed';
    this.fail(new Error(`${this.label} was disposed`));
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private run<T>(input: string, reader: AnswerReader<T>, timeoutMs: number): Promise<T> {
    if (this.exited !== undefined) return Promise.reject(new Error(`${this.label} is not running: ${this.exited}`));
    this.start();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`${this.label} did not answer within ${timeoutMs} ms`));
        // Its output can no longer be matched to requests: end it.
        this.exited = 'it timed out';
        this.child?.kill('SIGKILL');
      }, timeoutMs);
      this.active = { reader, resolve: resolve as (v: unknown) => void, reject, timer };
      this.child?.stdin.write(input);
    });
  }

  private start(): void {
    if (this.child) return;
    const child = spawn(this.command, [...this.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    // A dead pipe shows up as an exit below; the write error itself says less.
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      this.exited = `it could not be started (${err.message})`;
      this.fail(new Error(`${this.label} could not be started: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const detail = this.stderrTail.trim().split('\n').pop();
      this.exited ??= `it ${how}`;
      this.fail(new Error(`${this.label} ${how}${detail ? `: ${detail}` : ''}`));
    });
  }

  private onLine(line: string): void {
    const active = this.active;
    if (!active) return; // leftovers of a finished answer
    let done: boolean;
    try {
      done = active.reader.take(line);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!done) return;
    this.active = undefined;
    clearTimeout(active.timer);
    active.resolve(active.reader.result());
  }

  private fail(error: Error): void {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    clearTimeout(active.timer);
    active.reject(error);
  }
}
