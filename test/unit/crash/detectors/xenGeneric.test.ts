import assert from 'node:assert/strict';
import { XenDetector } from '../../../../src/crash/detectors/xen';
import { GenericDetector } from '../../../../src/crash/detectors/generic';
import type { DetectedCrash, Detector, Emit } from '../../../../src/crash/detectors/types';

function run(make: (emit: Emit) => Detector, lines: string[]): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = make((c) => out.push(c));
  lines.forEach((l, i) => d.feed(l, i + 1));
  d.flush();
  return out;
}
const xen = (emit: Emit) => new XenDetector(emit);
const generic = (emit: Emit) => new GenericDetector(emit);

describe('XenDetector (Mini-OS)', () => {
  it('GPF, unhandled traps, BUG and ASSERT', () => {
    const out = run(xen, [
      'GPF rip: 4a3b, error_code=0',
      'Do_exit called!',
      'FATAL:  Unhandled Trap 6 (invalid opcode), error code=0x0',
      'BUG at mm.c:123',
      'ASSERTION FAILED: p != NULL at sched.c:88.',
    ]);
    assert.deepEqual(out.map((c) => c.report.kind), ['general-protection', 'invalid-opcode', 'panic', 'assertion']);
    assert.deepEqual(out[0].report.frames, [{ address: '0x4a3b' }]);
    assert.deepEqual(out[2].report.source, { file: 'mm.c', line: 123 });
    assert.deepEqual(out[3].report.source, { file: 'sched.c', line: 88 });
  });
});

describe('GenericDetector', () => {
  it('Xen’s triple fault line and a QMP GUEST_PANICKED event', () => {
    const out = run(generic, ['d1v0 Triple fault - invoking HVM shutdown action 1', '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "GUEST_PANICKED", "data": {"action": "pause"}}']);
    assert.deepEqual(out.map((c) => c.report.kind), ['trap', 'panic']);
    assert.deepEqual(out[0].report.frames, []);
  });

  it('a 32-bit QEMU dump gives eip', () => {
    const [c] = run(generic, ['Triple fault', 'EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000663', 'EIP=0010ff00 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0', 'next']);
    assert.equal(c.report.registers.eip, '0x10ff00');
    assert.equal(c.report.registers.eflags, '0x2');
    assert.deepEqual(c.report.frames, [{ address: '0x10ff00' }]);
  });
});
