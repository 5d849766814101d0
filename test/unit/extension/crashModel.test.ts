import assert from 'node:assert/strict';
import type { CrashReport } from '../../../src/crash/report';
import { addEntry, backtraceRows, boundEntry, crashLabel, formatCrashText, frameLabel, MAX_FRAMES, mergeReports, parseLogMeta, sortedRegisters, type CrashEntry } from '../../../src/extension/crashModel';

const report = (over: Partial<CrashReport> = {}): CrashReport => ({
  platform: 'solo5',
  kind: 'page-fault',
  message: 'Page fault (#PF) accessing 0x400000000 at rip 0x100724',
  line: 7,
  registers: { rsp: '0x115fa0', rip: '0x100724', cr2: '0x400000000' },
  frames: [{ address: '0x100724' }],
  ...over,
});

const entry = (over: Partial<CrashEntry> = {}): CrashEntry => ({
  id: 'a',
  report: report(),
  time: Date.UTC(2026, 0, 2, 3, 4, 5),
  origin: 'Fixture: crash',
  via: 'session',
  sessionId: 's1',
  ...over,
});

describe('Crash Trace model', () => {
  it('labels a crash `kind: first line of the message`', () => {
    assert.equal(crashLabel(report({ message: 'first\nsecond' })), 'page-fault: first');
    assert.equal(crashLabel(report({ message: '' })), 'page-fault');
  });

  it('labels frames `function — file:line`, the address standing in for what is unknown', () => {
    assert.deepEqual(frameLabel({ address: '0x1', function: 'f', file: '/src/k.c', line: 9 }), { label: 'f — k.c:9', description: '0x1' });
    assert.deepEqual(frameLabel({ address: '0x1', function: 'f' }), { label: 'f', description: '0x1' });
    assert.deepEqual(frameLabel({ address: '0x1' }), { label: '0x1', description: undefined });
    assert.deepEqual(frameLabel({ address: '', function: 'Mod.fn', file: 'x.ml', line: 3 }), { label: 'Mod.fn — x.ml:3', description: undefined });
  });

  it('orders registers as people read them: rip, rsp, … then the rest', () => {
    assert.deepEqual(sortedRegisters({ zz: '0x1', rsp: '0x2', rip: '0x3', cr2: '0x4' }).map(([k]) => k), ['rip', 'rsp', 'cr2', 'zz']);
  });

  it('merges the live stop and the console account of one crash into one entry', () => {
    const live = entry({ report: report({ line: 6, frames: [{ address: '0x100724', function: 'crash_null_write', file: '/k.c', line: 281 }], registers: { rip: '0x100724' } }) });
    let { list } = addEntry([], live);
    const fromConsole = entry({ id: 'b', report: report({ line: 7, registers: { rip: '0x100724', cr2: '0x400000000' } }) });
    ({ list } = addEntry(list, fromConsole));
    assert.equal(list.length, 1);
    assert.equal(list[0].id, 'a');
    assert.equal(list[0].report.line, 7, 'the console line');
    assert.equal(list[0].report.frames[0].function, 'crash_null_write', 'the richer backtrace');
    assert.equal(list[0].report.registers.cr2, '0x400000000', 'all registers');
  });

  it('keeps separate crashes apart: other session, other kind, far apart, or from a log', () => {
    let list: CrashEntry[] = [];
    for (const e of [
      entry(),
      entry({ id: 'b', sessionId: 's2' }),
      entry({ id: 'c', report: report({ kind: 'abort' }) }),
      entry({ id: 'd', report: report({ line: 500 }) }),
      entry({ id: 'e', via: 'log', sessionId: undefined }),
      entry({ id: 'f', via: 'log', sessionId: undefined }),
    ]) {
      list = addEntry(list, e).list;
    }
    assert.deepEqual(list.map((e) => e.id), ['f', 'e', 'd', 'c', 'b', 'a']);
  });

  it('keeps at most the configured number of crashes, newest first', () => {
    let list: CrashEntry[] = [];
    for (let i = 0; i < 10; i++) list = addEntry(list, entry({ id: String(i), via: 'log' }), 3).list;
    assert.deepEqual(list.map((e) => e.id), ['9', '8', '7']);
  });

  it('bounds what it stores and drops malformed saved entries', () => {
    const many = Array.from({ length: MAX_FRAMES + 50 }, (_, i) => ({ address: `0x${i.toString(16)}` }));
    const bounded = boundEntry(entry({ report: report({ frames: many, message: 'x'.repeat(10_000) }) }));
    assert.equal(bounded?.report.frames.length, MAX_FRAMES);
    assert.ok((bounded?.report.message.length ?? 0) < 5000);
    assert.equal(boundEntry({ id: 'x' } as unknown as CrashEntry), undefined);
    assert.equal(boundEntry(null as unknown as CrashEntry), undefined);
  });

  it('copies a trace as text with the message, where, registers, backtrace and symbols', () => {
    const text = formatCrashText(
      entry({
        log: '/logs/crash.console.log',
        symbols: '/build/kernel.elf',
        report: report({
          frames: [
            { address: '0x100724', function: 'crash_null_write', file: '/src/kernel.c', line: 281, inlinedBy: [{ function: 'kmain', file: '/src/kernel.c', line: 448 }] },
            { address: '0x100c7e' },
          ],
          notes: ['a note'],
        }),
      }),
    );
    assert.match(text, /^page-fault: Page fault \(#PF\) accessing 0x400000000 at rip 0x100724\n/);
    assert.match(text, /\(platform solo5, console \/logs\/crash\.console\.log:7, 2026-01-02T03:04:05\.000Z\)/);
    assert.match(text, /Registers:\n {2}rip {4}0x100724 .*rsp {4}0x115fa0 .*cr2 {4}0x400000000/);
    assert.match(text, /#0 {3}0x100724 in crash_null_write at \/src\/kernel\.c:281\n {8}inlined into kmain at \/src\/kernel\.c:448\n/);
    assert.match(text, /#1 {3}0x100c7e\n/);
    assert.match(text, /Symbols: \/build\/kernel\.elf\nNote: a note\n$/);
  });

  it('reads the adapter\'s .meta.json sidecar', () => {
    assert.deepEqual(parseLogMeta('{"symbols":"/a/k.elf","kernel":"/a/k","platform":"solo5"}'), { symbols: '/a/k.elf', kernel: '/a/k', platform: 'solo5' });
    assert.deepEqual(parseLogMeta('{"symbols":""}'), { symbols: undefined, kernel: undefined, platform: undefined });
    assert.equal(parseLogMeta('not json'), undefined);
    assert.equal(parseLogMeta('[1]')?.symbols, undefined);
  });

  it('takes the console line of the later account when merging', () => {
    const m = mergeReports(report({ line: 3, message: '' }), report({ line: 9, message: 'from console' }));
    assert.equal(m.line, 9);
    assert.equal(m.message, 'from console');
  });
  describe('where a live trap\'s handler frames begin', () => {
    const live = report({
      frames: [
        { address: '0x10166f', function: 'crash_null_write', file: '/w/kernel.c', line: 281 },
        { address: '0x1000d2', function: '_start64', file: '/w/boot.S', line: 141 },
        { address: '0x10131f', function: 'trap_handler', file: '/w/kernel.c', line: 151 },
      ],
      handler: { from: 2, label: 'page fault: handled by trap_handler' },
    });

    it('puts a label row between the faulting code\'s frames and the handler\'s', () => {
      const rows = backtraceRows(live).map((r) => ('label' in r ? `-- ${r.label}` : `#${r.index} ${r.frame.function}`));
      assert.deepEqual(rows, ['#0 crash_null_write', '#1 _start64', '-- page fault: handled by trap_handler', '#2 trap_handler']);
      assert.deepEqual(backtraceRows(report()).map((r) => 'label' in r), [false]);
    });

    it('keeps the mark with the frames it belongs to when two accounts merge, and drops a mark that fits no frames', () => {
      const console = report({ frames: [{ address: '0x10166f', function: 'crash_null_write', file: '/w/kernel.c', line: 281 }] });
      assert.deepEqual(mergeReports(live, console).handler, live.handler);
      assert.deepEqual(mergeReports(console, live).handler, live.handler);
      assert.equal(mergeReports(console, report({ frames: [] })).handler, undefined);
      assert.equal(boundEntry(entry({ report: { ...live, handler: { from: 9, label: 'x' } } }))?.report.handler, undefined);
      assert.deepEqual(boundEntry(entry({ report: live }))?.report.handler, live.handler);
      // Old entries (no mark) read as before.
      assert.equal(boundEntry(entry())?.report.handler, undefined);
    });

    it('says it in the copied text', () => {
      assert.match(formatCrashText(entry({ report: live })), /#1 +0x1000d2 in _start64 at \/w\/boot\.S:141\n  --- page fault: handled by trap_handler ---\n  #2 /);
    });
  });
});
