/**
 * Guest threads on the real Unikraft 0.17 helloworld: stopped at `main`, the Call Stack view shows
 * uksched's threads, `init` (which runs main) and `idle` (never run yet: its own entry frame).
 */
import assert from 'node:assert/strict';
import { type Session, withSession } from '../integration/helpers';
import { UK_KERNEL, describeReal } from './images';

describeReal('real images: guest threads', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('Unikraft helloworld at main: init (running main) and idle (at idle_thread_fn)', async () => {
    const stop = await s.startTo('launch', { kernel: UK_KERNEL, stopAtEntry: true }, []);
    const threads = (await s.dc.threadsRequest()).body.threads;
    assert.deepEqual(threads.map((t) => t.name).sort(), ['idle (runnable, not started)', 'init']);
    const init = threads.find((t) => t.name === 'init')!;
    const idle = threads.find((t) => t.name.startsWith('idle'))!;
    assert.equal(stop.body.threadId, init.id, 'the stop is on init');
    assert.ok((await s.topFrames(init.id)).some((f) => f.name === 'main'), 'main is in init\'s stack');
    const idleFrames = await s.topFrames(idle.id);
    assert.equal(idleFrames[0]?.name, 'idle_thread_fn', `idle: ${idleFrames.map((f) => f.name).join(' <- ')}`);
    assert.equal(idleFrames[idleFrames.length - 1]?.name, 'idle_thread_fn', 'nothing below its entry');
    // looking at idle left the CPU where it was
    assert.equal((await s.topFrames(init.id))[0]?.name, 'main');
  });
});
