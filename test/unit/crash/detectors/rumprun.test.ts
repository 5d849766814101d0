import assert from 'node:assert/strict';
import { RumprunDetector } from '../../../../src/crash/detectors/rumprun';
import type { DetectedCrash, LogContext } from '../../../../src/crash/detectors/types';

function run(lines: string[], context?: LogContext): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = new RumprunDetector((c) => out.push(c), context);
  lines.forEach((l, i) => d.feed(l, i + 1));
  d.flush();
  return out;
}

describe('RumprunDetector', () => {
  it('bmk fatal traps, both shapes', () => {
    const out = run(['FATAL TRAP: general protection at 0x10a3c1 (0x0)', 'FATAL pagefault at address 0x8 (rip 0x110cc7)', 'FATAL TRAP: invalid opcode at 0x1234']);
    assert.deepEqual(out.map((c) => c.report.kind), ['general-protection', 'page-fault', 'invalid-opcode']);
    assert.deepEqual(out[1].report.registers, { cr2: '0x8', rip: '0x110cc7' });
    assert.deepEqual(out[2].report.frames, [{ address: '0x1234' }]);
  });

  it('panics: NetBSD panic is the crash, `PANIC: rumpuser panic` its follow-up; other PANICs are crashes', () => {
    const out = run(['panic: pool_get: out of memory', 'PANIC: rumpuser panic', 'halted', 'PANIC: bmk_pgalloc: out of pages']);
    assert.deepEqual(out.map((c) => [c.report.kind, c.report.message, c.followUp ?? false]), [
      ['panic', 'pool_get: out of memory', false],
      ['panic', 'rumpuser panic', true],
      ['panic', 'bmk_pgalloc: out of pages', false],
    ]);
  });

  it('exit statuses: zero is clean, non-zero a follow-up', () => {
    const out = run(['=== _exit(0) called ===', '=== ERROR: _exit(1) called ===', 'halted', 'rump kernel halting...']);
    assert.deepEqual(out.map((c) => [c.report.kind, c.followUp]), [['exit', true]]);
  });

  it('leaves bare panics to the generic detector outside a Rumprun run, and keeps its other shapes', () => {
    const lines = ['panic: pool_get: out of memory', 'PANIC: rumpuser panic', 'FATAL TRAP: invalid opcode at 0x1234', '=== ERROR: _exit(1) called ==='];
    const both = new Set(['rumprun', 'generic'] as const);
    assert.deepEqual(run(lines, { run: undefined, platforms: both }).map((c) => c.report.line), [3, 4]);
    assert.deepEqual(run(lines, { run: 'xen', platforms: both }).map((c) => c.report.line), [3, 4]);
    assert.deepEqual(run(lines, { run: 'rumprun', platforms: both }).map((c) => c.report.line), [1, 2, 3, 4]);
    assert.deepEqual(run(lines, { run: undefined, platforms: new Set(['rumprun'] as const) }).map((c) => c.report.line), [1, 2, 3, 4]);
  });
});
