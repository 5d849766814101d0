import assert from 'node:assert/strict';
import {
  addressInValue,
  alignDown,
  asciiChar,
  clampTop,
  hexAddress,
  littleEndian,
  parseAddress,
  parseWordInput,
  PENDING,
  toLittleEndian,
  UNREADABLE,
  wordText,
} from '../../../src/extension/memory/format';
import { PAGE_BYTES, PageCache, pagesCovering } from '../../../src/extension/memory/pageCache';
import { parseFromWebview } from '../../../src/extension/memory/protocol';

const page = (fill: number, patch: Record<number, number> = {}): Int16Array => {
  const v = new Int16Array(PAGE_BYTES).fill(fill);
  for (const [i, b] of Object.entries(patch)) v[Number(i)] = b;
  return v;
};

describe('Memory view: addresses and words', () => {
  it('reads addresses as gdb does: 0x… hex, plain digits decimal, nothing else', () => {
    assert.equal(parseAddress('0x119000'), 0x119000n);
    assert.equal(parseAddress(' 4096 '), 4096n);
    assert.equal(parseAddress('0xffffffffffffffff'), (1n << 64n) - 1n);
    assert.equal(parseAddress('0x10000000000000000'), undefined);
    assert.equal(parseAddress('119000h'), undefined);
    assert.equal(parseAddress('&x'), undefined);
  });

  it('finds the address in a value as debuggers print it', () => {
    assert.equal(addressInValue('(unsigned long *) 0x119000 <global_counter>'), 0x119000n);
    assert.equal(addressInValue('0x105138 "demo"'), 0x105138n);
    assert.equal(addressInValue('1150896'), 1150896n);
    assert.equal(addressInValue('{x = 1}'), undefined);
  });

  it('pads row addresses to 8 digits below 4 GiB and 16 above', () => {
    assert.equal(hexAddress(0x119000n), '00119000');
    assert.equal(hexAddress(0x400000000n), '0000000400000000');
    assert.equal(hexAddress(0x10n, 16), '0000000000000010');
  });

  it('keeps the first row aligned and inside the address space', () => {
    assert.equal(alignDown(0x11901bn, 16), 0x119010n);
    assert.equal(clampTop(-32n, 10), 0n);
    assert.equal(clampTop((1n << 64n) - 1n, 4), (1n << 64n) - 64n);
  });

  it('shows words little-endian, most significant digit first; unknown bytes as ? and ·', () => {
    assert.equal(wordText([0x2a]), '2a');
    assert.equal(wordText([0x64, 0, 0, 0]), '00000064');
    assert.equal(wordText([1, UNREADABLE]), '????');
    assert.equal(wordText([1, PENDING]), '····');
    assert.equal(asciiChar(0x41), 'A');
    assert.equal(asciiChar(0), '.');
    assert.equal(asciiChar(UNREADABLE), '?');
  });

  it('turns a typed value into the bytes of its word, and pointers back into addresses', () => {
    assert.deepEqual(parseWordInput('2a', 1), [0x2a]);
    assert.deepEqual(parseWordInput('0x1234', 4), [0x34, 0x12, 0, 0]);
    assert.equal(parseWordInput('123', 1), undefined, 'wider than the word');
    assert.equal(parseWordInput('zz', 1), undefined);
    assert.equal(littleEndian([0x00, 0x90, 0x11, 0, 0, 0, 0, 0]), 0x119000n);
    assert.equal(littleEndian([1, UNREADABLE]), undefined);
    assert.deepEqual(toLittleEndian(0x119000n, 8), [0x00, 0x90, 0x11, 0, 0, 0, 0, 0]);
  });
});

describe('Memory view: pages and changes', () => {
  it('covers a range with whole pages', () => {
    assert.deepEqual(pagesCovering(0x1f0n, 0x20), [0x100n, 0x200n]);
    assert.deepEqual(pagesCovering(0x200n, PAGE_BYTES), [0x200n]);
  });

  it('marks the bytes that differ from the stop before, not what was never read', () => {
    const c = new PageCache();
    c.store(0x1000n, page(0));
    let w = c.window(0x1000n, 16);
    assert.deepEqual(w.values.slice(0, 2), [0, 0]);
    assert.equal(w.changed.some((x) => x === 1), false, 'nothing to compare with at the first stop');
    c.nextStop();
    assert.equal(c.fresh(0x1000n), undefined, 'stale after a stop');
    assert.deepEqual(c.window(0x1000n, 2).values, [PENDING, PENDING]);
    c.store(0x1000n, page(0, { 1: 5 }));
    w = c.window(0x1000n, 4);
    assert.deepEqual(w.values, [0, 5, 0, 0]);
    assert.deepEqual(w.changed, [0, 1, 0, 0]);
  });

  it('a write at the same stop is read again and still compared with the stop before', () => {
    const c = new PageCache();
    c.store(0x1000n, page(0));
    c.nextStop();
    c.store(0x1000n, page(0, { 2: 1 }));
    c.invalidate(0x1000n, 1);
    assert.equal(c.fresh(0x1000n), undefined);
    c.store(0x1000n, page(0, { 0: 0x2a, 2: 1 }));
    assert.deepEqual(c.window(0x1000n, 3).changed, [1, 0, 1]);
  });

  it('a page not looked at for several stops compares with its last reading', () => {
    const c = new PageCache();
    c.store(0x1000n, page(7));
    c.nextStop();
    c.nextStop();
    c.invalidate();
    c.store(0x1000n, page(7, { 3: 8 }));
    assert.deepEqual(c.window(0x1003n, 1).changed, [1]);
  });

  it('does not call unreadable bytes changed', () => {
    const c = new PageCache();
    c.store(0x1000n, page(UNREADABLE));
    c.nextStop();
    c.store(0x1000n, page(1));
    assert.deepEqual(c.window(0x1000n, 2), { values: [1, 1], changed: [0, 0] });
  });
});

describe('Memory view: what the webview may send', () => {
  it('takes well-formed messages', () => {
    assert.deepEqual(parseFromWebview({ type: 'window', top: '0x119000', rows: 30, cursor: '0x119001' }), {
      type: 'window',
      top: '0x119000',
      rows: 30,
      cursor: '0x119001',
      anchor: undefined,
    });
    assert.deepEqual(parseFromWebview({ type: 'write', address: '0x119000', bytes: [42] }), { type: 'write', address: '0x119000', bytes: [42] });
    assert.deepEqual(parseFromWebview({ type: 'dataBreakpoint', address: '0x10', bytes: 4, access: 'write' }), {
      type: 'dataBreakpoint',
      address: '0x10',
      bytes: 4,
      access: 'write',
    });
  });

  it('drops anything else', () => {
    for (const m of [
      null,
      'ready',
      { type: 'eval', code: 'x' },
      { type: 'write', address: '0x10', bytes: [256] },
      { type: 'write', address: '16', bytes: [1] },
      { type: 'write', address: '0x10', bytes: [] },
      { type: 'window', top: '0x0', rows: 0, cursor: '0x0' },
      { type: 'wordSize', size: 3 },
      { type: 'dataBreakpoint', address: '0x10', bytes: 4, access: 'execute' },
    ]) {
      assert.equal(parseFromWebview(m), undefined, JSON.stringify(m));
    }
  });
});
