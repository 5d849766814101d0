/**
 * One launch per platform profile, each through detection (no "platform" given): the app's main
 * is hit and an argument that came from `cmdline` reads back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { BUILD, Session, marker, withSession } from './helpers';

describe('platform profiles', function () {
  let s: Session;
  withSession((session) => (s = session));

  async function evaluate(frameId: number, expression: string): Promise<string> {
    return (await s.dc.evaluateRequest({ expression, frameId, context: 'watch' })).body.result;
  }

  it('Rumprun: the JSON configuration is written from cmdline, and main gets its argv', async () => {
    const stop = await s.startTo('launch', { kernel: join(BUILD, 'hello-rumprun.bin'), cmdline: '--greeting=hi 42' }, [marker('rumprun-main')]);
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'main');
    assert.ok(f.some((x) => x.name === 'rumprun_main'), 'the boot code below main is shown');
    assert.equal(await evaluate(f[0]!.id, 'argc'), '3');
    assert.match(await evaluate(f[0]!.id, 'argv[1]'), /"--greeting=hi"/);
    assert.match(s.text('console'), /Rumprun: platform "rumprun" \(detected\), booting /);
    await s.waitForOutput(/=== calling "hello-rumprun.bin" main\(\) ===/);
  });

  it('MirageOS/Solo5 virtio: boot parameters reach solo5_app_main, and the exit ends the session', async () => {
    const stop = await s.startTo('launch', { kernel: join(BUILD, 'hello.virtio'), cmdline: '--ipv4=10.0.0.2/24 --hello=world' }, [marker('solo5-main')]);
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'solo5_app_main');
    assert.match(await evaluate(f[0]!.id, 'si->cmdline'), /"--ipv4=10.0.0.2\/24 --hello=world"/);
    assert.match(s.text('console'), /MirageOS \(Solo5 virtio\): platform "mirage" \(detected\), booting /);
    const exited = s.dc.waitForEvent('exited', 30_000);
    await s.dc.continueRequest({ threadId: 1 });
    assert.equal(((await exited) as DebugProtocol.ExitedEvent).body.exitCode, 0);
    await s.waitForOutput(/hello: ipv4=10\.0\.0\.2\/24 hello=world/);
  });

  it('Unikraft: the ELF32 image boots, symbols come from the .dbg by themselves, main gets the app arguments', async () => {
    const stop = await s.startTo('launch', { kernel: join(BUILD, 'hello_qemu-x86_64'), cmdline: 'vfs.fstab=none -- hello 42' }, [marker('unikraft-main')]);
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'main');
    assert.equal(await evaluate(f[0]!.id, 'argc'), '3');
    assert.match(await evaluate(f[0]!.id, 'argv[2]'), /"42"/);
    assert.match(s.text('console'), /Unikraft: platform "unikraft" \(detected\), booting /);
  });

  it('stopAtEntry: true stops at the platform\'s application entry', async () => {
    const stop = await s.startTo('launch', { kernel: join(BUILD, 'hello.virtio'), stopAtEntry: true }, []);
    assert.equal(stop.body.reason, 'entry');
    const f = await s.topFrames(stop.body.threadId ?? 1);
    assert.equal(f[0]?.name, 'solo5_app_main');
  });

  it('a Solo5 hvt image gets one sentence on what to do instead', async () => {
    const { copyFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'hvt-'));
    try {
      copyFileSync(join(BUILD, 'hello.virtio'), join(dir, 'hello.hvt'));
      await assert.rejects(s.dc.launchRequest({ kernel: join(dir, 'hello.hvt') } as never), /Solo5 hvt image.*KVM.*virtio/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
