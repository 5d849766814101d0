/**
 * The standalone debug adapter: DAP over stdio, or over TCP with --server=PORT.
 * With --reaper it is instead the watcher that kills our children if the adapter dies.
 */
import { createServer } from 'node:net';
import { Reaper, runReaper } from './reaper';
import { UnikernelDebugSession } from './session';

function serve(portText: string): void {
  const port = Number.parseInt(portText, 10);
  if (!/^\d+$/.test(portText) || port > 65535) {
    process.stderr.write(`--server needs a port number from 0 to 65535, not "${portText}".\n`);
    process.exit(2);
  }
  const server = createServer((socket) => {
    const session = new UnikernelDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  // Loopback only: a debug adapter drives processes and must not be reachable from elsewhere.
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    if (addr && typeof addr === 'object') process.stderr.write(`unikernel debug adapter listening on 127.0.0.1:${addr.port}\n`);
  });
}

if (process.argv.includes('--reaper')) {
  runReaper();
} else {
  // Killed politely: take QEMU and gdb along before going (SIGKILL is the reaper's job).
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      Reaper.killAllNow();
      process.exit(code);
    });
  }
  // A stray rejected promise (a gdb command that failed while nobody was waiting for it) is a bug to
  // report, not a reason to drop the user's session and leave VS Code with a dead adapter.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`unikernel debug adapter: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
  });
  const serverArg = process.argv.find((a) => a.startsWith('--server='));
  if (serverArg) serve(serverArg.slice('--server='.length));
  else UnikernelDebugSession.run(UnikernelDebugSession);
}
