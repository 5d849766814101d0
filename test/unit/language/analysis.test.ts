import assert from 'node:assert/strict';
import type { CrashReport } from '../../../src/crash/report';
import { addressAt, addressesIn, crashLines, crashRange, escapeMarkdown, sourceRefsIn, symbolsFromMeta } from '../../../src/language/analysis';

describe('console-log analysis (language server)', () => {
  it('finds 0x addresses and bare 8–16 digit hex words, canonically', () => {
    const line = 'Solo5: trap: type=#PF ec=0x2 rip=0x00105fe2 rsp=0x7ffffa0 rflags=0x206';
    assert.deepEqual(addressesIn(line, 4).map((t) => t.address), ['0x2', '0x105fe2', '0x7ffffa0', '0x206']);
    const uk = 'RIP: 0000000000104a3b CS: 0008';
    assert.deepEqual(addressesIn(uk, 0).map((t) => [t.address, uk.slice(t.start, t.end)]), [['0x104a3b', '0000000000104a3b']]);
    assert.deepEqual(addressesIn('the word accessed and defaced stay words', 0), []);
  });

  it('finds the address under the cursor, edges included', () => {
    const line = 'rip=0x105fe2 rsp=0x7ffffa0';
    assert.equal(addressAt(line, 0, 4)?.address, '0x105fe2');
    assert.equal(addressAt(line, 0, 12)?.address, '0x105fe2');
    assert.equal(addressAt(line, 0, 2), undefined);
  });

  it('finds printed source locations: file:line, Unikraft <file @ line>, file "f", line N', () => {
    const refs = (s: string) => sourceRefsIn(s, 0).map((r) => [r.file, r.line1, s.slice(r.start, r.end)]);
    assert.deepEqual(refs('Solo5: ABORT: kernel.c:157: Fatal trap'), [['kernel.c', 157, 'kernel.c:157']]);
    assert.deepEqual(refs('CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13'), [['traps.c', 84, '<traps.c @ 84>']]);
    assert.deepEqual(refs('Raised at Mod.fn in file "src/x.ml", line 10, characters 2-8'), [['src/x.ml', 10, 'file "src/x.ml", line 10']]);
    assert.deepEqual(refs('time 12:30:01 and 1.2:3'), []);
  });

  it('marks the lines a crash covers, bounded by the document', () => {
    const r = { line: 3 } as CrashReport;
    const lines = crashLines([r, { line: 5 } as CrashReport], 10);
    assert.equal(lines[0], 2);
    assert.equal(lines.at(-1), 9);
    assert.equal(new Set(lines).size, lines.length);
  });

  it('puts a crash diagnostic on the text of its line', () => {
    assert.deepEqual(crashRange('  Solo5: ABORT  \r', 4), { line: 4, start: 2, end: 14 });
    assert.deepEqual(crashRange('', 0), { line: 0, start: 0, end: 1 });
  });

  it('escapes Markdown but leaves C names readable', () => {
    assert.equal(escapeMarkdown('crash_null_write'), 'crash_null_write');
    assert.equal(escapeMarkdown('_start64 *p [x]'), '\\_start64 \\*p \\[x\\]');
  });

  it('reads the symbols path from a .meta.json sidecar', () => {
    assert.equal(symbolsFromMeta('{"symbols":"/b/k.elf","kernel":"/b/k"}'), '/b/k.elf');
    assert.equal(symbolsFromMeta('{"kernel":"/b/k"}'), undefined);
    assert.equal(symbolsFromMeta('{'), undefined);
  });
});
