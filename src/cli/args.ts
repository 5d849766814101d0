/**
 * Command-line parsing for `unikernel-trace`. Hand-written: three flags do not need a library.
 */

export type Command =
  | { name: 'help' }
  | { name: 'version' }
  | { name: 'analyze'; symbols?: string; json: boolean; color?: boolean; input: string };

export class UsageError extends Error {}

/** `input` is a path, or `-` for standard input. */
export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError('no command given; try `unikernel-trace --help`');
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') return { name: 'help' };
  if (first === '--version' || first === '-V' || first === 'version') return { name: 'version' };
  if (first !== 'analyze') {
    throw new UsageError(first.startsWith('-') ? `unknown option ${first}; try \`unikernel-trace --help\`` : `unknown command ${first}; try \`unikernel-trace --help\``);
  }
  let symbols: string | undefined;
  let json = false;
  let color: boolean | undefined;
  const inputs: string[] = [];
  let onlyFiles = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (onlyFiles || arg === '-' || !arg.startsWith('-')) {
      inputs.push(arg);
    } else if (arg === '--') {
      onlyFiles = true;
    } else if (arg === '--help' || arg === '-h') {
      return { name: 'help' };
    } else if (arg === '--json') {
      json = true;
    } else if (arg === '--color') {
      color = true;
    } else if (arg === '--no-color') {
      color = false;
    } else if (arg === '--symbols' || arg === '-s') {
      const value = rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${arg} needs the path of an ELF image`);
      symbols = value;
    } else if (arg.startsWith('--symbols=')) {
      symbols = arg.slice('--symbols='.length);
      if (symbols === '') throw new UsageError('--symbols needs the path of an ELF image');
    } else {
      throw new UsageError(`unknown option ${arg}; try \`unikernel-trace --help\``);
    }
  }
  if (inputs.length > 1) throw new UsageError('analyze takes one log file (or - for standard input)');
  return { name: 'analyze', symbols, json, color, input: inputs[0] ?? '-' };
}

export const USAGE = `Usage: unikernel-trace analyze [--symbols ELF] [--json] [LOGFILE|-]
       unikernel-trace --help | --version

Finds the crashes in a unikernel's serial console log (Solo5/MirageOS and its
tenders, OCaml, Rumprun, Unikraft, IncludeOS, Mini-OS/Xen, OSv, Nanos, kernel
panics, QEMU/KVM internal errors, triple faults and pvpanic) and prints each one
with its kind, message, registers and backtrace. Kinds are the same on every
platform: page-fault, general-protection, invalid-opcode, divide-error,
breakpoint, double-fault, trap, panic, abort, assertion, stack-smash, exception,
out-of-memory, emulation-failure, init-failure, exit.

Arguments:
  LOGFILE            the console log; - or nothing reads standard input

Options:
  -s, --symbols ELF  symbolize addresses with this image's DWARF
                     (the ELF with debug information, e.g. the .dbg file)
      --json         print a JSON array of crash reports ([] when none):
                     {platform, kind, message, line, registers, frames:[{address, function?, file?, line?}]}
      --color        colour the report even when stdout is not a terminal
      --no-color     never colour the report (so does NO_COLOR=1)
  -h, --help         show this help
  -V, --version      show the version

Exit status:
  0  the log was read and holds no crash
  1  the log holds at least one crash
  2  usage error, unreadable log, or unusable --symbols image

Example:
  ssh host cat console.log | unikernel-trace analyze --symbols app.dbg
`;
