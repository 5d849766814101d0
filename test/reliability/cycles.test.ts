/**
 * 100 launch/terminate cycles on one adapter process (the way `--server` serves many sessions):
 * no processes, file descriptors, sockets or temporary directories pile up.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { ADAPTER, KERNEL, STOP_TIMEOUT, assertNoLeftovers, marker, sessionProcesses, RUN_ENV } from '../integration/helpers';

const CYCLES = Number(process.env.UNIKERNEL_DEBUG_CYCLES ?? 100);

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const privateDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('unikernel-debug-'));

describe(`${CYCLES} launch/terminate cycles on one adapter`, function () {
  let server: ChildProcess;
  let port: number;

  before(async () => {
    server = spawn('node', [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...RUN_ENV } });
    port = await new Promise<number>((resolve, reject) => {
      let err = '';
      server.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', () => reject(new Error(`the adapter server exited: ${err}`)));
    });
  });

  after(async () => {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
  });

  it('leaks nothing', async function () {
    this.timeout(CYCLES * 5_000 + 60_000);
    const processes = sessionProcesses();
    const dirs = privateDirs();
    const bp = marker('compute');
    let fdsAfterFirst = 0;
    for (let i = 0; i < CYCLES; i++) {
      const dc = new DebugClient('node', ADAPTER, 'unikernel');
      await dc.start(port);
      await dc.initializeRequest({ adapterID: 'unikernel', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      const init = dc.waitForEvent('initialized', STOP_TIMEOUT);
      await Promise.all([dc.launchRequest({ kernel: KERNEL } as never), init]);
      await dc.setBreakpointsRequest({ source: { path: bp.path }, breakpoints: [{ line: bp.line }] });
      const stopped = dc.waitForEvent('stopped', STOP_TIMEOUT);
      await dc.configurationDoneRequest();
      await stopped;
      const terminated = dc.waitForEvent('terminated', STOP_TIMEOUT);
      await dc.terminateRequest({});
      await terminated;
      await dc.disconnectRequest({});
      await dc.stop();
      // The first cycle opens what stays open for good (module caches, the listening socket).
      if (i === 0) fdsAfterFirst = fdCount(server.pid!);
    }
    assertNoLeftovers(processes);
    assert.deepEqual(privateDirs(), dirs, 'temporary directories left behind');
    const fds = fdCount(server.pid!);
    assert.ok(fds <= fdsAfterFirst + 2, `file descriptors grew from ${fdsAfterFirst} to ${fds}`);
  });
});
