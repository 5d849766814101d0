// The real MirageOS image's memory at two stops, as gdb printed it (fixtures/hello-crash.txt,
// captured by fixtures/hello-crash.gdb; fixtures/README.md says how).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rangePredicate } from '../../../src/ocaml/heap';
import { FakeMemory, type FakeSymbol } from './fakeMemory';

const DIR = join(__dirname, 'fixtures');

export interface Stop {
  registers: Record<string, bigint>;
  memory: FakeMemory;
}

/** Parses gdb `x/Ngx` lines (`0xADDR <sym+off>:\t0xWORD\t0xWORD`) and `info registers` lines. */
function parseSection(text: string, into: FakeMemory, registers: Record<string, bigint>): void {
  for (const line of text.split('\n')) {
    const dump = /^(0x[0-9a-f]+)(?:\s+<[^>]*>)?:\s+((?:0x[0-9a-f]+\s*)+)$/.exec(line);
    if (dump) {
      const addr = BigInt(dump[1]);
      dump[2].trim().split(/\s+/).forEach((w, i) => {
        const at = addr + BigInt(i) * 8n;
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(BigInt(w));
        if (at % 8n === 0n) into.setWord(at, BigInt(w));
        else into.setBytes(at, b);
      });
      continue;
    }
    const reg = /^([a-z0-9]+)\s+(0x[0-9a-f]+)\s/.exec(line);
    if (reg) registers[reg[1]] = BigInt(reg[2]);
  }
}

function sections(): Map<string, string> {
  const text = readFileSync(join(DIR, 'hello-crash.txt'), 'utf8');
  const out = new Map<string, string>();
  const parts = text.split(/^=== /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    out.set(p.slice(0, nl).trim(), p.slice(nl + 1));
  }
  return out;
}

export function textSymbols(): FakeSymbol[] {
  const out: FakeSymbol[] = [];
  for (const line of readFileSync(join(DIR, 'hello-text-symbols.txt'), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{16})(?: ([0-9a-f]{16}))? [Tt] (\S+)$/.exec(line);
    if (m) out.push({ address: BigInt(`0x${m[1]}`), size: m[2] ? BigInt(`0x${m[2]}`) : undefined, name: m[3] });
  }
  return out;
}

export function domainFieldSymbols(): [string, bigint][] {
  return readFileSync(join(DIR, 'hello-domain-fields.txt'), 'utf8')
    .split('\n')
    .map((l) => /^([0-9a-f]{16}) a (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[2], BigInt(`0x${m[1]}`)]);
}

/** Caught at caml_raise_exn, `raise (Failure "deliberate")` in the innermost Hello.depth. */
export function raiseStop(): Stop {
  const s = sections();
  const memory = new FakeMemory();
  memory.addSymbols(textSymbols());
  const registers: Record<string, bigint> = {};
  parseSection(s.get('RAISE registers') ?? '', memory, registers);
  parseSection(s.get('RAISE memory') ?? '', memory, registers);
  return { registers, memory };
}

/**
 * The first instruction of the innermost Hello.depth call. Its own dumps (module block, the
 * counter ref) lie over the raise stop's static data, which does not change between the two.
 */
export function entryStop(): Stop {
  const s = sections();
  const { memory } = raiseStop();
  const registers: Record<string, bigint> = {};
  parseSection(s.get('ENTRY registers') ?? '', memory, registers);
  parseSection(s.get('ENTRY memory') ?? '', memory, registers);
  return { registers, memory };
}

/** The `bt` gdb printed at the raise: function names, innermost first. */
export function raiseBacktrace(): string[] {
  return (sections().get('RAISE backtrace') ?? '')
    .split('\n')
    .map((l) => /^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

export function handlerInfoSymbol(): string {
  return (sections().get('RAISE handler') ?? '').split('\n')[0].trim();
}

/** Solo5's memory map for this image: .data, then .bss, the heap and the stack up to 128 MiB. */
export const isValidAddress = rangePredicate([
  { start: 0x152000n, end: 0x15f9f8n },
  { start: 0x160000n, end: 0x8000000n },
]);

/** camlHello__data_begin … camlHello__data_end. */
export const HELLO_DATA = { start: 0x15ba78n, end: 0x15bc08n };

/** Addresses from `nm` of the image. */
export const SYM = {
  camlHello: 0x15bae8n,
  camlStdlib: 0x15d838n,
  Caml_state: 0x16ebe0n,
  caml_exn_Failure: 0x15b088n,
  caml_exn_Not_found: 0x15b150n,
  camlHello__greet_84: 0x1060c0n,
  camlHello__depth_88: 0x106100n,
  camlHello__bump_counter_92: 0x106180n,
  camlHello__main_96: 0x1061c0n,
  caml_start_program: 0x12294cn,
} as const;

/** The predefined exception constructors (caml_exn_*), from `nm`. */
export const PREDEFINED: [string, bigint][] = [
  ['Out_of_memory', 0x15b028n],
  ['Sys_error', 0x15b058n],
  ['Failure', 0x15b088n],
  ['Invalid_argument', 0x15b0b0n],
  ['End_of_file', 0x15b0e8n],
  ['Division_by_zero', 0x15b118n],
  ['Not_found', 0x15b150n],
  ['Match_failure', 0x15b180n],
  ['Stack_overflow', 0x15b1b0n],
  ['Sys_blocked_io', 0x15b1e0n],
  ['Assert_failure', 0x15b210n],
  ['Undefined_recursive_module', 0x15b240n],
];
