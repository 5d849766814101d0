/**
 * What the panels read, as pure functions: character buffers in gdb's repeat form, one aggregate
 * placeholder, the crash trace of the exception widget (where the trap handler begins, short paths),
 * short source paths, and the console's line endings.
 */
import assert from 'node:assert/strict';
import { GuestConsole } from '../../../src/adapter/console';
import { formatTrace } from '../../../src/adapter/crashPaths';
import { SourcePaths } from '../../../src/adapter/sourcePaths';
import { collapseTrailingNuls, shownValue } from '../../../src/adapter/variables';
import type { CrashReport } from '../../../src/crash/report';

describe('values as the Variables view, watches and hovers show them', () => {
  it('says the NULs that fill a char buffer after its string as gdb\'s repeat form', () => {
    assert.equal(collapseTrailingNuls('"square\\000\\000\\000\\000\\000\\000\\000\\000\\000"'), `"square", '\\000' <repeats 9 times>`);
    assert.equal(collapseTrailingNuls('"\\000\\000\\000\\000\\000"'), `'\\000' <repeats 5 times>`);
    // Short runs, NULs inside the string, escapes that only look like one, and gdb's own forms stay.
    assert.equal(collapseTrailingNuls('"ab\\000\\000"'), '"ab\\000\\000"');
    assert.equal(collapseTrailingNuls('"a\\000b"'), '"a\\000b"');
    assert.equal(collapseTrailingNuls('"a\\\\000\\\\000\\\\000\\\\000"'), '"a\\\\000\\\\000\\\\000\\\\000"');
    assert.equal(collapseTrailingNuls(`"x", '\\000' <repeats 15 times>`), `"x", '\\000' <repeats 15 times>`);
    assert.equal(collapseTrailingNuls('"abc"...'), '"abc"...');
    assert.equal(collapseTrailingNuls('42'), '42');
  });

  it('shows a collapsed aggregate one way: {…} (gdb\'s {...} included), arrays as [n]', () => {
    assert.equal(shownValue('{...}', 'struct point'), '{…}');
    assert.equal(shownValue(undefined, 'struct point'), '{…}');
    assert.equal(shownValue(undefined, 'int [4]'), '[4]');
    assert.equal(shownValue('13', 'int'), '13');
  });
});

describe('the crash trace of the exception widget', () => {
  const report: CrashReport = {
    platform: 'generic',
    kind: 'page-fault',
    message: 'page fault accessing 0x400000000 at 0x10166f in crash_null_write (kernel.c:281)',
    line: 6,
    registers: { rip: '0x10166f', cr2: '0x400000000' },
    frames: [
      { address: '0x10166f', function: 'crash_null_write', file: '/w/ws/kernel.c', line: 281 },
      { address: '0x1000d2', function: '_start64', file: '/w/ws/boot.S', line: 141, returnAddress: true },
      { address: '0x10131f', function: 'trap_handler', file: '/elsewhere/src/kernel.c', line: 151 },
    ],
    handler: { from: 2, label: 'page fault: handled by trap_handler' },
  };

  it('marks where the trap handler\'s frames begin, and prints paths the way it is told', () => {
    const sources = new SourcePaths({ roots: ['/w/ws'] });
    assert.equal(
      formatTrace(report, (f) => sources.short(f)),
      [
        'page-fault: page fault accessing 0x400000000 at 0x10166f in crash_null_write (kernel.c:281)',
        'rip=0x10166f cr2=0x400000000',
        '#0 0x10166f in crash_null_write at kernel.c:281',
        '#1 0x1000d2 in _start64 at boot.S:141',
        '--- page fault: handled by trap_handler ---',
        '#2 0x10131f in trap_handler at kernel.c:151',
      ].join('\n'),
    );
    // The Debug Console keeps whole paths (it makes them links); a report without a handler has no line.
    assert.match(formatTrace({ ...report, handler: undefined }), /^#2 0x10131f in trap_handler at \/elsewhere\/src\/kernel\.c:151$/m);
    assert.doesNotMatch(formatTrace({ ...report, handler: undefined }), /---/);
  });

  it('shortens a path to the launch cwd\'s relative one, else to the file\'s name', () => {
    const sources = new SourcePaths({ roots: ['/w/ws'] });
    assert.equal(sources.short('/w/ws/src/a.c'), 'src/a.c');
    assert.equal(sources.short('/w/other/a.c'), 'a.c');
    assert.equal(sources.short('/w/ws2/a.c'), 'a.c');
  });
});

describe('the guest console in the Debug Console', () => {
  it('turns CRLF into LF, also when the CR and the LF come in two chunks', () => {
    const out: string[] = [];
    const console = new GuestConsole({ output: (text) => out.push(text), crash: async () => undefined });
    console.push(Buffer.from('boot ok\r'));
    console.push(Buffer.from('\nnext\r\nlast\r'));
    console.push(Buffer.from('more\n'));
    console.flush();
    assert.equal(out.join(''), 'boot ok\nnext\nlast\rmore\n');
  });
});
