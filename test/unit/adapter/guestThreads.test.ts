/** How a guest thread is named in the Call Stack view: its own name, then its state. */
import * as assert from 'node:assert/strict';
import { guestSeconds, guestThreadName } from '../../../src/adapter/guestThreads';
import type { GuestThread } from '../../../src/qemu/profiles/threads';

const t = (over: Partial<GuestThread>): GuestThread => ({ id: 0x1000n, name: 'worker', state: 'blocked', flags: 0, ...over });

describe('guest thread names', () => {
  it('the running thread on CPU 0 is just its name; on another CPU the CPU is said', () => {
    assert.equal(guestThreadName(t({ name: 'main', state: 'running', cpu: 0 })), 'main');
    assert.equal(guestThreadName(t({ name: 'main', state: 'running', cpu: 1 })), 'main (CPU 1)');
  });

  it('the others say their state; a sleeper its deadline; a thread that never ran says so', () => {
    assert.equal(guestThreadName(t({})), 'worker (blocked)');
    assert.equal(guestThreadName(t({ name: 'sleeper', state: 'sleeping', wakeup: 5_000_000_000n })), 'sleeper (sleeping until 5.000 s)');
    assert.equal(guestThreadName(t({ name: 'nap', state: 'sleeping' })), 'nap (sleeping)');
    assert.equal(guestThreadName(t({ name: 'yielder', state: 'runnable' })), 'yielder (runnable)');
    assert.equal(guestThreadName(t({ name: 'fresh', state: 'runnable', entry: 0x1234n })), 'fresh (runnable, not started)');
    assert.equal(guestThreadName(t({ name: 'exiter', state: 'exited' })), 'exiter (exited)');
  });

  it('guest clock nanoseconds as seconds with milliseconds', () => {
    assert.equal(guestSeconds(0n), '0.000 s');
    assert.equal(guestSeconds(10_042_000_000n), '10.042 s');
    assert.equal(guestSeconds(1_999_999n), '0.001 s');
  });
});
