/**
 * `unikernel-trace` without the process around it: arguments and streams in,
 * exit status out, so tests can run it in-process.
 */
import { analyze, EXIT_ERROR, InputError, type Io } from './analyze';
import { parseArgs, USAGE, UsageError } from './args';
import { readVersion } from './version';

export type { Io } from './analyze';

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  try {
    const command = parseArgs(argv);
    switch (command.name) {
      case 'help':
        io.stdout.write(USAGE);
        return 0;
      case 'version':
        io.stdout.write(`unikernel-trace ${readVersion()}\n`);
        return 0;
      case 'analyze':
        if (command.input === '-' && io.stdin.isTTY && argv.indexOf('-') < 0) {
          throw new UsageError('no log given: pass LOGFILE, or pipe the log to standard input');
        }
        return await analyze(command, io);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof InputError) {
      io.stderr.write(`unikernel-trace: ${err.message}\n`);
    } else {
      // Anything else is our bug; still one line, never a stack trace.
      io.stderr.write(`unikernel-trace: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return EXIT_ERROR;
  }
}

function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
