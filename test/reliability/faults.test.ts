/**
 * Faults: QEMU or gdb killed, gdb hanging. Each ends the session with a sentence a person can act
 * on, and leaves no process behind.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KERNEL, STOP_TIMEOUT, Session, marker, sessionProcesses, withSession } from '../integration/helpers';

function newPid(before: Map<number, string>, pattern: RegExp): number {
  const found = [...sessionProcesses()].find(([pid, cmd]) => !before.has(pid) && pattern.test(cmd));
  assert.ok(found, `a process matching ${pattern}`);
  return found[0];
}

const QEMU = /^\S*qemu-system/;
const GDB = /^\S*gdb /;

describe('faults end the session cleanly', function () {
  let s: Session;
  let before: Map<number, string>;
  withSession((session, b) => {
    s = session;
    before = b;
    // Shorter bounds, so that a hung gdb is found out in a second or two.
  }, { UNIKERNEL_DEBUG_TIMEOUT_SCALE: '0.1' });

  async function running(): Promise<void> {
    await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=spin', stopAtEntry: 'spin_forever' }, []);
    await s.dc.continueRequest({ threadId: 1 });
  }

  async function stopped(): Promise<void> {
    await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
  }

  for (const [state, reach] of [['running', running], ['stopped', stopped]] as const) {
    it(`QEMU killed while the guest is ${state}`, async () => {
      await reach();
      const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
      process.kill(newPid(before, QEMU), 'SIGKILL');
      await terminated;
      assert.match(s.text('important'), /QEMU was killed by SIGKILL.*The debug session ends/);
    });

    it(`gdb killed while the guest is ${state}`, async () => {
      await reach();
      const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
      process.kill(newPid(before, GDB), 'SIGKILL');
      await terminated;
      assert.match(s.text('important'), /gdb was killed by SIGKILL.*The debug session ends/);
    });
  }

  it('gdb that stops answering', async () => {
    await stopped();
    const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    process.kill(newPid(before, GDB), 'SIGSTOP');
    await assert.rejects(s.dc.evaluateRequest({ expression: 'global_counter', context: 'watch' }) as Promise<DebugProtocol.EvaluateResponse>, /gdb stopped answering/);
    await terminated;
    assert.match(s.text('important'), /gdb stopped answering/);
  });

  it('a replay that hangs ends the session, and its QEMU is killed', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [marker('compute')]);
    const tid = stop.body.threadId ?? 1;
    // Switch to the replay, then freeze it: QEMU stops answering, as a deadlocked replay does.
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    const replay = newPid(before, /^\S*qemu-system.*rr=replay/);
    const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    process.kill(replay, 'SIGSTOP');
    // A reverse command is under way when it hangs; the session must not wait for its stop forever.
    await s.dc.stepBackRequest({ threadId: tid }).catch(() => undefined);
    await terminated;
    assert.match(s.text('important'), /The replay stopped answering \(QEMU hung\): the debug session ends/);
  });

  it('no QEMU is left after a switch to replay when the session ends in replay', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: 'mode=badindex' }, []);
    const tid = stop.body.threadId ?? 1;
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.equal(sessionQemus(before).length, 1, 'the recorded QEMU is gone, the replay runs');
    // withSession's own check then finds nothing left after the session ends, stopped in the replay.
  });
});

function sessionQemus(before: Map<number, string>): number[] {
  return [...sessionProcesses()].filter(([pid, cmd]) => !before.has(pid) && QEMU.test(cmd)).map(([pid]) => pid);
}
