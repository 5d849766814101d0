/**
 * The rest of the everyday controls: vCPUs as threads, breakpoints added while the guest runs,
 * changing a variable, and the breakpoint line gdb really used.
 */
import assert from 'node:assert/strict';
import { KERNEL, STOP_TIMEOUT, Session, marker, withSession } from './helpers';

describe('session control', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('shows one thread per vCPU', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, cpus: 2 }, [marker('compute')]);
    assert.equal(stop.body.reason, 'breakpoint');
    const threads = await s.dc.threadsRequest();
    // The second vCPU was never started by the fixture: it waits, halted, for a startup IPI.
    assert.deepEqual(threads.body.threads.map((t) => t.name), ['CPU 0', 'CPU 1 (halted)']);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'compute');
    // Each vCPU has its own stack; stepping the first leaves the second where it was.
    const other = threads.body.threads[1]!.id;
    const before2 = (await s.topFrames(other))[0]?.instructionPointerReference;
    await s.resumeTo(() => s.dc.nextRequest({ threadId: stop.body.threadId ?? 1 }));
    assert.equal((await s.topFrames(other))[0]?.instructionPointerReference, before2);
  });

  it('inserts a breakpoint while the guest runs and hits it', async () => {
    await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=spin', stopAtEntry: 'spin_forever' }, []);
    await s.dc.continueRequest({ threadId: 1 });
    const spin = marker('spin');
    const stopped = s.dc.waitForEvent('stopped', STOP_TIMEOUT);
    const r = await s.dc.setBreakpointsRequest({ source: { path: spin.path }, breakpoints: [{ line: spin.line }] });
    assert.equal(r.body.breakpoints[0]?.verified, true);
    const ev = (await stopped) as { body: { reason: string; threadId?: number } };
    assert.equal(ev.body.reason, 'breakpoint');
    const f = await s.topFrames(ev.body.threadId ?? 1);
    assert.equal(f[0]?.line, spin.line);
  });

  it('changes a local and the program sees the new value', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute'), marker('demo-return')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    const scopes = await s.dc.scopesRequest({ frameId: frames[0]!.id });
    const ref = scopes.body.scopes.find((x) => x.name === 'Locals')!.variablesReference;
    const set = await s.dc.setVariableRequest({ variablesReference: ref, name: 'result', value: '77' });
    assert.equal(set.body.value, '77');
    // compute returns (int)result; run_demo prints it.
    const next = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(next.body.reason, 'breakpoint');
    await s.waitForOutput(/compute=77 /);
  });

  it('reports a conditional breakpoint only when its condition holds', async () => {
    const bp = marker('recurse-call');
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL } as never), init]);
    await s.dc.setBreakpointsRequest({ source: { path: bp.path }, breakpoints: [{ line: bp.line, condition: 'depth == 42' }] });
    const stopped = s.dc.waitForEvent('stopped', STOP_TIMEOUT);
    await s.dc.configurationDoneRequest();
    const ev = (await stopped) as { body: { threadId?: number } };
    const f = await s.topFrames(ev.body.threadId ?? 1);
    const locals = await s.locals(f[0]!.id);
    assert.equal(locals.get('depth')?.value, '42');
  });

  it('stops a function breakpoint after the prologue, with the arguments set', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [], ['compute']);
    assert.equal(stop.body.reason, 'function breakpoint');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'compute');
    const locals = await s.locals(frames[0]!.id);
    assert.equal(locals.get('a')?.value, '6');
    assert.equal(locals.get('b')?.value, '7');
  });

  it('shows registers in hex', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    const scopes = await s.dc.scopesRequest({ frameId: frames[0]!.id });
    const regs = scopes.body.scopes.find((x) => x.name === 'Registers');
    assert.ok(regs?.expensive);
    const values = await s.children(regs.variablesReference);
    assert.match(values.get('rip')?.value ?? '', /^0x[0-9a-f]+$/);
    assert.equal(values.get('rip')?.value, frames[0]?.instructionPointerReference?.replace(/^0x0*/, '0x'));
  });
});
