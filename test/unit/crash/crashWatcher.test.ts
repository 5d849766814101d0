import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { readdirSync } from 'node:fs';
import { CrashWatcher, watchConsole } from '../../../src/crash/crashWatcher';
import { analyzeSample, SAMPLES } from './helpers';
import type { CrashReport } from '../../../src/crash/report';

describe('CrashWatcher (live console)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crash-watcher-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Unix socket like QEMU’s serial chardev, drains megabytes, tees, and reports the crash', async () => {
    const path = join(dir, 'serial.sock');
    const log = join(dir, 'console.log');
    const noise = `${'x'.repeat(1023)}\n`.repeat(4096); // 4 MiB: a stalled reader would block the writer
    const crash = 'Solo5: trap: type=#PF ec=0x2 rip=0x105fe2 rsp=0x1fffff70 rflags=0x10206\r\nSolo5: trap: cr2=0x0\r\nSolo5: ABORT: cpu_x86_64.c:182: Fatal trap\r\n';
    let guest: Socket | undefined;
    const server: Server = createServer((s) => {
      guest = s;
      s.write(noise);
      s.end(crash);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const reports: CrashReport[] = [];
    let lines = 0;
    const done = new Promise<void>((resolve) => {
      watchConsole(connect(path), { consoleLog: log, onLine: () => lines++, onCrash: (r) => reports.push(r), onEnd: resolve });
    });
    await done;
    server.close();
    guest?.destroy();
    assert.equal(lines, 4096 + 3);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].line, 4097);
    assert.equal(reports[0].kind, 'page-fault');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(readFileSync(log).length, noise.length + crash.length);
  });

  it('bytes in any chunking give the same reports as analyzeLog on the text', () => {
    for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.console.log'))) {
      const bytes = readFileSync(join(SAMPLES, file));
      const expected = analyzeSample(file.replace(/\.console\.log$/, ''));
      for (const size of [1, 2, 7, 64, bytes.length]) {
        const w = new CrashWatcher({ idleFlushMs: 0 });
        for (let i = 0; i < bytes.length; i += size) w.push(bytes.subarray(i, i + size));
        w.end();
        assert.deepEqual(w.reports(), expected, `${file} in chunks of ${size}`);
      }
    }
  });

  it('emits a pending crash once the console has been quiet for idleFlushMs', async () => {
    const stream = new PassThrough();
    const reports: CrashReport[] = [];
    const watcher = watchConsole(stream, { idleFlushMs: 30, onCrash: (r) => reports.push(r) });
    stream.write('CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0\n');
    stream.write('RIP: 0000000000104a3b CS: 0008\n');
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(reports.length, 0);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(reports.length, 1);
    assert.equal(reports[0].registers.rip, '0x104a3b');
    watcher.dispose();
  });
});
