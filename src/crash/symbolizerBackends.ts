/**
 * The two symbolizers this works with and how to read their answers.
 *   llvm-symbolizer --output-style=JSON: one JSON line per address.
 *   addr2line -a -f -i -C: no end-of-answer marker, so every answer is opened by
 *   its address line (-a) and each batch ends with a sentinel address whose
 *   header closes the last real answer.
 */
import type { AnswerReader } from './lineProcess';
import type { SourceLocation } from './report';

export type BackendName = 'llvm-symbolizer' | 'addr2line';

/** One address's answer: innermost (possibly inlined) function first, then the functions it was inlined into. */
export type Resolution = SourceLocation[];

export interface Backend {
  readonly name: BackendName;
  args(elfPath: string): string[];
  /** Text to write for a batch of addresses (hex without 0x is fine for both). */
  input(addresses: readonly bigint[]): string;
  reader(count: number): AnswerReader<Resolution[]>;
}

function location(fn: string | undefined, file: string | undefined, line: number | undefined): SourceLocation {
  const loc: SourceLocation = {};
  if (fn && fn !== '??') loc.function = fn;
  if (file && file !== '??') loc.file = file;
  if (line !== undefined && Number.isFinite(line) && line > 0) loc.line = line;
  return loc;
}

const hex = (a: bigint): string => `0x${a.toString(16)}`;

export const llvmSymbolizer: Backend = {
  name: 'llvm-symbolizer',
  args: (elfPath) => ['--output-style=JSON', '--inlining', '--demangle', '--functions=linkage', `--obj=${elfPath}`],
  input: (addresses) => addresses.map((a) => `${hex(a)}\n`).join(''),
  reader(count) {
    const answers: Resolution[] = [];
    return {
      take(line) {
        const trimmed = line.trim();
        if (!trimmed.startsWith('{')) return false;
        answers.push(parseLlvmAnswer(trimmed));
        return answers.length >= count;
      },
      result: () => answers,
    };
  },
};

interface LlvmFrame {
  FunctionName?: unknown;
  FileName?: unknown;
  Line?: unknown;
}

function parseLlvmAnswer(json: string): Resolution {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const symbols = (parsed as { Symbol?: unknown }).Symbol;
  if (!Array.isArray(symbols)) return [];
  return symbols
    .map((s: LlvmFrame) =>
      location(
        typeof s.FunctionName === 'string' ? s.FunctionName : undefined,
        typeof s.FileName === 'string' ? s.FileName : undefined,
        typeof s.Line === 'number' ? s.Line : undefined,
      ),
    )
    .filter((l) => l.function !== undefined || l.file !== undefined);
}

/** Address the sentinel asks for; its answer is read and thrown away. */
const SENTINEL = 0n;
const HEADER = /^0x[0-9a-fA-F]+$/;
const FILE_LINE = /^(.*):(\d+|\?)(?: \(discriminator \d+\))?$/;

export const addr2line: Backend = {
  name: 'addr2line',
  args: (elfPath) => ['-a', '-f', '-i', '-C', '-e', elfPath],
  input: (addresses) => [...addresses, SENTINEL].map((a) => `${hex(a)}\n`).join(''),
  reader(count) {
    const answers: Resolution[] = [];
    let current: string[] | undefined; // lines of the answer being read
    let headers = 0;
    const close = () => {
      if (current) answers.push(parseAddr2lineAnswer(current));
      current = undefined;
    };
    return {
      take(line) {
        if (HEADER.test(line.trim())) {
          close();
          headers++;
          // The sentinel's header: every real answer is complete.
          if (headers > count) return true;
          current = [];
          return false;
        }
        // Lines before the first header belong to the previous batch's sentinel.
        current?.push(line);
        return false;
      },
      result: () => answers,
    };
  },
};

function parseAddr2lineAnswer(lines: string[]): Resolution {
  const out: Resolution = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const fn = lines[i].trim();
    const m = FILE_LINE.exec(lines[i + 1].trim());
    const loc = location(fn, m ? m[1] : undefined, m && m[2] !== '?' ? Number(m[2]) : undefined);
    if (loc.function !== undefined || loc.file !== undefined) out.push(loc);
  }
  return out;
}
