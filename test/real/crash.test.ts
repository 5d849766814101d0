/**
 * A real Solo5 crash under the default exception filters: test_exception writes to an unmapped
 * address in solo5_app_main (test_exception.c:34, cr2 0x400000000).
 */
import assert from 'node:assert/strict';
import { type Session, withSession } from '../integration/helpers';
import { describeReal, solo5Image } from './images';

describeReal('real images: the Solo5 page fault of test_exception', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('stops with reason exception at test_exception.c:34 in solo5_app_main, and exceptionInfo tells the fault', async () => {
    const stop = await s.startTo('launch', { kernel: solo5Image('test_exception') }, []);
    assert.equal(stop.body.reason, 'exception', `stop reason (${stop.body.description ?? ''})`);
    const tid = stop.body.threadId ?? 1;
    const frames = await s.topFrames(tid, 50);
    const first = frames.find((f) => f.source?.path);
    assert.ok(first, `a frame with a source among: ${frames.map((f) => f.name).join(', ')}`);
    assert.equal(first.name, 'solo5_app_main');
    assert.match(first.source!.path!, /(^|\/)test_exception\.c$/);
    assert.equal(first.line, 34);
    const info = await s.dc.exceptionInfoRequest({ threadId: tid });
    assert.match(`${info.body.description ?? ''}\n${info.body.details?.stackTrace ?? ''}`, /solo5_app_main/);
    assert.match(JSON.stringify(info.body.details ?? {}), /cr2=0x400000000/);
  });
});
