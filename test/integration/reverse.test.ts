/**
 * Time travel: a recorded run (QEMU record/replay) steps back and continues in reverse, and goes
 * forward again to where it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

  it('walks back from a crash line by line, into and out of calls, to the line that computed the bad value', async () => {
    const crash = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: 'mode=badindex' }, []);
    assert.equal(crash.body.reason, 'exception');
    const tid = crash.body.threadId ?? 1;
    const back = (): Promise<unknown> => s.dc.stepBackRequest({ threadId: tid });
    const reverseIn = (): Promise<unknown> => s.request('reverseStepIn', { threadId: tid });
    const reverseOut = (): Promise<unknown> => s.request('reverseStepOut', { threadId: tid });
    const at = async (send: () => Promise<unknown>): Promise<{ name?: string; line?: number; id: number }> => {
      const stop = await s.resumeTo(send);
      assert.equal(stop.body.reason, 'step');
      const f = (await s.topFrames(tid))[0]!;
      return { name: f.name, line: f.line, id: f.id };
    };
    const value = async (expression: string, frameId: number): Promise<string> =>
      (await s.dc.evaluateRequest({ expression, frameId, context: 'watch' })).body.result;
    const bad = String(7n << 32n);

    // The faulting line before it ran, then the line that called it.
    let f = await at(back);
    assert.deepEqual([f.name, f.line], ['use_slot', marker('bad-use').line]);
    assert.equal(await value('stored_slot', f.id), bad);
    f = await at(back);
    assert.deepEqual([f.name, f.line], ['bad_index', marker('bad-use').line + 7]);
    // Into the call that ran before: tidy_up, whose line had not yet added its 100.
    f = await at(reverseIn);
    assert.equal(f.name, 'tidy_up');
    f = await at(back);
    assert.deepEqual([f.name, f.line], ['tidy_up', marker('tidy').line]);
    assert.equal(await value('global_counter', f.id), '5');
    f = await at(reverseOut);
    assert.deepEqual([f.name, f.line], ['bad_index', marker('bad-use').line + 6]);
    // remember() had not stored the value yet at its line's start.
    f = await at(reverseIn);
    assert.equal(f.name, 'remember');
    f = await at(back);
    assert.deepEqual([f.name, f.line], ['remember', marker('bad-store').line]);
    assert.equal(await value('stored_slot', f.id), '0');
    assert.equal(await value('slot', f.id), bad);
    // Out to the caller's call, and into the function that produced the value.
    f = await at(reverseOut);
    assert.deepEqual([f.name, f.line], ['bad_index', marker('bad-use').line + 5]);
    f = await at(reverseIn);
    assert.equal(f.name, 'pick_slot');
    for (let i = 0; i < 2 && f.line !== marker('bad-compute').line; i++) f = await at(back);
    assert.deepEqual([f.name, f.line], ['pick_slot', marker('bad-compute').line]);
    assert.equal((await s.locals(f.id)).get('seed')?.value, '7');
    assert.notEqual((await s.locals(f.id)).get('slot')?.value, bad);

    // Forward again reaches the crash again.
    const again = await s.resumeTo(() => s.dc.continueRequest({ threadId: tid }));
    const top = (await s.topFrames(tid))[0];
    assert.ok(['trap_handler', 'use_slot'].includes(top?.name ?? ''), `forward again stops at the crash (${again.body.reason}, ${top?.name})`);
  });

  it('one Step Back is one source line, also on lines with several line-table entries', async () => {
    const compute = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [compute]);
    const tid = stop.body.threadId ?? 1;
    const lines: number[] = [];
    for (let i = 0; i < 3; i++) {
      await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
      lines.push((await s.topFrames(tid))[0]!.line);
    }
    // compute's `long result = ...` line has four entries (one per column); each Step Back still moves one line.
    assert.deepEqual(lines, [compute.line - 1, compute.line - 2, compute.line - 3]);
  });

  it('takes checkpoints on the way to a replay far into a long run, and steps back from there', async () => {
    const end = marker('grind-end');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: 'mode=grind count=20000000' }, [end]);
    const tid = stop.body.threadId ?? 1;
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    let f = (await s.topFrames(tid))[0]!;
    assert.deepEqual([f.name, f.line], ['grind_then_stop', end.line - 1]);
    assert.match(s.text('important'), /Replaying the recording \(\d+ instructions, 1 checkpoint\)/);
    // QEMU lists the checkpoint, with the instruction count it was taken at.
    const snapshots = await s.dc.evaluateRequest({ expression: 'monitor info snapshots', frameId: f.id, context: 'repl' });
    assert.match(`${snapshots.body.result}${s.text('console')}`, /rr-100000000/);
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    f = (await s.topFrames(tid))[0]!;
    assert.deepEqual([f.name, f.line], ['grind_then_stop', marker('grind-first').line]);
  });

  it('answers what VS Code asks while a reverse command runs (the trap frame scope of a crash stop)', async () => {
    const crash = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: 'mode=badindex' }, []);
    const tid = crash.body.threadId ?? 1;
    const scopes = await s.dc.scopesRequest({ frameId: (await s.topFrames(tid))[0]!.id });
    const trapFrame = scopes.body.scopes.find((sc) => sc.name === 'Trap frame');
    assert.ok(trapFrame, 'a Trap frame scope');
    const stopped = s.dc.waitForEvent('stopped', 30_000);
    const switched = s.dc.waitForEvent('progressEnd', 30_000);
    const out = s.request('reverseStepOut', { threadId: tid });
    await switched;
    // Sent while the replay runs back to the faulting line: an answer (an error is one), not a dead adapter.
    const vars = await s.dc.variablesRequest({ variablesReference: trapFrame.variablesReference }).then(() => 'ok', (e: Error) => e.message);
    assert.ok(vars === 'ok' || vars.length > 0);
    await out;
    await stopped;
    assert.equal((await s.topFrames(tid))[0]?.name, 'bad_index');
  });

  it('restart from a replay records a fresh boot, and going back works again', async () => {
    const compute = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [compute]);
    const tid = stop.body.threadId ?? 1;
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.deepEqual((await s.dc.threadsRequest()).body.threads.map((t) => t.name), ['CPU 0 · replay']);
    const again = await s.resumeTo(() => s.dc.customRequest('restart', {}));
    assert.equal(again.body.reason, 'breakpoint');
    assert.deepEqual([(await s.topFrames(tid))[0]?.name, (await s.topFrames(tid))[0]?.line], ['compute', compute.line]);
    assert.deepEqual((await s.dc.threadsRequest()).body.threads.map((t) => t.name), ['CPU 0']);
    assert.match(s.text('important'), /a new recording of a fresh boot begins/);
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.equal((await s.topFrames(tid))[0]?.line, compute.line - 1);
    assert.equal(s.text('important').match(/Replaying the recording/g)?.length, 2);
  });

  it('reverse continue with nothing on the way stops at the start of the recording, and says so', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true }, [marker('compute')]);
    const tid = stop.body.threadId ?? 1;
    const start = await s.resumeTo(() => s.dc.reverseContinueRequest({ threadId: tid }));
    assert.equal(start.body.reason, 'step');
    assert.match(s.text('console'), /The start of the recording: there is no history before this point/);
    assert.equal(BigInt((await s.topFrames(tid))[0]!.instructionPointerReference!), 0xfff0n);
    // And forward from the very start reaches the breakpoint again.
    await s.resumeTo(() => s.dc.continueRequest({ threadId: tid }));
    assert.equal((await s.topFrames(tid))[0]?.name, 'compute');
  });

  for (const [mode, top, back] of [
    ['panic', 'solo5_abort', 'fixture_panic'],
    ['triple', 'triple_fault', 'triple_fault'],
    ['reset', 'outb', 'request_reset'],
  ] as const) {
    it(`steps back from a recorded ${mode} stop, and forward again to it`, async () => {
      const crash = await s.startTo('launch', { kernel: KERNEL, record: true, cmdline: `mode=${mode}` }, []);
      assert.equal(crash.body.reason, 'exception');
      const tid = crash.body.threadId ?? 1;
      const first = (await s.topFrames(tid))[0]!;
      assert.equal(first.name, top);
      await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
      await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
      const f = (await s.topFrames(tid))[0]!;
      assert.equal(f.name, back);
      assert.notEqual(`${f.name}:${f.line}`, `${first.name}:${first.line}`, 'two lines back');
      await s.resumeTo(() => s.dc.continueRequest({ threadId: tid }));
      assert.equal((await s.topFrames(tid))[0]?.name, top);
    });
  }

  it('records and replays a guest with a NIC (its user network behind a replay filter in both runs)', async () => {
    const compute = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true, net: { hostfwd: ['tcp:127.0.0.1:0-:80'] } }, [compute]);
    const tid = stop.body.threadId ?? 1;
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.equal((await s.topFrames(tid))[0]?.line, compute.line - 1);
    await s.resumeTo(() => s.dc.nextRequest({ threadId: tid }));
    assert.equal((await s.topFrames(tid))[0]?.line, compute.line);
  });

  it('records and replays a guest with a disk (blkreplay; the recording does not write the image)', async () => {
    const disk = join(mkdtempSync(join(tmpdir(), 'rr-disk-')), 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 0x5a));
    const compute = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, record: true, disks: [disk] }, [compute]);
    const tid = stop.body.threadId ?? 1;
    await s.resumeTo(() => s.dc.stepBackRequest({ threadId: tid }));
    assert.equal((await s.topFrames(tid))[0]?.line, compute.line - 1);
    assert.ok(readFileSync(disk).every((b) => b === 0x5a), 'the image is unchanged');
    rmSync(dirname(disk), { recursive: true, force: true });
  });
});
