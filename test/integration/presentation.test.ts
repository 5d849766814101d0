/**
 * How values and failures read in VS Code's panels: a watch that fails says so inline (its error
 * response asks for no notification), character buffers in gdb's repeat form, one placeholder for a
 * collapsed aggregate, a watched aggregate with gdb's one-line print of it.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KERNEL, Session, marker, withSession } from './helpers';

/** The raw response (the test support turns a failure into an Error without its body). */
function rawRequest(s: Session, command: string, args: object): Promise<DebugProtocol.Response> {
  const dc = s.dc as unknown as { doSend(command: string, args: object, clb: (r: DebugProtocol.Response) => void): void };
  return new Promise((resolve) => dc.doSend(command, args, resolve));
}

describe('values and failures as the panels show them', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('a failing watch or hover answers an error shown inline, never a notification', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('inspect-shape')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    for (const context of ['watch', 'hover']) {
      const r = (await rawRequest(s, 'evaluate', { expression: 'sum', frameId: frames[0]!.id, context })) as DebugProtocol.ErrorResponse;
      assert.equal(r.success, false);
      assert.equal(r.body.error?.format, '{_error}');
      assert.equal(r.body.error?.variables?._error, 'No symbol "sum" in current context.');
      assert.equal(r.body.error?.showUser, false, `${context}: no notification`);
    }
    // A watch that works in one frame and not in another: no output, no notification either.
    assert.equal(s.text('important'), '');
  });

  it('shows a char buffer in gdb\'s repeat form, collapsed aggregates as {…}, a watched struct as gdb prints it', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('inspect-shape')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    const caller = frames[1]!;
    assert.equal(caller.name, 'make_shape');
    const locals = await s.locals(caller.id);
    assert.equal(locals.get('s')?.value, '{…}');
    const members = await s.children(locals.get('s')!.variablesReference);
    assert.equal(members.get('name')?.value, `"square", '\\000' <repeats 9 times>`);
    assert.equal(members.get('origin')?.value, '{…}');
    assert.equal(members.get('sides')?.value, '[4]');
    const name = await s.dc.evaluateRequest({ expression: 's.name', frameId: caller.id, context: 'watch' });
    assert.equal(name.body.result, `"square", '\\000' <repeats 9 times>`);
    const origin = await s.dc.evaluateRequest({ expression: 's.origin', frameId: caller.id, context: 'hover' });
    assert.equal(origin.body.result, '{x = 3, y = 4}');
    assert.ok(origin.body.variablesReference > 0, 'still expands');
    const sides = await s.dc.evaluateRequest({ expression: 's.sides', frameId: caller.id, context: 'watch' });
    assert.equal(sides.body.result, '{10, 20, 30, 40}');
  });
});
