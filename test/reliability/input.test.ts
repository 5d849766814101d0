/**
 * Bad input from the guest and from the configuration: binary console garbage, truncated images,
 * hostile paths, planted gdb init files, a TCP target nobody listens on.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL, Session, marker, withSession } from '../integration/helpers';

describe('bad input', function () {
  let s: Session;
  let dir: string;
  withSession((session) => (s = session));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'input-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('binary garbage and an endless line on the console: the crash after it is still caught', async () => {
    const stop = await s.startTo('launch', { kernel: KERNEL, cmdline: 'mode=garbage' }, []);
    assert.equal(stop.body.reason, 'exception');
    const info = await s.dc.exceptionInfoRequest({ threadId: stop.body.threadId ?? 1 });
    assert.match(info.body.description ?? '', /after the garbage: 9/);
    const frames = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(frames.find((f) => f.name === 'write_garbage')?.line, marker('abort:garbage').line);
    assert.equal((await s.dc.threadsRequest()).body.threads.length, 1);
  });

  it('a truncated image', async () => {
    const cut = join(dir, 'cut.elf');
    writeFileSync(cut, readFileSync(KERNEL).subarray(0, 3000));
    await assert.rejects(s.dc.launchRequest({ kernel: cut } as never), /is truncated or damaged/);
  });

  it('a kernel path with spaces, quotes and $(…) boots, and runs nothing else', async () => {
    const weird = join(dir, `we ird "q" 'x' $(touch ${join(dir, 'PWNED')}) ;touch ${join(dir, 'PWNED2')}`);
    mkdirSync(weird, { recursive: true });
    const kernel = join(weird, 'kernel $(id).elf');
    copyFileSync(KERNEL, kernel);
    const stop = await s.startTo('launch', { kernel, cmdline: `mode=normal $(touch ${join(dir, 'PWNED3')})` }, [marker('compute')]);
    assert.equal(stop.body.reason, 'breakpoint');
    for (const f of ['PWNED', 'PWNED2', 'PWNED3']) assert.equal(existsSync(join(dir, f)), false, `${f} was created`);
  });

  it('gdb init files do not run unless the user opts in', async () => {
    // Planted both in the workspace and in the home directory (which gdb reads without -nx).
    const planted = join(dir, 'PLANTED');
    writeFileSync(join(dir, '.gdbinit'), `shell touch ${planted}\n`);
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.gdbinit'), `shell touch ${planted}\n`);
    for (const optIn of [false, true]) {
      const own = new Session({ HOME: home });
      await own.start();
      try {
        const stop = await own.startTo('launch', { kernel: KERNEL, cwd: dir, gdbInitFiles: optIn }, [marker('compute')]);
        assert.equal(stop.body.reason, 'breakpoint');
        assert.equal(existsSync(planted), optIn, optIn ? 'with gdbInitFiles the init file runs' : 'without, it does not');
      } finally {
        await own.stop();
      }
    }
  });

  it('a TCP target nobody listens on fails at once with the reason', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    await assert.rejects(s.dc.attachRequest({ target: `127.0.0.1:${port}`, symbols: KERNEL } as never), /could not connect .*Connection refused/);
  });
});
