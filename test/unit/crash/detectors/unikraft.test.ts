import assert from 'node:assert/strict';
import { UnikraftDetector } from '../../../../src/crash/detectors/unikraft';
import type { DetectedCrash } from '../../../../src/crash/detectors/types';

function run(lines: string[], flush = true): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = new UnikraftDetector((c) => out.push(c));
  lines.forEach((l, i) => d.feed(l, i + 1));
  if (flush) d.flush();
  return out;
}

describe('UnikraftDetector', () => {
  it('collects the dump until `Crashing`', () => {
    const out = run([
      'CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 0 (divide error), error code=0x0',
      'RIP: 0008:0000000000106a10',
      'RSP: 0010:00000000001ffe00 EFLAGS: 00010202',
      '106a10: f7 f1 89 45 fc',
      'base is 0x1ffe20 caller is 0x106b00',
      'CRIT: [libkvmplat] <traps.c @ 107> Crashing',
    ], false);
    assert.equal(out.length, 1);
    const r = out[0].report;
    assert.equal(r.kind, 'divide-error');
    assert.equal(r.registers.rip, '0x106a10');
    assert.equal(r.registers.cs, '0x8');
    assert.equal(r.registers.rsp, '0x1ffe00');
    assert.equal(r.registers.ss, '0x10');
    assert.deepEqual(r.frames, [{ address: '0x106a10' }, { address: '0x106b00', returnAddress: true }]);
  });

  it('UK_CRASH: the CRIT message right before `Crashing` is the panic message', () => {
    const out = run(['CRIT: [libukalloc] <alloc.c @ 120> heap corrupted at 0x3f000', 'CRIT: [libkvmplat] <shutdown.c @ 40> Crashing']);
    assert.equal(out.length, 1);
    assert.equal(out[0].report.kind, 'panic');
    assert.equal(out[0].report.message, 'heap corrupted at 0x3f000');
    assert.equal(out[0].report.line, 1);
    assert.deepEqual(out[0].report.source, { file: 'alloc.c', line: 120 });
  });

  it('a CRIT line alone, a normal halt, and a bare `Crashing` in text are not crashes', () => {
    assert.deepEqual(run(['CRIT: [libvfscore] <main.c @ 10> could not mount', 'Info: [libkvmplat] <shutdown.c @ 35> Unikraft halted']), []);
    assert.deepEqual(run(['Crashing into the wall, said the app']), []);
  });

  it('unhandled page fault with address', () => {
    const [c] = run(['CRIT: [libkvmplat] <traps.c @ 120> Unhandled page fault vaddr=0x0, error code=0x2', 'Crashing']);
    assert.equal(c.report.kind, 'page-fault');
    assert.equal(c.report.registers.cr2, '0x0');
    assert.equal(c.report.registers.ec, '0x2');
  });
});
