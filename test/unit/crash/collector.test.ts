import assert from 'node:assert/strict';
import { analyzeLog, CrashCollector, splitLines } from '../../../src/crash/collector';
import type { CrashReport } from '../../../src/crash/report';

describe('CrashCollector', () => {
  it('emits crashes live through onCrash as soon as they are complete', () => {
    const seen: CrashReport[] = [];
    const c = new CrashCollector({ onCrash: (r) => seen.push(r) });
    c.feed('Solo5: trap: type=#GP ec=0x0 rip=0x1000 rsp=0x2000 rflags=0x2');
    assert.equal(seen.length, 0);
    assert.equal(c.pending, true);
    c.feed('Solo5: ABORT: cpu_x86_64.c:182: Fatal trap');
    assert.equal(seen.length, 1);
    assert.equal(c.pending, false);
    c.feed('Solo5: solo5_abort() called');
    c.feed('Solo5: Halted');
    c.flush();
    assert.equal(seen.length, 1);
    assert.equal(c.lineNo, 4);
  });

  it('a follow-up alone is a crash; after a crash within the window it is not', () => {
    assert.deepEqual(analyzeLog('Solo5: solo5_exit(2) called\n').map((r) => r.kind), ['exit']);
    const filler = Array.from({ length: 150 }, (_, i) => `log ${i}`).join('\n');
    const far = analyzeLog(`Fatal error: exception Exit\n${filler}\nSolo5: solo5_exit(2) called\n`);
    assert.deepEqual(far.map((r) => r.kind), ['exception', 'exit']);
    const near = analyzeLog('Fatal error: exception Exit\nlog\nSolo5: solo5_exit(2) called\n');
    assert.deepEqual(near.map((r) => r.kind), ['exception']);
  });

  it('a boot banner starts a new run: a follow-up after it is reported', () => {
    const reports = analyzeLog('Fatal error: exception Exit\nSolo5: Bindings version v0.8.0\nSolo5: solo5_exit(1) called\n');
    assert.deepEqual(reports.map((r) => [r.kind, r.line]), [['exception', 1], ['exit', 3]]);
  });

  it('a follow-up waits while another detector is still collecting the crash it follows', () => {
    // The Unikraft dump is still open when Solo5-style exit text arrives; it must not count alone.
    const seen: string[] = [];
    const c = new CrashCollector({ onCrash: (r) => seen.push(r.kind) });
    ['CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0', 'RIP: 0000000000104a3b CS: 0008', 'Solo5: solo5_abort() called', 'Crashing'].forEach((l) => c.feed(l));
    c.flush();
    assert.deepEqual(seen, ['general-protection']);
  });

  it('only runs the detectors asked for', () => {
    const c = new CrashCollector({ platforms: ['rumprun'] });
    c.feed('Solo5: ABORT: Stack corruption detected');
    c.feed('panic: x');
    c.flush();
    assert.deepEqual(c.reports.map((r) => r.platform), ['rumprun']);
  });

  it('keeps at most maxReports, still calling onCrash', () => {
    let calls = 0;
    const c = new CrashCollector({ maxReports: 3, onCrash: () => calls++ });
    for (let i = 0; i < 10; i++) c.feed(`panic: number ${i}`);
    c.flush(); // the last panic waits for its register and backtrace lines
    assert.equal(c.reports.length, 3);
    assert.equal(c.droppedReports, 7);
    assert.equal(calls, 10);
  });

  it('a throwing onCrash does not break collection', () => {
    const c = new CrashCollector({ onCrash: () => { throw new Error('consumer bug'); } });
    c.feed('panic: a');
    c.feed('panic: b');
    c.flush();
    assert.equal(c.reports.length, 2);
  });

  it('a bare panic is Rumprun’s after Rumprun’s banner and a generic kernel’s otherwise, never both', () => {
    const rumprun = analyzeLog('rump kernel bare metal bootstrap\npanic: kernel diagnostic assertion "x" failed: file "f.c", line 3\nPANIC: rumpuser panic\nhalted\n');
    assert.deepEqual(rumprun.map((r) => [r.platform, r.kind, r.line]), [['rumprun', 'assertion', 2]]);
    const generic = analyzeLog('toykern booting\nPANIC: out of frames\nhalted\n');
    assert.deepEqual(generic.map((r) => [r.platform, r.kind, r.message, r.line]), [['generic', 'panic', 'out of frames', 2]]);
    // A machine reset ends the Rumprun run: what boots next is unknown until its banner.
    const reset = analyzeLog('rump kernel bare metal bootstrap\nSeaBIOS (version 1.16.2)\npanic: boom\n');
    assert.deepEqual(reset.map((r) => [r.platform, r.line]), [['generic', 3]]);
    const otherShape = analyzeLog('rump kernel bare metal bootstrap\n*** PANIC: out of frames\n');
    assert.deepEqual(otherShape.map((r) => [r.platform, r.line]), [['generic', 2]]);
    const genericOnly = analyzeLog('rump kernel bare metal bootstrap\npanic: boom\n', { platforms: ['generic'] });
    assert.deepEqual(genericOnly.map((r) => [r.platform, r.line]), [['generic', 2]]);
  });

  it('a generic panic is reported live once a line that is not part of it arrives', () => {
    const seen: CrashReport[] = [];
    const c = new CrashCollector({ onCrash: (r) => seen.push(r) });
    ['*** PANIC: out of frames', 'REGS: rip=0x1012a4 rsp=0x7fff00', '#0 0x1012a4 (panic)'].forEach((l) => c.feed(l));
    assert.equal(seen.length, 0);
    assert.equal(c.pending, true);
    c.feed('System halted.');
    assert.deepEqual(seen.map((r) => [r.platform, r.kind, r.line, r.frames.length]), [['generic', 'panic', 1, 1]]);
    assert.equal(c.pending, false);
  });

  it('a generic kernel’s log without a crash gives []', () => {
    const log = ['SeaBIOS (version 1.16.2)', 'Booting from ROM..', 'toykern 0.3 booting (multiboot)', 'sched: panic_on_oops=1', 'selftest: #1 0x10 bytes ok', 'rip=0x1012a4 (boot stub)', 'toykern: shutting down'];
    assert.deepEqual(analyzeLog(log), []);
  });

  it('splitLines uses the reader’s rule', () => {
    assert.deepEqual([...splitLines('a\r\nb\rc\n\nd')], ['a', 'b', 'c', '', 'd']);
    assert.deepEqual([...splitLines('a\n')], ['a']);
  });

  it('accepts an iterable of lines', () => {
    assert.deepEqual(analyzeLog(['ok', 'panic: boom']).map((r) => r.line), [2]);
  });

  it('never throws on random bytes and keeps every report schema-shaped', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabet = ['Solo5: trap: type=#PF ', 'cr2=0x', 'RIP: ', 'base is 0x1 caller is 0x', 'Fatal error: exception (', '"', '\n', '\r', '\x1b[', '\x00', 'Crashing', 'CRIT: [a] <b @ 1> ', 'Triple fault', 'panic: ', '(', ')', 'ff', ' ', 'Raised at file "x", line 1', '> ', '[2019-03-01 10:00:00] '];
    for (let round = 0; round < 200; round++) {
      let text = '';
      for (let i = 0; i < 200; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const reports = analyzeLog(text);
      for (const r of reports) {
        assert.ok(r.line >= 1);
        for (const v of Object.values(r.registers)) assert.match(v, /^0x[0-9a-f]+$/);
      }
    }
  });

  it('stays linear on adversarial lines', () => {
    const nasty = [
      'FATAL TRAP: ' + ' '.repeat(60000) + 'x',
      'CRIT: [x] <' + ' '.repeat(60000),
      'Page fault at linear address ' + '0'.repeat(60000),
      '\x1b]' + 'a'.repeat(60000),
      'Fatal error: exception ' + '('.repeat(60000),
      'RIP: ' + 'a: '.repeat(20000),
      'RAX=' + '0'.repeat(60000),
      '> '.repeat(30000),
      'Solo5: trap: type=#PF ' + 'a=1 '.repeat(15000),
      '*'.repeat(60000),
      '*** PANIC: ' + '* '.repeat(30000) + 'x',
    ];
    for (const line of nasty) {
      const start = process.hrtime.bigint();
      analyzeLog(Array.from({ length: 20 }, () => line));
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 1000, `${JSON.stringify(line.slice(0, 20))}: ${ms} ms`);
    }
  });

  it('handles a large log in linear time', () => {
    const block = ['Solo5: Bindings version v0.8.0', 'hello', 'Solo5: trap: type=#PF ec=0x2 rip=0x105fe2 rsp=0x1fffff70 rflags=0x10206', 'Solo5: trap: cr2=0x0', 'Solo5: ABORT: cpu_x86_64.c:182: Fatal trap', 'Solo5: Halted'];
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) lines.push(...block);
    const start = Date.now();
    const reports = analyzeLog(lines, { maxReports: 100000 });
    assert.equal(reports.length, 20000);
    assert.ok(Date.now() - start < 5000);
  });
});
