/**
 * The foundation, end to end: the real adapter over DAP, real QEMU (TCG) and real gdb, booting our
 * own fixture unikernel.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KERNEL, Session, UK_DBG, UK_IMAGE, assertNoLeftovers, marker, sessionProcesses, withSession } from './helpers';

describe('launch: F5 to a breakpoint in the fixture unikernel', function () {
  let s: Session;
  let before: Map<number, string>;
  withSession((session, b) => {
    s = session;
    before = b;
  });

  it('stops at a breakpoint in compute with a named, sourced stack and the console in the Debug Console', async () => {
    const bp = marker('compute');
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=normal' }, [bp]);
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.ok(frames.length >= 3, `at least 3 frames, got ${frames.length}`);
    assert.equal(frames[0]?.name, 'compute');
    assert.equal(frames[0]?.line, bp.line);
    assert.equal(frames[0]?.source?.path, bp.path);
    assert.deepEqual(frames.slice(1, 3).map((f) => f.name), ['run_demo', 'kmain']);
    assert.equal(frames[1]?.line, marker('demo-compute').line);
    await s.waitForOutput(/fixture: boot ok/);
    assert.match(s.text('stdout'), /fixture: boot ok/);
  });

  it('shows arguments, locals, nested struct members, array elements and pointers', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute'), marker('inspect-shape')]);
    let frames = await s.topFrames(stop.body.threadId ?? 1);
    let locals = await s.locals(frames[0]!.id);
    assert.equal(locals.get('a')?.value, '6');
    assert.equal(locals.get('b')?.value, '7');
    assert.equal(locals.get('sum')?.value, '13');
    assert.equal(locals.get('product')?.value, '42');
    assert.equal(locals.get('result')?.value, '13042');

    const next = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(next.body.reason, 'breakpoint');
    frames = await s.topFrames(next.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'inspect_shape');
    locals = await s.locals(frames[0]!.id);
    assert.equal(locals.get('perimeter')?.value, '100');
    const sp = locals.get('sp');
    assert.ok(sp && sp.variablesReference > 0, 'sp expands');
    // sp → *sp → members
    const deref = await s.children(sp.variablesReference);
    const star = [...deref.values()][0]!;
    const shape = star.variablesReference > 0 && !deref.has('origin') ? await s.children(star.variablesReference) : deref;
    assert.match(shape.get('name')?.value ?? '', /"square/);
    const origin = shape.get('origin');
    assert.ok(origin && origin.variablesReference > 0);
    const o = await s.children(origin.variablesReference);
    assert.equal(o.get('x')?.value, '3');
    assert.equal(o.get('y')?.value, '4');
    const sides = shape.get('sides');
    assert.ok(sides && sides.variablesReference > 0);
    const el = await s.children(sides.variablesReference);
    assert.deepEqual([...el.values()].map((v) => v.value), ['10', '20', '30', '40']);
    assert.deepEqual([...el.keys()], ['[0]', '[1]', '[2]', '[3]']);
    const anchor = shape.get('anchor');
    assert.ok(anchor && anchor.variablesReference > 0);
    const anchorTarget = await s.children(anchor.variablesReference);
    const a = [...anchorTarget.values()][0]!;
    const ap = a.variablesReference > 0 ? await s.children(a.variablesReference) : anchorTarget;
    assert.equal(ap.get('x')?.value, '100');
    assert.equal(ap.get('y')?.value, '200');

    // The caller's local struct, and evaluate of members through the watch context.
    const caller = frames[1]!;
    assert.equal(caller.name, 'make_shape');
    const callerLocals = await s.locals(caller.id);
    const sv = callerLocals.get('s');
    assert.ok(sv && sv.variablesReference > 0);
    const w = await s.dc.evaluateRequest({ expression: 's.sides[2] + s.origin.y', frameId: caller.id, context: 'watch' });
    assert.equal(w.body.result, '34');
    const g = await s.dc.evaluateRequest({ expression: 'global_counter', frameId: frames[0]!.id, context: 'hover' });
    assert.equal(g.body.result, '5');
  });

  it('steps over, into and out to the lines a person expects', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('step-call')]);
    const tid = stop.body.threadId ?? 1;
    let st = await s.resumeTo(() => s.dc.stepInRequest({ threadId: tid }));
    assert.equal(st.body.reason, 'step');
    let f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'step_helper');
    assert.equal(f[0]?.line, marker('helper-first').line);

    st = await s.resumeTo(() => s.dc.nextRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'step_helper');
    assert.equal(f[0]?.line, marker('helper-first').line + 1);

    st = await s.resumeTo(() => s.dc.stepOutRequest({ threadId: tid }));
    assert.equal(st.body.reason, 'step');
    f = await s.topFrames(tid);
    assert.equal(f[0]?.name, 'step_target');
    // gdb's finish returns into the middle of the call's line (the assignment to c is still to do).
    assert.equal(f[0]?.line, marker('step-call').line);

    st = await s.resumeTo(() => s.dc.nextRequest({ threadId: tid }));
    f = await s.topFrames(tid);
    assert.equal(f[0]?.line, marker('step-after').line);
    const locals = await s.locals(f[0]!.id);
    assert.equal(locals.get('c')?.value, '7');
  });

  it('pauses a spinning guest and continues it', async () => {
    await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=spin', stopAtEntry: 'spin_forever' }, []);
    await s.dc.continueRequest({ threadId: 1 });
    const paused = await s.resumeTo(() => s.dc.pauseRequest({ threadId: 1 }));
    assert.equal(paused.body.reason, 'pause');
    const f = await s.topFrames(paused.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'spin_forever');
    const threads = await s.dc.threadsRequest();
    assert.deepEqual(threads.body.threads.map((t) => t.name), ['CPU 0']);
  });

  it('walks a 50-deep recursion in pages', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('recurse-base')]);
    const tid = stop.body.threadId ?? 1;
    const first = await s.dc.stackTraceRequest({ threadId: tid, startFrame: 0, levels: 20 });
    assert.equal(first.body.stackFrames.length, 20);
    assert.ok((first.body.totalFrames ?? 0) > 20);
    // The way VS Code asks: the top frame, then the next 19.
    const top = await s.dc.stackTraceRequest({ threadId: tid, startFrame: 0, levels: 1 });
    const next = await s.dc.stackTraceRequest({ threadId: tid, startFrame: 1, levels: 19 });
    assert.deepEqual([...top.body.stackFrames, ...next.body.stackFrames].map((f) => `${f.name}:${f.line}`), first.body.stackFrames.map((f) => `${f.name}:${f.line}`));
    const rest = await s.dc.stackTraceRequest({ threadId: tid, startFrame: 20, levels: 100 });
    const names = [...first.body.stackFrames, ...rest.body.stackFrames].map((f) => f.name);
    assert.equal(names.filter((n) => n === 'recurse').length, 51);
    assert.deepEqual(names.slice(51, 53), ['run_demo', 'kmain']);
    // A page past the bottom of the stack is empty, not an error.
    const past = await s.dc.stackTraceRequest({ threadId: tid, startFrame: 200, levels: 20 });
    assert.deepEqual(past.body.stackFrames, []);
  });

  it('boots the Unikraft-style build: ELF32 boot image plus a 64-bit .dbg', async () => {
    const bp = marker('compute');
    const stop = await s.startTo('launch', { kernel: UK_IMAGE }, [bp]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'compute');
    assert.equal(frames[0]?.line, bp.line);
    const locals = await s.locals(frames[0]!.id);
    assert.equal(locals.get('sum')?.value, '13');
    assert.ok(UK_DBG);
  });

  it('runs a CLI command typed in the Debug Console', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    const r = await s.dc.evaluateRequest({ expression: 'info args', frameId: frames[0]!.id, context: 'repl' });
    assert.match(r.body.result, /a = 6\s+b = 7/);
  });

  it('runs without the debugger (Ctrl+F5) to completion, console included', async () => {
    const init = s.dc.waitForEvent('initialized', 30_000);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL, noDebug: true } as never), init]);
    assert.equal([...sessionProcesses()].filter(([pid, cmd]) => !before.has(pid) && / --interpreter=mi3/.test(cmd)).length, 0, 'no gdb');
    const exited = s.dc.waitForEvent('exited', 30_000);
    const terminated = s.dc.waitForEvent('terminated', 30_000);
    await s.dc.configurationDoneRequest();
    // What the guest wrote to isa-debug-exit (41), not QEMU's code for it ((41 << 1) | 1 = 83).
    assert.equal(((await exited) as DebugProtocol.ExitedEvent).body.exitCode, 41);
    await terminated;
    assert.match(s.text('stdout'), /fixture: boot ok[\s\S]*fixture: done counter=5/);
  });

  it('stops at the application entry when asked (kmain for a generic image), or at a named function', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, stopAtEntry: true }, []);
    assert.equal(stop.body.reason, 'entry');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'kmain');
  });

  it('ends QEMU and gdb when the guest is stopped', async () => {
    await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
    const terminated = s.dc.waitForEvent('terminated', 10_000);
    await s.dc.terminateRequest({});
    await terminated;
    assertNoLeftovers(before);
  });
});
