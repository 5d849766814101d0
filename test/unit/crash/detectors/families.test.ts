// The shapes of issue 17 that the real corpus does not hold (no public log of
// them was found), and the generic fallback's negatives.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeLog } from '../../../../src/crash/collector';
import { Symbolizer, symbolizeReport } from '../../../../src/crash/symbolizer';
import { summary } from '../helpers';

const REAL_UNIKRAFT = join(__dirname, '../../../../../shared/real-images/unikraft/helloworld_qemu-x86_64.dbg');

describe('Unikraft: UK_CRASH, init failures, the 0.20 crash screen', () => {
  it('a CRIT message then `Crashing` (with or without the log prefix) is one panic at the CRIT line', () => {
    for (const crashing of ['CRIT: [libkvmplat] <shutdown.c @ 40> Crashing', 'Crashing']) {
      const reports = analyzeLog(['Powered by', 'Hello world!', '[    0.1] CRIT: [appx] <main.c @ 20> inconsistent state: 3', crashing].join('\n'));
      assert.deepEqual(summary(reports), [{ platform: 'unikraft', kind: 'panic', line: 3 }], crashing);
      assert.equal(reports[0].message, 'inconsistent state: 3');
      assert.deepEqual(reports[0].source, { file: 'main.c', line: 20 });
    }
  });

  it('`Init function at 0x… returned error -95` is an init failure naming the initialiser, headed by its cause', () => {
    const [alone] = analyzeLog('ERR:  [libukboot] <boot.c @  92> Init function at 0x10a4f0 returned error -95\n');
    assert.equal(alone.kind, 'init-failure');
    assert.match(alone.message, /returned error -95 \(EOPNOTSUPP\)/);
    assert.deepEqual(alone.frames, [{ address: '0x10a4f0' }]);
    const [caused, ...rest] = analyzeLog([
      'ERR:  [libvfscore] <rootfs.c @ 85> Failed to mount /: -95',
      'ERR:  [libukboot] <boot.c @ 92> Init function at 0x10a4f0 returned error -95',
    ].join('\n'));
    assert.equal(rest.length, 0);
    assert.equal(caused.line, 1);
    assert.match(caused.message, /^Failed to mount \/: -95 \(init function at 0x10a4f0 returned error -95/);
  });

  it('the 0.20 crash screen: registers with segments', () => {
    const [r] = analyzeLog([
      'CRIT: Unikraft Crash - Kiviuq (0.20.0~667ac92)',
      'CRIT: Registers:',
      'CRIT: rip: 0008:000000100d84322a',
      'CRIT: rsp: 0010:00000010001827f0 eflags: 00010202',
      'CRIT: Crashing',
    ].join('\n'));
    assert.equal(r.platform, 'unikraft');
    assert.equal(r.registers.rip, '0x100d84322a');
    assert.equal(r.registers.rsp, '0x10001827f0');
    assert.deepEqual(r.frames.map((f) => f.address), ['0x100d84322a']);
  });

  it('only rip/rsp and a stack hex dump: the code-like words of the dump become caller frames', () => {
    const [r] = analyzeLog([
      'CRIT: [libkvmplat] <trace.c @ 41> RIP: 0000000000104a3b CS: 0008',
      'CRIT: [libkvmplat] <trace.c @ 42> RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246',
      // 0x1ffe90 is a saved frame pointer (stack), 0x104a8f and 0x10612c return addresses, 0x2a a number.
      'CRIT: [libkvmplat] <trace.c @ 54> 001ffe70  90 fe 1f 00 00 00 00 00  8f 4a 10 00 00 00 00 00  |..........J.....|',
      'CRIT: [libkvmplat] <trace.c @ 54> 001ffe80  2a 00 00 00 00 00 00 00  2c 61 10 00 00 00 00 00  |*.......,a......|',
      'CRIT: [libkvmplat] <traps.c @ 113> Crashing',
    ].join('\n'));
    assert.deepEqual(r.frames, [
      { address: '0x104a3b' },
      { address: '0x104a8f', returnAddress: true, fromStackDump: true },
      { address: '0x10612c', returnAddress: true, fromStackDump: true },
    ]);
  });

  it('a stack walk, when printed, wins over the dump', () => {
    const [r] = analyzeLog([
      'CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0',
      'RIP: 0000000000104a3b CS: 0008',
      'RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246',
      'base is 0x1ffe90 caller is 0x10612c',
      '001ffe70  8f 4a 10 00 00 00 00 00  |.J......|',
      'Crashing',
    ].join('\n'));
    assert.deepEqual(r.frames.map((f) => f.address), ['0x104a3b', '0x10612c']);
  });

  it('with the image, dump words outside its code are dropped', async function () {
    if (!existsSync(REAL_UNIKRAFT)) this.skip();
    const [r] = analyzeLog([
      'CRIT: [libkvmplat] <trace.c @ 41> RIP: 0000000000104a3b CS: 0008',
      'CRIT: [libkvmplat] <trace.c @ 42> RSP: 00000000001ffe70 SS: 0010 EFLAGS: 00010246',
      // 0x12f000 is near rip but in .rodata, not code.
      'CRIT: [libkvmplat] <trace.c @ 54> 001ffe70  8f 4a 10 00 00 00 00 00  00 f0 12 00 00 00 00 00  |.J..............|',
      'CRIT: [libkvmplat] <traps.c @ 113> Crashing',
    ].join('\n'));
    assert.deepEqual(r.frames.map((f) => f.address), ['0x104a3b', '0x104a8f', '0x12f000']);
    let symbolizer: Symbolizer;
    try {
      symbolizer = await Symbolizer.open(REAL_UNIKRAFT);
    } catch {
      this.skip();
    }
    try {
      const s = await symbolizeReport(r, symbolizer);
      assert.deepEqual(s.frames.map((f) => f.address), ['0x104a3b', '0x104a8f']);
    } finally {
      symbolizer.dispose();
    }
  });
});

describe('Rumprun: abort, cr2, bare traps', () => {
  it('`_lwpabort() called` then `=== ERROR: _exit(1) called ===`: the abort is the crash, the exit its consequence', () => {
    const reports = analyzeLog(['rump kernel bare metal bootstrap', '=== calling "app.bin" main() ===', '_lwpabort() called', '=== ERROR: _exit(1) called ===', 'halted'].join('\n'));
    assert.deepEqual(summary(reports), [{ platform: 'rumprun', kind: 'abort', line: 3 }]);
  });

  it('FATAL TRAP: the value in parentheses is cr2', () => {
    const [r] = analyzeLog('rump kernel bare metal bootstrap\nFATAL TRAP: page fault at 0x110cc7 (0xdeadbeef)\n');
    assert.deepEqual(r.registers, { rip: '0x110cc7', cr2: '0xdeadbeef' });
    assert.match(r.message, /accessing 0xdeadbeef at rip 0x110cc7/);
  });

  it('a repeating `trap: #UD` is one crash; another trap after it is another', () => {
    const reports = analyzeLog(['rump kernel bare metal bootstrap', 'trap: #UD', 'trap: #UD', 'trap: #UD', 'trap: #GP'].join('\n'));
    assert.deepEqual(summary(reports), [
      { platform: 'rumprun', kind: 'invalid-opcode', line: 2 },
      { platform: 'rumprun', kind: 'general-protection', line: 5 },
    ]);
  });

  it('a line that merely ends in `at 0x… (0x…)` is not a trap', () => {
    assert.deepEqual(analyzeLog('mapped buffer at 0x1000 (0x20)\nlistening at 0x7f (0x1)\n'), []);
  });
});

describe('MirageOS unix target behind a column', () => {
  it('`name | …` and `name<blanks>…` columns', () => {
    for (const column of ['hello | ', 'www          ']) {
      const log = ['Fatal error: exception Failure("boom")', 'Raised at Stdlib.failwith in file "stdlib.ml", line 29, characters 17-33', 'Called from Unikernel.start in file "unikernel.ml", line 10, characters 2-8']
        .map((l) => column + l)
        .join('\n');
      const [r, ...rest] = analyzeLog(log);
      assert.equal(rest.length, 0, column);
      assert.equal(r.kind, 'exception');
      assert.equal(r.message, 'Failure("boom")');
      assert.deepEqual(r.frames.map((f) => `${f.file}:${f.line}`), ['stdlib.ml:29', 'unikernel.ml:10']);
    }
  });
});

describe('tenders and QEMU/KVM', () => {
  it('an exit status of 128+signal alone is reported; after the signal line it is not', () => {
    assert.deepEqual(summary(analyzeLog('Solo5: Memory map: 512 MB addressable:\nguest exited with code 134\n')), [{ platform: 'solo5', kind: 'abort', line: 2 }]);
    assert.deepEqual(summary(analyzeLog('Illegal instruction (core dumped)\nexit status 132\n')), [{ platform: 'generic', kind: 'invalid-opcode', line: 1 }]);
  });

  it('a KVM internal error other than an emulation failure is a trap', () => {
    const [r] = analyzeLog('KVM internal error. Suberror: 3\nRAX=0000000000000000 RBX=0000000000000000\nRIP=0000000000101000 RFL=00000002\n');
    assert.equal(r.kind, 'trap');
    assert.match(r.message, /suberror 3 at rip 0x101000/);
  });
});

describe('the generic fallback invents nothing', () => {
  it('help texts, boot messages with "error", timestamps and colours give []', () => {
    const log = [
      '[    0.000000] Linux version 6.1.0 (builder@ci) #1 SMP',
      '[    0.000000] Command line: console=ttyS0 panic=1 oops=panic',
      '\x1b[32m[  OK  ]\x1b[0m Reached target Basic System.',
      '  --panic-on-oops         panic when an oops happens (default: off)',
      '  -p, --panic TEXT        print TEXT in the panic banner',
      'usage: kernel [panic=N] [debug]',
      'Solo5: error: no network devices found (this is fine)',
      'ERR:  [libukallocbbuddy] <bbuddy.c @  489> 11000: Failed to add memory region 322000-323000: Not enough space',
      '2024-01-02T03:04:05Z boot: 0 errors, 0 warnings',
      'net: rx error counter reset',
      'Booting from ROM..',
      'INFO: panic handler installed at 0x104000',
      'stack trace printing enabled',
      'fault injection: off',
      'status: ready (code 0)',
    ].join('\n');
    assert.deepEqual(analyzeLog(log), []);
  });
});
