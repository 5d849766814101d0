/**
 * The MirageOS-style image: OCaml compiled with -g on Solo5. Its two sources ship with the image, so a
 * sourceMap from the build prefix to the images' folder opens the OCaml frames.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { STOP_TIMEOUT, type Session, withSession } from '../integration/helpers';
import { MIRAGE, MIRAGE_BUILD, MIRAGE_KERNEL, describeReal } from './images';

describeReal('real images: MirageOS hello.ml', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('a breakpoint at hello.ml:15 is hit, and the top frame is that line of hello.ml', async () => {
    const path = join(MIRAGE, 'hello.ml');
    // Line 15's code is the raise alone (the test of `crash` belongs to line 13): only "crash" runs it.
    const stop = await s.startTo('launch', { kernel: MIRAGE_KERNEL, cmdline: 'crash', sourceMap: { [MIRAGE_BUILD]: MIRAGE } }, [{ path, line: 15 }]);
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames[0]?.source?.path, path);
    assert.equal(frames[0]?.line, 15);
    assert.match(frames[0]?.name ?? '', /depth/);
  });
});

describeReal('real images: MirageOS as OCaml', function () {
  let s: Session;
  withSession((session) => (s = session));
  const sourceMap = { [MIRAGE_BUILD]: MIRAGE };

  it('frames read as OCaml names: Hello.depth × 4 < Hello.main < Hello (module init)', async () => {
    const stop = await s.startTo('launch', { kernel: MIRAGE_KERNEL, cmdline: 'crash', sourceMap }, [{ path: join(MIRAGE, 'hello.ml'), line: 15 }]);
    const names = (await s.topFrames(stop.body.threadId ?? 1, 6)).map((f) => f.name);
    assert.deepEqual(names, ['Hello.depth', 'Hello.depth', 'Hello.depth', 'Hello.depth', 'Hello.main', 'Hello (module init)']);
  });

  it('a function breakpoint on Hello.greet is hit, and its argument reads as the OCaml value 42', async () => {
    const stop = await s.startTo('launch', { kernel: MIRAGE_KERNEL, cmdline: 'none', sourceMap }, [], ['Hello.greet']);
    assert.equal(stop.body.reason, 'function breakpoint');
    const [top] = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(top?.name, 'Hello.greet');
    const scopes = await s.dc.scopesRequest({ frameId: top!.id });
    const args = scopes.body.scopes.find((sc) => /^Arguments/.test(sc.name));
    assert.ok(args, `an arguments scope among ${scopes.body.scopes.map((sc) => sc.name).join(', ')}`);
    const vars = await s.dc.variablesRequest({ variablesReference: args.variablesReference });
    assert.equal(vars.body.variables[0]?.value, '42');
  });

  it('an uncaught Failure stops at the raise in Hello.depth (hello.ml:15), before the stack unwinds, and says which', async () => {
    const stop = await s.startTo('launch', { kernel: MIRAGE_KERNEL, cmdline: 'crash', sourceMap }, []);
    assert.equal(stop.body.reason, 'exception');
    const frames = await s.topFrames(stop.body.threadId ?? 1, 8);
    const first = frames.find((f) => f.source?.path);
    assert.equal(first?.name, 'Hello.depth');
    assert.equal(first?.line, 15);
    assert.equal(frames.filter((f) => f.name === 'Hello.depth').length, 4, 'the raising frames are all there');
    const info = await s.dc.exceptionInfoRequest({ threadId: stop.body.threadId ?? 1 });
    assert.equal(info.body.description, 'Failure("deliberate")');
    assert.match(info.body.details?.stackTrace ?? '', /Hello\.depth \[camlHello__depth_\d+\]/, 'the linker name stays available');
    // Going on, the runtime reports the same exception: that is not a second stop.
    const exited = s.dc.waitForEvent('exited', 30_000);
    await s.dc.continueRequest({ threadId: stop.body.threadId ?? 1 });
    assert.equal(((await exited) as { body: { exitCode: number } }).body.exitCode, 2);
  });

  it('at the innermost Hello.depth call its arguments are 0 and true, and Hello.counter holds 10', async () => {
    const initialized = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
    await Promise.all([s.dc.launchRequest({ kernel: MIRAGE_KERNEL, cmdline: 'crash', sourceMap } as never), initialized]);
    // The fourth call is the innermost: depth 3 → 2 → 1 → 0.
    await s.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'Hello.depth', hitCondition: '4' }] });
    const stop = await s.resumeTo(() => s.dc.configurationDoneRequest());
    const [top] = await s.topFrames(stop.body.threadId ?? 1);
    const scopes = await s.dc.scopesRequest({ frameId: top!.id });
    const values = async (name: RegExp): Promise<string[]> => {
      const scope = scopes.body.scopes.find((sc) => name.test(sc.name));
      assert.ok(scope, `scope ${name}`);
      return (await s.dc.variablesRequest({ variablesReference: scope.variablesReference })).body.variables.map((v) => v.value);
    };
    const args = await values(/^Arguments/);
    assert.equal(args[0], '0 (false)');
    assert.match(args[1] ?? '', /\(true\)$/);
    const globals = await values(/^Module Hello$/);
    assert.match(globals[0] ?? '', /\b10\b/, 'field 0 is the counter ref, after bump_counter');
    const counter = await s.dc.evaluateRequest({ expression: 'ocaml: *(long *)&camlHello', frameId: top!.id, context: 'watch' });
    assert.match(counter.body.result, /10/);
  });
});
