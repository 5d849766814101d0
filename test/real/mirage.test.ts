/**
 * The MirageOS-style image: OCaml compiled with -g on Solo5. Its two sources ship with the image, so a
 * sourceMap from the build prefix to the images' folder opens the OCaml frames.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Session, withSession } from '../integration/helpers';
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
