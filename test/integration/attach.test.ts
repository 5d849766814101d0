/**
 * Attach to a GDB stub someone else started: the test starts QEMU itself, the adapter attaches,
 * and Disconnect leaves the guest running (it then runs to its own end).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, watch } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL, Session, assertNoLeftovers, marker, sessionProcesses } from './helpers';

interface Guest {
  proc: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

/** Starts the fixture paused with its stub on `gdbSpec`; resolves once QEMU listens there. */
async function startGuest(dir: string, gdbSpec: string, waitFor: string, cmdline = 'mode=normal', extra: string[] = []): Promise<Guest> {
  const log = join(dir, 'serial.log');
  const proc = spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
    '-kernel', KERNEL, '-append', cmdline,
    '-serial', `file:${log}`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-gdb', gdbSpec, '-S', ...extra,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  // The socket file appears when QEMU binds it; listen() follows at once.
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (!existsSync(waitFor)) return;
      const listening = readFileSync('/proc/net/unix', 'latin1')
        .split('\n')
        .some((l) => l.endsWith(` ${waitFor}`) && l.split(/\s+/)[3] === '00010000');
      if (!listening) {
        setImmediate(check);
        return;
      }
      w.close();
      resolve();
    };
    const w = watch(dir, check);
    check();
  });
  return { proc, exited, log };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('attach to a GDB stub started elsewhere', function () {
  let s: Session;
  let before: Map<number, string>;
  let dir: string;
  let guest: Guest | undefined;
  let daemonPid: number | undefined;

  beforeEach(async () => {
    before = sessionProcesses();
    dir = mkdtempSync(join(tmpdir(), 'attach-test-'));
    s = new Session();
    await s.start();
  });

  afterEach(async () => {
    await s.stop();
    if (guest && guest.proc.exitCode === null && guest.proc.signalCode === null) {
      guest.proc.kill('SIGKILL');
      await guest.exited;
    }
    guest = undefined;
    if (daemonPid) process.kill(daemonPid, 'SIGKILL');
    daemonPid = undefined;
    rmSync(dir, { recursive: true, force: true });
    assertNoLeftovers(before);
  });

  it('attaches over a Unix socket, hits a breakpoint, and disconnect leaves the guest running', async () => {
    const sock = join(dir, 'gdb.sock');
    guest = await startGuest(dir, `unix:${sock},server=on,wait=off`, sock);
    const bp = marker('compute');
    const stop = await s.startTo('attach', { target: sock, symbols: KERNEL }, [bp]);
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'compute');
    assert.equal(frames[0]?.line, bp.line);

    await s.dc.disconnectRequest({ terminateDebuggee: false });
    // Left running, the guest finishes its demo and leaves QEMU through isa-debug-exit by itself.
    const code = await guest.exited;
    assert.equal(code, 83);
    assert.match(readFileSync(guest.log, 'utf8'), /fixture: done/);
  });

  it('attaches over TCP on 127.0.0.1 and pauses a spinning guest', async () => {
    const port = await freePort();
    const pidfile = join(dir, 'qemu.pid');
    // -daemonize: QEMU's first process exits only once the stub listens, which is the readiness event.
    const starter = spawn('qemu-system-x86_64', [
      '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
      '-kernel', KERNEL, '-append', 'mode=spin', '-serial', 'none',
      '-gdb', `tcp:127.0.0.1:${port}`, '-S', '-daemonize', '-pidfile', pidfile,
    ], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => starter.on('exit', r)), 0);
    daemonPid = Number(readFileSync(pidfile, 'utf8').trim());

    const stop = await s.startTo('attach', { target: `127.0.0.1:${port}`, symbols: KERNEL }, [], ['spin_forever']);
    assert.equal(stop.body.reason, 'function breakpoint');
    await s.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await s.dc.continueRequest({ threadId: 1 });
    const paused = await s.resumeTo(() => s.dc.pauseRequest({ threadId: 1 }));
    assert.equal(paused.body.reason, 'pause');
    const f = await s.topFrames(paused.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'spin_forever');
    await s.dc.disconnectRequest({ terminateDebuggee: false });
    assert.doesNotThrow(() => process.kill(daemonPid!, 0), 'the guest still runs after disconnect');
  });

  it('follows the console of a guest started elsewhere, from a file or a socket', async () => {
    const sock = join(dir, 'gdb.sock');
    guest = await startGuest(dir, `unix:${sock},server=on,wait=off`, sock, 'mode=panic');
    const stop = await s.startTo('attach', { target: sock, symbols: KERNEL, console: guest.log }, [marker('compute')]);
    assert.equal(stop.body.reason, 'breakpoint');
    await s.waitForOutput(/fixture: boot ok/);
    // The crash collector reads it too: the panic stops the guest with its message.
    const crash = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(crash.body.reason, 'exception');
    await s.waitForOutput(/something bad: 7/);
  });

  it('with the guest\'s QMP socket, reads large ranges from QEMU (the same bytes gdb reads), and goes on without one that does not answer', async () => {
    const sock = join(dir, 'gdb.sock');
    const qmp = join(dir, 'qmp.sock');
    guest = await startGuest(dir, `unix:${sock},server=on,wait=off`, sock, 'mode=normal', ['-qmp', `unix:${qmp},server=on,wait=off`]);
    const trace = join(dir, 'mi.trace');
    await s.stop();
    s = new Session({ UNIKERNEL_DEBUG_MI_TRACE: trace });
    await s.start();
    await s.startTo('attach', { target: sock, symbols: KERNEL, qmp }, [marker('compute')]);
    const read = async (address: number, count: number): Promise<Buffer> => {
      const r = await s.dc.customRequest('readMemory', { memoryReference: `0x${address.toString(16)}`, count });
      return Buffer.from((r.body as { data: string }).data, 'base64');
    };
    const reads = (): number => (readFileSync(trace, 'utf8').match(/-data-read-memory-bytes/g) ?? []).length;
    const before = reads();
    const big = await read(0x100000, 1 << 20);
    assert.equal(big.length, 1 << 20);
    assert.equal(reads(), before, 'the 1 MiB read did not go through gdb');
    // The same range through gdb, 64 KiB at a time (below the size that goes to QEMU).
    const pieces: Buffer[] = [];
    for (let off = 0; off < 1 << 20; off += 64 << 10) pieces.push(await read(0x100000 + off, 64 << 10));
    assert.ok(reads() > before, 'the small reads went through gdb');
    assert.ok(Buffer.concat(pieces).equals(big), 'QEMU and gdb read the same bytes');
    await s.dc.disconnectRequest({ terminateDebuggee: true });
    await s.stop();

    // A QMP socket that does not answer: said once, and memory is read through gdb.
    s = new Session();
    await s.start();
    const out = s.waitForOutput(/QMP socket .*nobody\.sock did not answer .*large memory reads go through gdb\./);
    guest.proc.kill('SIGKILL');
    await guest.exited;
    guest = await startGuest(dir, `unix:${join(dir, 'gdb2.sock')},server=on,wait=off`, join(dir, 'gdb2.sock'));
    await s.startTo('attach', { target: join(dir, 'gdb2.sock'), symbols: KERNEL, qmp: join(dir, 'nobody.sock') }, [marker('compute')]);
    await out;
    assert.equal((await read(0x100000, 1 << 20)).length, 1 << 20);
  });

  it('says clearly when nothing listens at the target', async () => {
    const sock = join(dir, 'nobody.sock');
    await assert.rejects(s.dc.attachRequest({ target: sock } as never), /Nothing is listening at .*nobody\.sock/);
  });
});
