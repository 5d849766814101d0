/**
 * `unikernel-trace analyze`: read a log, find crashes, symbolize, print.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CrashWatcher } from '../crash/crashWatcher';
import { Symbolizer, SymbolizerError, symbolizeReport } from '../crash/symbolizer';
import type { CrashReport } from '../crash/report';
import { COLORS, PLAIN, formatReports } from './format';

export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
}

export interface AnalyzeOptions {
  input: string;
  symbols?: string;
  json: boolean;
  color?: boolean;
}

/** An error meant for the user: one sentence, no stack trace; exit status 2. */
export class InputError extends Error {}

export const EXIT_CLEAN = 0;
export const EXIT_CRASH = 1;
export const EXIT_ERROR = 2;

export async function analyze(options: AnalyzeOptions, io: Io): Promise<number> {
  const fromStdin = options.input === '-';
  const name = fromStdin ? 'standard input' : options.input;
  // Open the image first: a wrong --symbols path should fail before a long log is read.
  let symbolizer: Symbolizer | undefined;
  if (options.symbols !== undefined) {
    try {
      symbolizer = await Symbolizer.open(options.symbols);
    } catch (err) {
      throw new InputError(err instanceof SymbolizerError ? err.message : `cannot use ${options.symbols}: ${(err as Error).message}`);
    }
  }
  try {
    const { reports, lines } = await collect(fromStdin ? io.stdin : await openLog(options.input));
    const final = symbolizer ? await symbolizeAll(reports, symbolizer, io) : reports;
    if (options.json) {
      io.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
    } else {
      io.stdout.write(formatReports(final, name, lines, useColor(options, io) ? COLORS : PLAIN));
    }
    return final.length > 0 ? EXIT_CRASH : EXIT_CLEAN;
  } finally {
    symbolizer?.dispose();
  }
}

async function openLog(path: string): Promise<Readable> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new InputError(`cannot read ${path}: it is a directory`);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  return createReadStream(path, { highWaterMark: 256 * 1024 });
}

async function collect(stream: Readable): Promise<{ reports: CrashReport[]; lines: number }> {
  const watcher = new CrashWatcher({ idleFlushMs: 0 });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer | string) => watcher.push(chunk));
    stream.once('end', resolve);
    stream.once('error', (err) => reject(new InputError(`cannot read the log: ${describeFsError(err)}`)));
  });
  watcher.end();
  return { reports: watcher.reports(), lines: watcher.reader.lines };
}

async function symbolizeAll(reports: CrashReport[], symbolizer: Symbolizer, io: Io): Promise<CrashReport[]> {
  const out: CrashReport[] = [];
  for (const report of reports) {
    try {
      out.push(await symbolizeReport(report, symbolizer));
    } catch (err) {
      // The trace without symbols is still worth printing.
      io.stderr.write(`unikernel-trace: warning: could not symbolize the crash at line ${report.line}: ${(err as Error).message}\n`);
      out.push(report);
    }
  }
  return out;
}

function useColor(options: AnalyzeOptions, io: Io): boolean {
  if (options.color !== undefined) return options.color;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.stdout.isTTY === true;
}

function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
