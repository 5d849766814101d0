/**
 * Live crashes: each fixture crash mode stops the session with reason `exception` where the guest
 * crashed, exceptionInfo explains it, a crash event carries the report, and the console arrives.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KERNEL, STOP_TIMEOUT, Session, marker, withSession } from './helpers';

interface CrashEventBody {
  report: {
    platform: string;
    kind: string;
    message: string;
    line: number;
    registers: Record<string, string>;
    frames: { address: string; function?: string; file?: string; line?: number }[];
    handler?: { from: number; label: string };
  };
}

describe('live crashes stop the session where they happen', function () {
  let s: Session;
  const crashEvents: CrashEventBody[] = [];
  withSession((session) => {
    s = session;
    crashEvents.length = 0;
    s.dc.on('unikernelCrash', (e: DebugProtocol.Event) => crashEvents.push(e.body as CrashEventBody));
  });

  async function crashStop(mode: string): Promise<{ stop: DebugProtocol.StoppedEvent; frames: DebugProtocol.StackFrame[]; info: DebugProtocol.ExceptionInfoResponse }> {
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: `mode=${mode}` }, []);
    assert.equal(stop.body.reason, 'exception');
    const tid = stop.body.threadId ?? 1;
    const frames = await s.topFrames(tid, 30);
    const info = await s.dc.exceptionInfoRequest({ threadId: tid });
    return { stop, frames, info };
  }

  it('a page fault from a wild write stops at the faulting line, rebuilt from the trap frame', async () => {
    const { frames, info } = await crashStop('crash');
    const at = marker('crash-write');
    assert.equal(frames[0]?.name, 'crash_null_write');
    assert.equal(frames[0]?.line, at.line);
    assert.equal(frames[0]?.source?.path, at.path);
    assert.equal(frames[1]?.name, 'kmain');
    // The rebuilt frames, a label row, then the handler's own frames.
    const label = frames.findIndex((f) => f.presentationHint === 'label');
    assert.ok(label >= 2, 'a label row after the rebuilt frames');
    assert.match(frames[label]?.name ?? '', /page fault: handled by trap_handler/);
    assert.equal(frames[label + 1]?.name, 'trap_handler');
    assert.equal(info.body.exceptionId, 'page-fault');
    // The title names the faulting address (cr2), not only the instruction.
    assert.match(info.body.description ?? '', /^page fault accessing 0x400000000 at 0x[0-9a-f]+ in crash_null_write \(kernel\.c:\d+\)$/);
    // The widget's trace: the faulting code's stack ends at _start64; a line says where the handler's begins.
    const trace = (info.body.details?.stackTrace ?? '').split('\n');
    const sep = trace.indexOf('--- page fault: handled by trap_handler ---');
    assert.ok(sep > 0, `a handler line in:\n${trace.join('\n')}`);
    assert.match(trace[sep - 1] ?? '', /^#2 0x[0-9a-f]+ in _start64 at /);
    assert.match(trace[sep + 1] ?? '', /^#3 0x[0-9a-f]+ in trap_handler at /);
    // Paths relative to the launch's cwd, not whole absolute paths.
    assert.match(trace.find((l) => l.startsWith('#0 ')) ?? '', / at test\/fixtures\/kernel\.c:\d+$/);
    assert.equal(crashEvents[0]?.report.registers.cr2, '0x400000000');
    assert.deepEqual(crashEvents[0]?.report.handler, { from: 3, label: 'page fault: handled by trap_handler' });
    // One platform word for the image: the launch banner's, on every entry.
    assert.match(s.text('console'), /Multiboot \/ PVH image: platform "generic" \(detected\), booting /);
    // The top frame's scope is the saved trap frame.
    const scopes = await s.dc.scopesRequest({ frameId: frames[0]!.id });
    const trap = await s.children(scopes.body.scopes[0]!.variablesReference);
    assert.equal(trap.get('cr2')?.value, '0x400000000');
    assert.equal(trap.get('rip')?.value, crashEvents[0]?.report.registers.rip);
    // Continuing lets the guest print its own account, which reaches the Debug Console and the trace.
    const ended = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    await s.dc.continueRequest({ threadId: 1 });
    await ended;
    assert.match(s.text('stdout'), /Solo5: trap: type=#PF ec=0x2 rip=0x[0-9a-f]+/);
    // Ending quietly: the console's account of the crash on screen is no notification ('important'),
    // gdb's raw `Remote connection closed` is not shown, and the exit is said in the guest's terms.
    assert.match(s.text('console'), /The console's account of the crash \(line \d+\):\npage-fault: /);
    assert.equal(s.text('important'), '');
    assert.doesNotMatch(s.text(), /Remote connection closed|QEMU exited with code/);
    assert.match(s.text('console'), /The guest exited with status 255 \(solo5_abort\(\)\)\./);
    assert.ok(crashEvents.length >= 2 && crashEvents.every((e) => e.report.platform === 'generic'), JSON.stringify(crashEvents.map((e) => e.report.platform)));
    assert.doesNotMatch(s.text('stdout'), /\r/);
  });

  it('a panic stops in solo5_abort with the panic message and its caller on the stack', async () => {
    const { frames, info } = await crashStop('panic');
    assert.equal(frames[0]?.name, 'solo5_abort');
    const caller = frames.find((f) => f.name === 'do_panic');
    assert.equal(caller?.line, marker('abort:panic').line);
    assert.match(info.body.description ?? '', /something bad: 7/);
    assert.match(s.text('stdout'), /Solo5: ABORT: .*something bad: 7/);
  });

  it('a failed assertion stops with kind assertion', async () => {
    const { frames, info } = await crashStop('assert');
    assert.equal(info.body.exceptionId, 'assertion');
    assert.match(info.body.description ?? '', /Assertion failed: answer == 42/);
    assert.equal(frames.find((f) => f.name === 'do_assert')?.line, marker('abort:assert').line);
  });

  it('stack smashing stops in __stack_chk_fail under smash_stack', async () => {
    const { frames, info } = await crashStop('smash');
    assert.equal(frames[0]?.name, '__stack_chk_fail');
    assert.equal(frames[1]?.name, 'smash_stack');
    assert.equal(frames[1]?.line, marker('smash-detect').line);
    assert.equal(info.body.exceptionId, 'stack-smash');
    assert.equal(crashEvents.length > 0, true);
  });
});

describe('a crash only the console shows', function () {
  let s: Session;
  const crashEvents: CrashEventBody[] = [];
  withSession((session) => {
    s = session;
    crashEvents.length = 0;
    s.dc.on('unikernelCrash', (e: DebugProtocol.Event) => crashEvents.push(e.body as CrashEventBody));
  });

  it('pauses a guest that panicked and stayed alive, with the console\'s report', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=halt' }, []);
    assert.equal(stop.body.reason, 'exception');
    const tid = stop.body.threadId ?? 1;
    const frames = await s.topFrames(tid);
    assert.equal(frames[0]?.name, 'halt_after_panic');
    assert.equal(frames[0]?.line, marker('halt').line);
    const info = await s.dc.exceptionInfoRequest({ threadId: tid });
    assert.equal(info.body.exceptionId, 'panic');
    assert.match(info.body.description ?? '', /fixture halted on purpose: 42/);
    const report = crashEvents.at(-1)?.report;
    // Rumprun's shape, but no Rumprun banner started this run: a generic kernel's panic.
    assert.equal(report?.platform, 'generic');
    assert.match(s.text('stdout'), /PANIC: fixture halted on purpose: 42/);
    // The stop shows it: the Debug Console says where it was read, no notification says it again.
    assert.match(s.text('console'), /Crash detected on the console \(line \d+\)/);
    assert.equal(s.text('important'), '');
  });

  it('does not stop when the Crashes filter is off', async () => {
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL, cmdline: 'mode=panic' } as never), init]);
    await s.dc.setExceptionBreakpointsRequest({ filters: [] });
    const exited = s.dc.waitForEvent('exited', STOP_TIMEOUT);
    let stopped = false;
    s.dc.on('stopped', () => (stopped = true));
    await s.dc.configurationDoneRequest();
    await exited;
    assert.equal(stopped, false);
    // The trace still reaches the Crash Trace panel, and, nothing else showing it, a notification.
    await s.waitForOutput(/Crash detected on the console/);
    assert.match(s.text('important'), /Crash detected on the console/);
  });
});

describe('a triple fault', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('stops at the faulting instruction instead of looking like a clean exit', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=triple' }, []);
    assert.equal(stop.body.reason, 'exception');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.name, 'triple_fault');
    assert.equal(frames[0]?.line, marker('triple').line);
    const info = await s.dc.exceptionInfoRequest({ threadId: stop.body.threadId ?? 1 });
    assert.equal(info.body.exceptionId, 'triple-fault');
    assert.match(info.body.description ?? '', /reset itself .* in triple_fault: a triple fault/);
  });

  it('a reset the guest asks for stops there too, instead of rebooting behind the debugger', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=reset' }, []);
    assert.equal(stop.body.reason, 'exception');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    // Stopped in the port write itself, called from the line that asked for the reset.
    assert.equal(frames[0]?.name, 'outb');
    assert.equal(frames[1]?.name, 'request_reset');
    assert.equal(frames[1]?.line, marker('reset').line);
  });

  it('a guest that powers off ends the session by itself, without a stop', async () => {
    let stopped = false;
    s.dc.on('stopped', () => (stopped = true));
    const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL, cmdline: 'mode=poweroff' } as never), init]);
    await s.dc.configurationDoneRequest();
    await terminated;
    assert.equal(stopped, false);
    assert.match(s.text('stdout'), /fixture: powering off/);
  });

  it('a normal run still ends the session by itself', async () => {
    const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
    const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL, cmdline: 'mode=normal' } as never), init]);
    const exited = s.dc.waitForEvent('exited', STOP_TIMEOUT);
    await s.dc.configurationDoneRequest();
    const ev = (await exited) as DebugProtocol.ExitedEvent;
    assert.equal(ev.body.exitCode, 41);
    assert.match(s.text('console'), /The guest exited with status 41 through isa-debug-exit \(QEMU exit code 83\)/);
    await terminated;
    assert.match(s.text('stdout'), /fixture: done counter=5/);
  });
});
