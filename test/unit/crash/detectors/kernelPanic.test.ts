import assert from 'node:assert/strict';
import { KernelPanicDetector } from '../../../../src/crash/detectors/kernelPanic';
import type { DetectedCrash, LogContext } from '../../../../src/crash/detectors/types';
import type { Platform } from '../../../../src/crash/report';

function run(lines: string[], context?: LogContext): DetectedCrash[] {
  const out: DetectedCrash[] = [];
  const d = new KernelPanicDetector((c) => out.push(c), context);
  lines.forEach((l, i) => d.feed(l, i + 1));
  d.flush();
  return out;
}

const ALL: ReadonlySet<Platform> = new Set(['solo5', 'mirage', 'rumprun', 'unikraft', 'xen', 'generic']);

describe('KernelPanicDetector', () => {
  it('a panic with its register line and backtrace is one report', () => {
    const out = run([
      '*** PANIC: out of frames',
      'REGS: rip=0x1012a4 rsp=0x7fff00 rbp=0x7fff10',
      '#0 0x1012a4 (panic)',
      '#1 0x101300 (alloc_frame)',
      '#2 0x101400 (kmain)',
    ]);
    assert.equal(out.length, 1);
    const [{ report, followUp }] = out;
    assert.equal(followUp, undefined);
    assert.deepEqual(
      { platform: report.platform, kind: report.kind, message: report.message, line: report.line },
      { platform: 'generic', kind: 'panic', message: 'out of frames', line: 1 },
    );
    assert.deepEqual(report.registers, { rip: '0x1012a4', rsp: '0x7fff00', rbp: '0x7fff10' });
    assert.deepEqual(report.frames, [
      { address: '0x1012a4', function: 'panic' },
      { address: '0x101300', function: 'alloc_frame', returnAddress: true },
      { address: '0x101400', function: 'kmain', returnAddress: true },
    ]);
  });

  it('every header shape; the message is the text after the prefix', () => {
    const out = run([
      '*** PANIC: out of frames',
      'PANIC: bad page table',
      'panic: assertion failed',
      'Kernel panic - not syncing: Attempted to kill init!',
      '*** PANIC: double fault ***',
      '** panic: nested',
      'PANIC:',
    ]);
    assert.deepEqual(out.map((c) => [c.report.kind, c.report.message, c.report.line]), [
      ['panic', 'out of frames', 1],
      ['panic', 'bad page table', 2],
      ['panic', 'assertion failed', 3],
      ['panic', 'Attempted to kill init!', 4],
      ['panic', 'double fault', 5],
      ['panic', 'nested', 6],
      ['panic', 'PANIC', 7],
    ]);
  });

  it('register lines: `RIP=…`, `RIP: …`, several lines merged; names lower case, values canonical hex', () => {
    const [a, b] = run([
      'panic: assertion failed',
      'RIP=0x0000000000102B10 RSP=0x7ffe80',
      'rax=0x0 rbx=0x1f flags=0x2',
      'PANIC: bad page table',
      'Registers:',
      'RIP: 0x102c00 RSP: 0x7ffd00',
      'CR2: 0xdeadb000',
    ]).map((c) => c.report);
    assert.deepEqual(a.registers, { rip: '0x102b10', rsp: '0x7ffe80', rax: '0x0', rbx: '0x1f' });
    assert.deepEqual(b.registers, { rip: '0x102c00', rsp: '0x7ffd00', cr2: '0xdeadb000' });
  });

  it('without a backtrace the register dump’s pc is the only frame', () => {
    const [r] = run(['*** PANIC: out of frames', 'REGS: eip=0x10ff00 esp=0x7ff0']).map((c) => c.report);
    assert.deepEqual(r.frames, [{ address: '0x10ff00' }]);
  });

  it('backtrace line shapes, with headings between the parts', () => {
    const [r] = run([
      'panic: assertion failed',
      'Backtrace:',
      '#0 0x102b10 in assert_fail (expr=0x104000)',
      '#1 0x1031c2 in run_checks ()',
      '#2 0x101400',
      '#3 0x101480 (kmain+0x1c)',
      '#4 0x1014f0 (??)',
      '#5 00000000001000a0',
    ]).map((c) => c.report);
    assert.deepEqual(r.registers, {});
    assert.deepEqual(r.frames, [
      { address: '0x102b10', function: 'assert_fail' },
      { address: '0x1031c2', function: 'run_checks', returnAddress: true },
      { address: '0x101400', returnAddress: true },
      { address: '0x101480', function: 'kmain', returnAddress: true },
      { address: '0x1014f0', returnAddress: true },
      { address: '0x1000a0', returnAddress: true },
    ]);
  });

  it('ends at the first line that is not part of it, or at the end of input', () => {
    const out: DetectedCrash[] = [];
    const d = new KernelPanicDetector((c) => out.push(c));
    d.feed('*** PANIC: out of frames', 1);
    d.feed('#0 0x1012a4 (panic)', 2);
    assert.equal(d.pending, true);
    assert.equal(out.length, 0);
    d.feed('System halted.', 3);
    assert.equal(d.pending, false);
    d.feed('#1 0x101300 (alloc_frame)', 4); // after the end: not the report's
    assert.deepEqual(out.map((c) => c.report.frames.length), [1]);

    const [cut] = run(['panic: cut off', 'REGS: rip=0x1 rsp=0x2']);
    assert.deepEqual(cut.report.registers, { rip: '0x1', rsp: '0x2' });
  });

  it('a runaway backtrace keeps a bounded number of frames and ends after a bounded number of lines', () => {
    const lines = ['panic: stack walk loops'];
    for (let i = 0; i < 1000; i++) lines.push(`#${i} 0x1012a4 (spin)`);
    lines.push('panic: second');
    const out = run(lines);
    assert.equal(out[0].report.frames.length, 64);
    assert.deepEqual(out.map((c) => c.report.message), ['stack walk loops', 'second']);
  });

  it('lines that merely look like a panic are not one', () => {
    const out = run([
      'sched: panic_on_oops=1',
      'no panic: all good',
      'panicking is not an option',
      '#1 0x101300 (alloc_frame)',
      'rip=0x1012a4 rsp=0x7fff00',
      'Kernel panic test skipped',
    ]);
    assert.deepEqual(out, []);
  });

  it('bare `PANIC:` / `panic:` lines are Rumprun’s in a Rumprun run; the other shapes stay generic', () => {
    const lines = ['panic: pool_get: out of memory', 'PANIC: rumpuser panic', '*** PANIC: out of frames', 'Kernel panic - not syncing: x'];
    const inRumprun = run(lines, { run: 'rumprun', platforms: ALL });
    assert.deepEqual(inRumprun.map((c) => c.report.line), [3, 4]);
    const unknownRun = run(lines, { run: undefined, platforms: ALL });
    assert.deepEqual(unknownRun.map((c) => c.report.line), [1, 2, 3, 4]);
    const solo5Run = run(lines, { run: 'solo5', platforms: ALL });
    assert.deepEqual(solo5Run.map((c) => c.report.line), [1, 2, 3, 4]);
    const noRumprunDetector = run(lines, { run: 'rumprun', platforms: new Set<Platform>(['generic']) });
    assert.deepEqual(noRumprunDetector.map((c) => c.report.line), [1, 2, 3, 4]);
  });
});
