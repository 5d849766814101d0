/**
 * How a guest thread is named in the Call Stack view (its own name, then its state), and how
 * requests share the vCPU: those in its own registers together, a register switch alone.
 */
import * as assert from 'node:assert/strict';
import { GuestThreads, guestSeconds, guestThreadName } from '../../../src/adapter/guestThreads';
import type { GdbHost } from '../../../src/adapter/gdbHost';
import type { VcpuThreads } from '../../../src/adapter/stack';
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

describe('requests in the vCPU\'s own registers', () => {
  /** A promise and the hand that resolves it. */
  function gate(): { open: () => void; opened: Promise<void> } {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  }

  it('run together, not one after another (a watch list goes to gdb in one burst)', async () => {
    // No scheduler and no gdb are needed while nothing switches registers.
    const threads = new GuestThreads({} as GdbHost, {} as VcpuThreads, () => undefined, () => '');
    const started: number[] = [];
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      threads.withThreadContext(undefined, async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    assert.deepEqual(started, [0, 1, 2], 'all three started before any finished');
    for (const g of [...gates].reverse()) g.open();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  });
});
