import assert from 'node:assert/strict';
import { cleanLine, stripControls, stripPrefixes } from '../../../src/crash/lineCleaner';

describe('lineCleaner', () => {
  it('strips ANSI colours, cursor movement, OSC titles and control characters', () => {
    assert.equal(stripControls('\x1b[1;31mCRIT\x1b[0m: x'), 'CRIT: x');
    assert.equal(stripControls('\x1b[2K\x1b[1Gline'), 'line');
    assert.equal(stripControls('\x1b]0;title\x07text'), 'text');
    assert.equal(stripControls('a\x00b\x07c\x08d\x7fe'), 'abcde');
    assert.equal(stripControls('tab\tkept'), 'tab\tkept');
    assert.equal(stripControls('\x1bcreset'), 'reset');
    assert.equal(stripControls('plain'), 'plain');
  });

  it('strips console prefixes in any combination', () => {
    assert.equal(stripPrefixes('[2019-03-01 10:00:00] Page fault'), 'Page fault');
    assert.equal(stripPrefixes('> Solo5: Halted'), 'Solo5: Halted');
    assert.equal(stripPrefixes('> > [2019-03-01 10:00:00] (XEN) d1v0 Triple fault'), 'd1v0 Triple fault');
    assert.equal(stripPrefixes('[    0.105617] CRIT: x'), 'CRIT: x');
    assert.equal(stripPrefixes('2024-05-12T10:15:02.123Z Solo5: Halted'), 'Solo5: Halted');
    assert.equal(stripPrefixes('(d3) Xen Minimal OS!'), 'Xen Minimal OS!');
    assert.equal(stripPrefixes('Fatal error: x'), 'Fatal error: x');
  });

  it('cleanLine does both and trims', () => {
    assert.equal(cleanLine('> \x1b[31m[2019-03-01 10:00:00] Solo5: Halted\x1b[0m\r'), 'Solo5: Halted');
  });
});
