/**
 * Safe by default: the stub listens on nothing reachable from another machine, and text typed by
 * a user cannot smuggle a second command into gdb.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { KERNEL, Session, marker, sessionProcesses, withSession } from '../integration/helpers';

/** Socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}

/** TCP sockets in LISTEN state (st 0A), by inode, with their local address. */
function tcpListeners(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[9]) out.set(f[9], f[1] ?? '');
    }
  }
  return out;
}

describe('security', function () {
  let s: Session;
  let before: Map<number, string>;
  withSession((session, b) => {
    s = session;
    before = b;
  });

  it('QEMU and gdb listen on no TCP port at all', async () => {
    await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
    const mine = [...sessionProcesses()].filter(([pid]) => !before.has(pid));
    assert.equal(mine.length, 2);
    const listeners = tcpListeners();
    for (const [pid, cmd] of mine) {
      const listening = [...socketInodes(pid)].filter((i) => listeners.has(i));
      assert.deepEqual(listening, [], `${cmd.split(' ')[0]} listens on TCP ${listening.map((i) => listeners.get(i)).join(', ')}`);
    }
  });

  it('an expression with a newline or quotes cannot run a second gdb command', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    const frameId = frames[0]!.id;
    for (const expression of ['sum\n-gdb-exit', 'sum"\n-gdb-exit\n"', 'sum\\n-gdb-exit']) {
      await s.dc.evaluateRequest({ expression, frameId, context: 'watch' }).catch(() => undefined);
    }
    await s.dc.evaluateRequest({ expression: 'print 1\n-gdb-exit', frameId, context: 'repl' }).catch(() => undefined);
    await s.dc.setBreakpointsRequest({ source: { path: '/tmp/x"\n-gdb-exit\n.c' }, breakpoints: [{ line: 1, condition: '1"\n-gdb-exit' }] }).catch(() => undefined);
    // gdb is still there and still answers.
    const v = await s.dc.evaluateRequest({ expression: 'sum', frameId, context: 'watch' });
    assert.equal(v.body.result, '13');
    assert.equal([...sessionProcesses()].filter(([pid, cmd]) => !before.has(pid) && /^\S*gdb /.test(cmd)).length, 1);
  });
});
