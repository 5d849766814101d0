/**
 * Every real image run to its end without breakpoints: the session ends with `exited`, carrying the
 * status the unikernel reported (not QEMU's isa-debug-exit status), then `terminated`.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { STOP_TIMEOUT, type Session, withSession } from '../integration/helpers';
import { MIRAGE_KERNEL, SOLO5_TESTS, UK_KERNEL, describeReal, solo5Image } from './images';

describeReal('real images: a run to the end reports the unikernel\'s exit status', function () {
  let s: Session;
  withSession((session) => (s = session));

  /** Launches, optionally sets the exception filters, and returns the exit code once terminated. */
  async function runToEnd(args: Record<string, unknown>, filters?: string[]): Promise<number> {
    const events: string[] = [];
    s.dc.on('exited', () => events.push('exited'));
    s.dc.on('terminated', () => events.push('terminated'));
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ ...args, stopAtEntry: false } as DebugProtocol.LaunchRequestArguments), init]);
    if (filters) await s.dc.setExceptionBreakpointsRequest({ filters });
    const exited = s.dc.waitForEvent('exited', STOP_TIMEOUT) as Promise<DebugProtocol.ExitedEvent>;
    const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    // A stop on the way would leave the session waiting: fail at once, saying why it stopped.
    const stopped = new Promise<never>((_, reject) =>
      s.dc.once('stopped', (e: DebugProtocol.StoppedEvent) => reject(new Error(`stopped (${e.body.reason}: ${e.body.description ?? ''}) instead of running to the end`))),
    );
    await s.dc.configurationDoneRequest();
    const ev = await Promise.race([exited, stopped]);
    await Promise.race([terminated, stopped]);
    assert.deepEqual(events, ['exited', 'terminated']);
    return ev.body.exitCode;
  }

  for (const test of SOLO5_TESTS.filter((t) => t !== 'test_exception')) {
    it(`Solo5 ${test}.virtio: solo5_exit(0) → exit code 0`, async () => {
      assert.equal(await runToEnd({ kernel: solo5Image(test) }), 0);
      assert.match(s.text('stdout'), /solo5_exit\(0\) called/);
    });
  }

  it('Solo5 test_exception.virtio with no exception filters: the abort → a non-zero exit code', async () => {
    const code = await runToEnd({ kernel: solo5Image('test_exception') }, []);
    assert.notEqual(code, 0);
    assert.match(s.text('stdout'), /Solo5: ABORT: .*Fatal trap/);
  });

  it('MirageOS hello.virtio, cmdline "none": exit code 0', async () => {
    assert.equal(await runToEnd({ kernel: MIRAGE_KERNEL, cmdline: 'none' }), 0);
    assert.match(s.text('stdout'), /OCaml main done/);
  });

  it('MirageOS hello.virtio, cmdline "crash", no exception filters: the uncaught OCaml exception → exit code 2', async () => {
    assert.equal(await runToEnd({ kernel: MIRAGE_KERNEL, cmdline: 'crash' }, []), 2);
    assert.match(s.text('stdout'), /Fatal error: exception Failure\("deliberate"\)/);
  });

  it('Unikraft helloworld: main returns 0 → exit code 0', async () => {
    assert.equal(await runToEnd({ kernel: UK_KERNEL }), 0);
    assert.match(s.text('stdout'), /Hello world!/);
  });
});
