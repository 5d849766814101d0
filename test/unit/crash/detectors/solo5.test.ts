import assert from 'node:assert/strict';
import { Solo5Detector } from '../../../../src/crash/detectors/solo5';
import type { DetectedCrash } from '../../../../src/crash/detectors/types';

function run(lines: string[], flush = true): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = new Solo5Detector((c) => out.push(c));
  lines.forEach((l, i) => d.feed(l, i + 1));
  if (flush) d.flush();
  return out;
}

describe('Solo5Detector', () => {
  it('holds a trap until its ABORT, then emits one report', () => {
    const out: DetectedCrash[] = [];
    const d = new Solo5Detector((c) => out.push(c));
    d.feed('Solo5: trap: type=#PF ec=0x10 rip=0x0 rsp=0x1ffffe00 rflags=0x10002', 1);
    d.feed('Solo5: trap: cr2=0x0', 2);
    assert.equal(out.length, 0);
    assert.equal(d.pending, true);
    d.feed('Solo5: ABORT: cpu_x86_64.c:182: Fatal trap', 3);
    assert.equal(out.length, 1);
    assert.equal(d.pending, false);
    const r = out[0].report;
    assert.equal(r.kind, 'page-fault');
    assert.equal(r.line, 1);
    assert.match(r.message, /instruction fetch/);
    assert.deepEqual(r.frames, [{ address: '0x0' }]);
  });

  it('maps trap mnemonics to kinds', () => {
    const kinds = ['#GP', '#UD', '#DE', '#DF', '#SS', '#BP', '#AC', '#NMI', '#9'].map(
      (t) => run([`Solo5: trap: type=${t} ec=0x0 rip=0x1000 rsp=0x2000 rflags=0x2`])[0].report.kind,
    );
    assert.deepEqual(kinds, ['general-protection', 'invalid-opcode', 'divide-error', 'double-fault', 'trap', 'breakpoint', 'trap', 'trap', 'trap']);
  });

  it('a trap cut off before its ABORT is emitted at flush', () => {
    const out = run(['Solo5: trap: type=#GP ec=0x0 rip=0x1000 rsp=0x2000 rflags=0x2'], false);
    assert.equal(out.length, 0);
    const flushed = run(['Solo5: trap: type=#GP ec=0x0 rip=0x1000 rsp=0x2000 rflags=0x2']);
    assert.equal(flushed.length, 1);
  });

  it('a line that is not Solo5’s ends a pending trap', () => {
    const out = run(['Solo5: trap: type=#GP ec=0x0 rip=0x1000 rsp=0x2000 rflags=0x2', 'something else'], false);
    assert.equal(out.length, 1);
  });

  it('solo5_exit(0) is clean; non-zero exits and solo5_abort() are follow-ups', () => {
    assert.deepEqual(run(['Solo5: solo5_exit(0) called', 'Solo5: Halted']), []);
    const out = run(['Solo5: solo5_exit(255) called', 'Solo5: solo5_abort() called']);
    assert.deepEqual(out.map((c) => [c.report.kind, c.followUp]), [['exit', true], ['abort', true]]);
  });

  it('ABORT kinds: stack smashing, assertion, plain abort; a lone `Fatal trap` is a follow-up', () => {
    const out = run([
      'Solo5: ABORT: Stack corruption detected',
      "Solo5: ABORT: block.c:33: Assertion `len > 0' failed",
      'Solo5: ABORT: platform.c:88: out of pages',
      'Solo5: ABORT: cpu_x86_64.c:182: Fatal trap',
    ]);
    assert.deepEqual(out.map((c) => [c.report.kind, c.followUp]), [['stack-smash', false], ['assertion', false], ['abort', false], ['abort', true]]);
    assert.deepEqual(out[1].report.source, { file: 'block.c', line: 33 });
  });
});

describe('Solo5Detector, other architectures', () => {
  it('a trap line without type= is still a trap', () => {
    const [c] = run(['Solo5: trap: esr=0x96000045 far=0x0 elr=0x1002a0', 'Solo5: ABORT: cpu_aarch64.c:90: Fatal trap']);
    assert.equal(c.report.kind, 'trap');
    assert.equal(c.report.registers.elr, '0x1002a0');
  });
});
