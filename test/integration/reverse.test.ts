/**
 * Time travel: a recorded run (QEMU record/replay) steps back and continues in reverse, and goes
 * forward again to where it was.
 */
import assert from 'node:assert/strict';
import { KERNEL, Session, marker, withSession } from './helpers';

describe('reverse debugging of a recorded run', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('steps back over lines, reverse-continues to an earlier breakpoint, and runs forward again', async () => {
    const capabilities = s.dc.waitForEvent('capabilities', 30_000);
    const helper = marker('helper-first');
    const compute = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [helper]);
    assert.equal(((await capabilities).body as { capabilities: { supportsStepBack?: boolean } }).capabilities.supportsStepBack, true);
    const tid = stop.body.threadId ?? 1;
    assert.equal((await s.topFrames(tid))[0]?.line, helper.line);

    // Back out of step_helper to the line that called it, then one more line back.
    let back = await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.equal(back.body.reason, 'step');
    let f = await s.topFrames(tid);
    assert.deepEqual([f[0]?.name, f[0]?.line], ['step_target', marker('step-call').line]);
    assert.match(s.text('important'), /Replaying the recording/);
    assert.deepEqual((await s.dc.threadsRequest()).body.threads.map((t) => t.name), ['CPU 0 · replay']);
    back = await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.equal(f[0]?.line, marker('step-call').line - 1);
    // Back in time, b has not been computed yet.
    assert.equal((await s.locals(f[0]!.id)).get('b')?.value, '0');

    // Reverse continue to a breakpoint the run went through earlier: compute, with its values.
    await s.dc.setBreakpointsRequest({ source: { path: compute.path }, breakpoints: [{ line: compute.line }, { line: helper.line }] });
    const earlier = await s.resumeTo(() => s.dc.reverseContinueRequest({ threadId: tid }));
    assert.equal(earlier.body.reason, 'breakpoint');
    f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'compute');
    assert.equal((await s.locals(f[0]!.id)).get('sum')?.value, '13');

    // Forward again reaches where the recording was left.
    const again = await s.resumeTo(() => s.dc.continueRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'step_helper', `stopped (${again.body.reason}) in ${f[0]?.name}`);
  });

  it('steps back by instruction, and reverse-continues to the last write of a watched global', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [marker('compute')]);
    const tid = stop.body.threadId ?? 1;
    const pc = BigInt((await s.topFrames(tid))[0]!.instructionPointerReference!);
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid, granularity: 'instruction' }));
    const pc2 = BigInt((await s.topFrames(tid))[0]!.instructionPointerReference!);
    assert.ok(pc2 < pc && pc - pc2 < 16n, `one instruction back: ${pc} → ${pc2}`);
    const info = await s.dc.dataBreakpointInfoRequest({ name: 'global_counter' });
    await s.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    await s.resumeTo(() => s.dc.reverseContinueRequest({ threadId: tid }));
    const f = await s.topFrames(tid);
    // On the last write (the fifth increment), before it happens, as gdb shows a reverse watchpoint.
    assert.deepEqual([f[0]?.name, f[0]?.line], ['count_up', marker('counter').line]);
    const v = await s.dc.evaluateRequest({ expression: 'global_counter', frameId: f[0]!.id, context: 'watch' });
    assert.equal(v.body.result, '4');
  });

  it('from a crash, goes back to where the bad value was written and to the line that computed it', async () => {
    const crash = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: 'mode=badindex' }, []);
    assert.equal(crash.body.reason, 'exception');
    const tid = crash.body.threadId ?? 1;
    let f = await s.topFrames(tid);
    assert.deepEqual([f[0]?.name, f[0]?.line], ['use_slot', marker('bad-use').line]);
    // Who wrote stored_slot? Reverse continue on a write watchpoint.
    const info = await s.dc.dataBreakpointInfoRequest({ name: 'stored_slot' });
    await s.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    const wrote = await s.resumeTo(() => s.dc.reverseContinueRequest({ threadId: tid }));
    assert.equal(wrote.body.reason, 'data breakpoint');
    f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'remember');
    assert.equal(f[0]?.line, marker('bad-store').line);
    // And where did that value come from? Back into the caller, then into pick_slot's computation.
    await s.dc.setDataBreakpointsRequest({ breakpoints: [] });
    const compute = marker('bad-compute');
    await s.dc.setBreakpointsRequest({ source: { path: compute.path }, breakpoints: [{ line: compute.line }] });
    await s.resumeTo(() => s.dc.reverseContinueRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.deepEqual([f[0]?.name, f[0]?.line], ['pick_slot', compute.line]);
    assert.equal((await s.locals(f[0]!.id)).get('seed')?.value, '7');
    // Forward again: the crash comes back.
    await s.dc.setBreakpointsRequest({ source: { path: compute.path }, breakpoints: [] });
    const again = await s.resumeTo(() => s.dc.continueRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.ok(['trap_handler', 'use_slot'].includes(f[0]?.name ?? ''), `forward again stops at the crash (${again.body.reason}, ${f[0]?.name})`);
  });
});
