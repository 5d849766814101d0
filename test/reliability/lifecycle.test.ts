/**
 * Nothing outlives a session: not when it ends normally, not when the adapter is killed.
 */
import assert from 'node:assert/strict';
import { existsSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { KERNEL, Session, assertNoLeftovers, marker, sessionProcesses } from '../integration/helpers';

/** The private directory of the one session QEMU started after `before`. */
function privateDirOfNewQemu(before: Map<number, string>): string {
  const now = [...sessionProcesses()].filter(([pid]) => !before.has(pid));
  // This also proves the leftover check sees the session's processes at all.
  assert.equal(now.filter(([, cmd]) => /^\S*gdb /.test(cmd)).length, 1, 'one gdb for the session');
  const mine = now.filter(([, cmd]) => /qemu-system/.test(cmd));
  assert.equal(mine.length, 1, 'one QEMU for the session');
  const m = mine[0]![1].match(/(\/\S*unikernel-debug-[^/\s]+)\/gdb\.sock/);
  assert.ok(m, 'QEMU has its sockets in a private directory');
  return m[1]!;
}

function gone(path: string): Promise<void> {
  return new Promise((resolve) => {
    const w = watch(tmpdir(), (_event, name) => {
      if (name === basename(path) && !existsSync(path)) {
        w.close();
        resolve();
      }
    });
    if (!existsSync(path)) {
      w.close();
      resolve();
    }
  });
}

describe('process lifecycle', function () {
  let before: Map<number, string>;
  beforeEach(() => {
    before = sessionProcesses();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`QEMU, gdb and the private directory go when the adapter gets ${signal}`, async () => {
      const s = new Session();
      await s.start();
      await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
      const dir = privateDirOfNewQemu(before);
      const removed = gone(dir);
      const pid = s.adapterPid;
      assert.ok(pid);
      process.kill(pid, signal);
      await removed;
      // The adapter is gone: nobody would answer a disconnect.
      s.forget();
      assertNoLeftovers(before);
    });
  }

  it('the private directory is 0700 and holds the stub and console sockets', async () => {
    const s = new Session();
    await s.start();
    try {
      await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
      const dir = privateDirOfNewQemu(before);
      const { statSync } = await import('node:fs');
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.ok(statSync(`${dir}/gdb.sock`).isSocket());
      assert.ok(statSync(`${dir}/console.sock`).isSocket());
    } finally {
      await s.stop();
    }
    assertNoLeftovers(before);
  });
});
