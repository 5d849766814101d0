import assert from 'node:assert/strict';
import { OcamlDetector } from '../../../../src/crash/detectors/ocaml';
import type { DetectedCrash } from '../../../../src/crash/detectors/types';

function run(lines: string[]): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = new OcamlDetector((c) => out.push(c));
  lines.forEach((l, i) => d.feed(l, i + 1));
  d.flush();
  return out;
}

describe('OcamlDetector', () => {
  it('reads both backtrace formats, (inlined) markers and `lines N-M`', () => {
    const [c] = run([
      'Fatal error: exception Not_found',
      'Raised at file "hashtbl.ml", line 541, characters 13-28',
      'Raised by primitive operation at Unikernel.f in file "unikernel.ml" (inlined), lines 12-14, characters 2-30',
      'Called from unknown location',
      'Re-raised at Lwt.poll in file "src/core/lwt.ml", line 3126, characters 20-29',
    ]);
    assert.deepEqual(c.report.frames, [
      { address: '', file: 'hashtbl.ml', line: 541 },
      { address: '', function: 'Unikernel.f', file: 'unikernel.ml', line: 12 },
      { address: '', function: 'Lwt.poll', file: 'src/core/lwt.ml', line: 3126 },
    ]);
  });

  it('ends the report at the first line that is not part of it', () => {
    const out = run(['Fatal error: exception Exit', 'Raised at file "a.ml", line 1, characters 0-1', 'Solo5: solo5_exit(2) called', 'Raised at file "b.ml", line 2, characters 0-1']);
    assert.equal(out.length, 1);
    assert.equal(out[0].report.frames.length, 1);
  });

  it('exceptions without a backtrace, and the kinds', () => {
    const out = run([
      'Fatal error: exception Stack_overflow',
      '(Program not linked with -g, cannot print stack backtrace)',
      'Fatal error: exception Out_of_memory',
      'Fatal error: exception Assert_failure("unikernel.ml", 31, 4)',
      'Fatal error: out of memory.',
      'Fatal error: allocation failure during minor GC',
    ]);
    assert.deepEqual(out.map((c) => c.report.kind), ['exception', 'out-of-memory', 'assertion', 'out-of-memory', 'panic']);
    assert.deepEqual(out[2].report.source, { file: 'unikernel.ml', line: 31 });
  });

  it('takes continuation lines only while brackets or a string are open', () => {
    const out = run([
      'Fatal error: exception Tcpip.Error("first line',
      'second line (with a paren) and a \\" quote',
      'third")',
      'not part of it',
    ]);
    assert.equal(out.length, 1);
    assert.equal(out[0].report.message, 'Tcpip.Error("first line\nsecond line (with a paren) and a \\" quote\nthird")');
  });

  it('bounds a message that never closes', () => {
    const lines = ['Fatal error: exception E("'];
    for (let i = 0; i < 5000; i++) lines.push('x'.repeat(100));
    const out = run(lines);
    assert.ok(out[0].report.message.length <= 8 * 1024 + 200);
  });
});
