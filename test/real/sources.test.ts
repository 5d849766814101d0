/**
 * The sources of the real images are not shipped: each describe lays out empty files with the names
 * gdb reports (in a temporary tree) and launches with `cwd`/`sourceMap` pointing there. Breakpoints
 * set on those paths are hit, and every frame's source is a file of that tree.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { STOP_TIMEOUT, type Session, withSession } from '../integration/helpers';
import { SOLO5_BUILD, UK_BUILD, UK_DBG, UK_KERNEL, assertSourcesInTree, callsIn, describeReal, gdbBatch, gdbSources, layOutSources, linesAt, readVariables, solo5Image, solo5Relative, under } from './images';

/** Launches with one function breakpoint (which must verify) and waits for the first stop. */
async function startToFunction(s: Session, args: Record<string, unknown>, name: string): Promise<DebugProtocol.StoppedEvent> {
  const initialized = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
  await Promise.all([s.dc.launchRequest(args as DebugProtocol.LaunchRequestArguments), initialized]);
  const r = await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name }] });
  assert.equal(r.body.breakpoints[0]?.verified, true, `function breakpoint ${name} not verified: ${r.body.breakpoints[0]?.message}`);
  const stopped = s.dc.waitForEvent('stopped', STOP_TIMEOUT) as Promise<DebugProtocol.StoppedEvent>;
  await s.dc.configurationDoneRequest();
  return stopped;
}

/** The stack has at least two named frames, and every sourced (C) frame's variables read. */
async function assertStackAndVariables(s: Session, frames: DebugProtocol.StackFrame[], withLocals: string): Promise<void> {
  assert.ok(frames.filter((f) => f.name).length >= 2, `at least 2 named frames: ${frames.map((f) => f.name).join(', ')}`);
  for (const f of frames.filter((x) => x.source?.path)) {
    const n = await readVariables(s, f.id);
    if (f.name === withLocals) assert.ok(n > 0, `${withLocals} shows its variables`);
  }
}

describeReal('real images: Solo5 test_hello and test_exception with a laid-out Solo5 tree', function () {
  let s: Session;
  withSession((session) => (s = session));
  let tree: string;
  let bpLine: number;

  before(function () {
    const names = [...new Set([...gdbSources(solo5Image('test_hello')), ...gdbSources(solo5Image('test_exception'))])];
    tree = layOutSources(names, solo5Relative, 'solo5');
    // A line of solo5_app_main's own body with code: the one of its first call to solo5_console_write
    // below its declaration (the calls above come from the inlined puts).
    const elf = solo5Image('test_hello');
    const decl = Number(/^(\d+):\s+int solo5_app_main\(/m.exec(gdbBatch(elf, ['info functions ^solo5_app_main$']))?.[1]);
    const lines = linesAt(elf, callsIn(elf, 'solo5_app_main', 'solo5_console_write'));
    const own = lines.find((l) => l?.file.endsWith('test_hello.c') && l.line > decl);
    assert.ok(own, `a call to solo5_console_write in solo5_app_main's body: ${JSON.stringify(lines)}`);
    bpLine = own.line;
  });
  after(() => tree && rmSync(tree, { recursive: true, force: true }));

  const launch = (test: string): Record<string, unknown> => ({ kernel: solo5Image(test), cwd: tree, sourceMap: { [SOLO5_BUILD]: tree } });

  it('a line breakpoint in solo5_app_main (test_hello.c in the tree) is verified and hit; stack, variables and sources read', async () => {
    const path = join(tree, 'tests/test_hello/test_hello.c');
    const stop = await s.startTo('launch', launch('test_hello'), [{ path, line: bpLine }]);
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await assertSourcesInTree(s, stop.body.threadId ?? 1, solo5Image('test_hello'), tree);
    assert.equal(frames[0]?.name, 'solo5_app_main');
    assert.equal(frames[0]?.source?.path, path);
    assert.equal(frames[0]?.line, bpLine);
    await assertStackAndVariables(s, frames, 'solo5_app_main');
  });

  it('a function breakpoint on solo5_console_write is hit, called from solo5_app_main; sources are in the tree', async () => {
    const stop = await startToFunction(s, launch('test_hello'), 'solo5_console_write');
    assert.equal(stop.body.reason, 'function breakpoint');
    const frames = await assertSourcesInTree(s, stop.body.threadId ?? 1, solo5Image('test_hello'), tree);
    assert.equal(frames[0]?.name, 'solo5_console_write');
    assert.equal(frames[0]?.source?.path, join(tree, 'bindings/virtio/platform.c'));
    assert.ok(frames.some((f) => f.name === 'solo5_app_main'), 'solo5_app_main on the stack');
    await assertStackAndVariables(s, frames, 'solo5_console_write');
  });

  it('the crash stop of test_exception: every frame\'s source is in the tree, the first is test_exception.c:34', async () => {
    const stop = await s.startTo('launch', launch('test_exception'), []);
    assert.equal(stop.body.reason, 'exception');
    const frames = await assertSourcesInTree(s, stop.body.threadId ?? 1, solo5Image('test_exception'), tree);
    const first = frames.find((f) => f.source?.path);
    assert.equal(first?.source?.path, join(tree, 'tests/test_exception/test_exception.c'));
    assert.equal(first?.line, 34);
  });
});

describeReal('real images: Unikraft helloworld with a laid-out app tree', function () {
  let s: Session;
  withSession((session) => (s = session));
  let tree: string;
  let bpLine: number;

  before(function () {
    tree = layOutSources(gdbSources(UK_DBG), (n) => under(UK_BUILD, n), 'unikraft');
    // The line that prints "Hello world!": the one of main.c's main's first call to printf.
    const [at] = linesAt(UK_DBG, callsIn(UK_DBG, "'main.c'::main", 'printf').slice(0, 1));
    assert.equal(at?.file, `${UK_BUILD}/main.c`);
    bpLine = at.line;
  });
  after(() => tree && rmSync(tree, { recursive: true, force: true }));

  const launch = (): Record<string, unknown> => ({ kernel: UK_KERNEL, sourceMap: { [UK_BUILD]: tree } });

  it('a line breakpoint on main.c\'s printf("Hello world!") is verified and hit; stack, variables and sources read', async () => {
    const path = join(tree, 'main.c');
    const stop = await s.startTo('launch', launch(), [{ path, line: bpLine }]);
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await assertSourcesInTree(s, stop.body.threadId ?? 1, UK_DBG, tree);
    assert.equal(frames[0]?.name, 'main');
    assert.equal(frames[0]?.source?.path, path);
    assert.equal(frames[0]?.line, bpLine);
    await assertStackAndVariables(s, frames, 'main');
  });

  it('a function breakpoint on printf is hit, with main below it; sources are in the tree', async () => {
    const stop = await startToFunction(s, launch(), 'printf');
    assert.equal(stop.body.reason, 'function breakpoint');
    const frames = await assertSourcesInTree(s, stop.body.threadId ?? 1, UK_DBG, tree);
    assert.equal(frames[0]?.name, 'printf');
    assert.equal(frames[0]?.source?.path, join(tree, 'workdir/unikraft/lib/nolibc/stdio.c'));
    assert.equal(frames[1]?.name, 'main');
    await assertStackAndVariables(s, frames, 'printf');
  });
});
