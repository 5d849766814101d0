/**
 * The low-level debugger: memory, disassembly, registers, every breakpoint kind, restart, and the
 * Debug Console's gdb and QEMU monitor commands.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KERNEL, STOP_TIMEOUT, Session, marker, withSession } from './helpers';

describe('low-level debugging', function () {
  let s: Session;
  withSession((session) => (s = session));

  async function stopAt(name: string, extra: Record<string, unknown> = {}): Promise<{ tid: number; frames: DebugProtocol.StackFrame[] }> {
    const stop = await s.startTo('launch', { kernel: KERNEL, ...extra }, [marker(name)]);
    const tid = stop.body.threadId ?? 1;
    return { tid, frames: await s.topFrames(tid) };
  }

  it('reads and writes memory through a memoryReference, and the variable shows the change', async () => {
    const { frames } = await stopAt('demo-return');
    const ptr = await s.dc.evaluateRequest({ expression: '&global_counter', frameId: frames[0]!.id, context: 'watch' });
    const ref = ptr.body.memoryReference;
    assert.ok(ref, 'a pointer has a memoryReference');
    const read = await s.request<DebugProtocol.ReadMemoryResponse>('readMemory', { memoryReference: ref, count: 8 });
    assert.equal(Buffer.from(read.body!.data!, 'base64').readBigUInt64LE(), 5n);
    const memoryEvent = s.dc.waitForEvent('memory', 5_000);
    const data = Buffer.alloc(8);
    data.writeBigUInt64LE(0x1234n);
    const w = await s.request<DebugProtocol.WriteMemoryResponse>('writeMemory', { memoryReference: ref, data: data.toString('base64') });
    assert.equal(w.body?.bytesWritten, 8);
    await memoryEvent;
    const v = await s.dc.evaluateRequest({ expression: 'global_counter', frameId: frames[0]!.id, context: 'watch' });
    assert.equal(v.body.result, '4660');
    // A struct local has the address of its storage.
    const locals = await s.locals(frames[0]!.id);
    assert.match(locals.get('counter_ptr')?.memoryReference ?? '', /^0x[0-9a-f]+$/);
  });

  it('reads a megabyte at once, identical to what gdb reads, and reports unreadable ranges', async () => {
    await stopAt('compute');
    const big = await s.request<DebugProtocol.ReadMemoryResponse>('readMemory', { memoryReference: '0x100000', count: 1 << 20 });
    const bytes = Buffer.from(big.body!.data!, 'base64');
    assert.equal(bytes.length, 1 << 20);
    const small = await s.request<DebugProtocol.ReadMemoryResponse>('readMemory', { memoryReference: '0x100000', offset: 4096, count: 4096 });
    assert.deepEqual(Buffer.from(small.body!.data!, 'base64'), bytes.subarray(4096, 8192));
    const none = await s.request<DebugProtocol.ReadMemoryResponse>('readMemory', { memoryReference: '0x400000000', count: 256 });
    assert.equal(Buffer.from(none.body?.data ?? '', 'base64').length, 0);
    assert.equal(none.body?.unreadableBytes, 256);
  });

  it('disassembles around the pc, scrolling back, with source lines', async () => {
    const { frames } = await stopAt('compute');
    const pc = frames[0]!.instructionPointerReference!;
    const r = await s.dc.disassembleRequest({ memoryReference: pc, instructionOffset: -10, instructionCount: 30, resolveSymbols: true });
    const insns = r.body!.instructions;
    assert.equal(insns.length, 30);
    assert.equal(BigInt(insns[10]!.address), BigInt(pc));
    for (let i = 1; i < insns.length; i++) assert.ok(BigInt(insns[i]!.address) > BigInt(insns[i - 1]!.address));
    assert.equal(insns[10]!.line, marker('compute').line);
    // A location left out is the previous instruction's (DAP; VS Code fills it forward).
    assert.ok(insns[0]!.location, 'the first instruction has its location');
    assert.match(insns.slice(0, 11).filter((i) => i.location).pop()?.location?.path ?? '', /kernel\.c$/);
    assert.ok(insns.some((i) => i.symbol === 'compute'));
  });

  it('steps by instruction', async () => {
    const { tid, frames } = await stopAt('compute');
    const pc = BigInt(frames[0]!.instructionPointerReference!);
    await s.resumeTo(() => s.dc.nextRequest({ threadId: tid, granularity: 'instruction' }));
    const after = await s.topFrames(tid);
    const pc2 = BigInt(after[0]!.instructionPointerReference!);
    assert.ok(pc2 > pc && pc2 - pc < 16n, `one instruction further: ${pc} → ${pc2}`);
  });

  it('writes a register and reads it back; eflags is decoded', async () => {
    const { frames } = await stopAt('compute');
    const scopes = await s.dc.scopesRequest({ frameId: frames[0]!.id });
    const regs = scopes.body.scopes.find((x) => x.name === 'Registers')!;
    const set = await s.dc.setVariableRequest({ variablesReference: regs.variablesReference, name: 'rax', value: '0x1234' });
    assert.equal(set.body.value, '4660');
    const values = await s.children(regs.variablesReference);
    assert.equal(values.get('rax')?.value, '0x1234');
    assert.match(values.get('eflags')?.value ?? '', /^0x[0-9a-f]+ \[ .*\]$/);
    const control = values.get('Control');
    assert.ok(control && control.variablesReference > 0);
    const cr = await s.children(control.variablesReference);
    // Long mode is on: paging (cr0.PG) and efer.LMA.
    assert.ok((BigInt(cr.get('cr0')?.value ?? '0') >> 31n) & 1n);
    assert.ok((BigInt(cr.get('efer')?.value ?? '0') >> 10n) & 1n);
  });

  it('stops on a watchpoint on the global counter', async () => {
    const { tid } = await stopAt('compute', { stopAtEntry: 'count_up' });
    void tid;
    const info = await s.dc.dataBreakpointInfoRequest({ name: 'global_counter' });
    assert.ok(info.body.dataId);
    const r = await s.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.equal(r.body.breakpoints[0]?.verified, true);
    const stop = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'data breakpoint');
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'count_up');
  });

  it('stops on a data breakpoint given as address and size; struct members can be watched', async () => {
    const { frames } = await stopAt('shape-call');
    const locals = await s.locals(frames[0]!.id);
    const sref = locals.get('s')!.variablesReference;
    await s.children(sref); // VS Code asks only about variables it shows
    const member = await s.dc.dataBreakpointInfoRequest({ variablesReference: sref, name: 'origin' });
    assert.match(member.body.description, /^s\.origin$/);
    const addr = await s.dc.evaluateRequest({ expression: '&recurse_max_depth', frameId: frames[0]!.id, context: 'watch' });
    const info = await s.dc.dataBreakpointInfoRequest({ name: addr.body.memoryReference!, asAddress: true, bytes: 4 } as DebugProtocol.DataBreakpointInfoArguments);
    const r = await s.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    assert.equal(r.body.breakpoints[0]?.verified, true);
    const stop = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(stop.body.reason, 'data breakpoint');
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'recurse');
  });

  it('prints a logpoint\'s message and goes on; a hit count skips hits', async () => {
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL } as never), init]);
    const counter = marker('counter');
    const ret = marker('compute');
    await s.dc.setBreakpointsRequest({
      source: { path: counter.path },
      breakpoints: [{ line: counter.line, logMessage: 'counter is {global_counter}' }, { line: ret.line }],
    });
    const stopped = s.dc.waitForEvent('stopped', STOP_TIMEOUT) as Promise<DebugProtocol.StoppedEvent>;
    await s.dc.configurationDoneRequest();
    const stop = await stopped;
    assert.equal(stop.body.reason, 'breakpoint');
    assert.match(s.text('console'), /counter is 0\ncounter is 1\ncounter is 2\ncounter is 3\ncounter is 4\n/);

    // Now a hit count on the same line: stop at the third crossing.
    await s.dc.setBreakpointsRequest({ source: { path: counter.path }, breakpoints: [{ line: counter.line, hitCondition: '3' }] });
    const restarted = await s.resumeTo(() => s.dc.restartRequest({}));
    const f = await s.topFrames(restarted.body.threadId ?? 1);
    const v = await s.dc.evaluateRequest({ expression: 'global_counter', frameId: f[0]!.id, context: 'watch' });
    assert.equal(v.body.result, '2');
  });

  it('restart resets the guest and hits the first breakpoint again', async () => {
    await stopAt('compute');
    const again = await s.resumeTo(() => s.dc.restartRequest({}));
    assert.equal(again.body.reason, 'breakpoint');
    const f = await s.topFrames(again.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'compute');
    await s.waitForOutput(/fixture: boot ok[\s\S]*fixture: boot ok/);
    const locals = await s.locals(f[0]!.id);
    assert.equal(locals.get('sum')?.value, '13');
  });

  it('hits an instruction breakpoint and a hardware breakpoint', async () => {
    const { frames } = await stopAt('kmain-demo');
    const addr = await s.dc.evaluateRequest({ expression: '&recurse', frameId: frames[0]!.id, context: 'watch' });
    const ref = addr.body.memoryReference!;
    const ib = await s.request<DebugProtocol.SetInstructionBreakpointsResponse>('setInstructionBreakpoints', { breakpoints: [{ instructionReference: ref }] });
    assert.equal(ib.body.breakpoints[0]?.verified, true);
    const helper = marker('helper-first');
    await s.dc.setBreakpointsRequest({ source: { path: helper.path }, breakpoints: [{ line: helper.line, mode: 'hardware' }] });
    const first = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(first.body.reason, 'instruction breakpoint');
    assert.equal((await s.topFrames(first.body.threadId ?? 1))[0]?.name, 'recurse');
    await s.request<DebugProtocol.SetInstructionBreakpointsResponse>('setInstructionBreakpoints', { breakpoints: [] });
    const second = await s.resumeTo(() => s.dc.continueRequest({ threadId: 1 }));
    assert.equal(second.body.reason, 'breakpoint');
    assert.equal((await s.topFrames(second.body.threadId ?? 1))[0]?.line, helper.line);
  });

  it('sends Debug Console text to gdb and `monitor` to QEMU, and completes commands', async () => {
    const { frames } = await stopAt('compute');
    const mon = await s.dc.evaluateRequest({ expression: 'monitor info status', frameId: frames[0]!.id, context: 'repl' });
    assert.match(mon.body.result, /VM status: paused/);
    const x = await s.dc.evaluateRequest({ expression: 'x/2dw &compute_calls', frameId: frames[0]!.id, context: 'repl' });
    assert.match(x.body.result, /compute_calls/);
    const c = await s.dc.completionsRequest({ text: 'info reg', column: 9 });
    assert.ok(c.body.targets.some((t) => t.label === 'info registers'));
  });

  it('shows values in hex when asked', async () => {
    const { frames } = await stopAt('compute');
    const scopes = await s.dc.scopesRequest({ frameId: frames[0]!.id });
    const ref = scopes.body.scopes.find((x) => x.name === 'Locals')!.variablesReference;
    const r = await s.dc.variablesRequest({ variablesReference: ref, format: { hex: true } });
    assert.equal(r.body.variables.find((v) => v.name === 'product')?.value, '0x2a');
    const e = await s.dc.evaluateRequest({ expression: 'sum', frameId: frames[0]!.id, context: 'watch', format: { hex: true } });
    assert.equal(e.body.result, '0xd');
  });
});
