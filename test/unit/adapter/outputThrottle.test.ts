import assert from 'node:assert/strict';
import { OutputThrottle } from '../../../src/adapter/outputThrottle';

describe('console output throttle', () => {
  it('sends everything below the rate, coalesced', async () => {
    const sent: string[] = [];
    const t = new OutputThrottle((x) => sent.push(x), { maxBytesPerSecond: 1000, flushMs: 5 });
    t.push('a\n');
    t.push('b\n');
    await new Promise<void>((resolve) => {
      const t2 = new OutputThrottle(() => resolve(), { flushMs: 5 });
      t2.push('x');
    });
    t.flush();
    assert.deepEqual(sent, ['a\nb\n']);
  });

  it('summarises what exceeds the rate and says how much', () => {
    const sent: string[] = [];
    const t = new OutputThrottle((x) => sent.push(x), { maxBytesPerSecond: 10, flushMs: 5 });
    for (let i = 0; i < 100; i++) t.push('0123456789');
    t.dispose();
    const all = sent.join('');
    assert.ok(all.startsWith('0123456789'));
    assert.match(all, /\[… 990 characters of console output not shown here/);
  });
});
