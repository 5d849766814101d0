/**
 * F5 with stopAtEntry and no platform on every real image: the platform is detected and the session
 * stops at the application's entry, not at the boot code.
 */
import assert from 'node:assert/strict';
import { type Session, withSession } from '../integration/helpers';
import { MIRAGE_KERNEL, SOLO5_TESTS, UK_BUILD, UK_DBG, UK_KERNEL, describeReal, linesAt, solo5Image } from './images';

describeReal('real images: stopAtEntry stops at the application entry', function () {
  let s: Session;
  withSession((session) => (s = session));

  before(function () {
    for (const t of ['test_hello', 'test_exception', 'test_globals']) assert.ok(SOLO5_TESTS.includes(t), `${t}.virtio among the Solo5 images`);
  });

  async function entryFrame(kernel: string) {
    const stop = await s.startTo('launch', { kernel, stopAtEntry: true }, []);
    assert.equal(stop.body.reason, 'entry', `stop reason (${stop.body.description ?? ''})`);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.ok(frames[0], 'a top frame');
    return frames[0];
  }

  for (const test of SOLO5_TESTS) {
    it(`Solo5 ${test}.virtio: solo5_app_main`, async () => {
      assert.equal((await entryFrame(solo5Image(test))).name, 'solo5_app_main');
    });
  }

  it('Unikraft helloworld (.dbg found next to the ELF32 image): the app\'s main in main.c, not the weak fallback', async () => {
    const top = await entryFrame(UK_KERNEL);
    assert.equal(top.name, 'main');
    // Two functions are called main: where the pc is says which one this is.
    assert.ok(top.instructionPointerReference, 'the top frame has its address');
    const [at] = linesAt(UK_DBG, [BigInt(top.instructionPointerReference)]);
    assert.equal(at?.file, `${UK_BUILD}/main.c`, `the pc ${top.instructionPointerReference} is in main.c's main`);
  });

  it('MirageOS hello.virtio (OCaml on Solo5): solo5_app_main', async () => {
    assert.equal((await entryFrame(MIRAGE_KERNEL)).name, 'solo5_app_main');
  });
});
