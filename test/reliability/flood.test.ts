/**
 * A guest that floods its console does not flood VS Code, and the session stays responsive.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KERNEL, Session, withSession } from '../integration/helpers';

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

describe('a console flood', function () {
  let s: Session;
  withSession((session) => (s = session));

  it('is summarised in the Debug Console while the adapter keeps answering, with bounded memory', async () => {
    await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=flood', stopAtEntry: 'flood', consoleRateLimit: 4096 }, []);
    await s.dc.continueRequest({ threadId: 1 });
    await s.waitForOutput(/characters of console output not shown here/);
    const threads = await s.dc.threadsRequest();
    assert.equal(threads.body.threads.length, 1);
    const paused = await s.resumeTo(() => s.dc.pauseRequest({ threadId: 1 }));
    assert.equal(paused.body.reason, 'pause');
    const shown = s.text('stdout').length;
    // A summary, not the flood: the guest wrote far more than a few hundred KiB per second shown.
    assert.ok(shown < 64 << 10, `shown ${shown} characters`);
    assert.ok(rssMiB(s.adapterPid!) < 300, 'adapter memory stays bounded');
  });
});
