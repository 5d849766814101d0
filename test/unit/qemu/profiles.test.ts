import assert from 'node:assert/strict';
import { PROFILES, detectPlatform, rumprunConfig, type ImageFacts } from '../../../src/qemu/profiles';
import { planQemu } from '../../../src/qemu/plan';
import type { BootImage as ElfInfo } from '../../../src/qemu/bootImage';

const info = (over: Partial<ElfInfo> = {}): ElfInfo => ({
  path: '/x', bits: 64, machine: 'x86_64', entry: 0x100000n, multibootOffset: 0x1000, multibootFlags: 0x10003,
  hasDebugInfo: true, hasSymbols: true, sectionNames: [], ...over,
});
const facts = (path: string, symbols: string[] = [], nearConfigMl = false): ImageFacts => ({ path, info: info({ path }), symbols: new Set(symbols), nearConfigMl });

describe('platform detection', () => {
  it('knows each platform by its tell-tale symbols', () => {
    assert.equal(detectPlatform(facts('/w/app', ['bmk_sched_init'])).name, 'rumprun');
    assert.equal(detectPlatform(facts('/w/app', ['solo5_app_main'])).name, 'mirage');
    assert.equal(detectPlatform(facts('/w/app', ['ukplat_entry'])).name, 'unikraft');
    assert.equal(detectPlatform(facts('/w/app')).name, 'generic');
  });

  it('knows each platform by its file names and surroundings', () => {
    assert.equal(detectPlatform(facts('/w/dist/https.virtio')).name, 'mirage');
    assert.equal(detectPlatform(facts('/w/unikernel.hvt')).name, 'mirage');
    assert.equal(detectPlatform(facts('/w/hello.bin')).name, 'rumprun');
    assert.equal(detectPlatform(facts('/w/build/helloworld_qemu-x86_64')).name, 'unikraft');
    assert.equal(detectPlatform(facts('/w/kernel.elf', [], true)).name, 'mirage');
  });

  it('symbols outweigh file names', () => {
    assert.equal(detectPlatform(facts('/w/hello.bin', ['ukplat_entry'])).name, 'unikraft');
  });

  it('explains that Solo5 hvt needs KVM', () => {
    assert.match(PROFILES.mirage.launchProblem?.(facts('/w/a.hvt')) ?? '', /hvt.*KVM.*virtio/);
    assert.equal(PROFILES.mirage.launchProblem?.(facts('/w/a.virtio')), undefined);
  });
});

describe('Rumprun configuration', () => {
  it('writes the JSON command line from argv, net and disks', () => {
    const json = rumprunConfig({ kernel: '/w/hello.bin', cmdline: '--greeting="hi there" 42', net: {}, disks: [{ path: '/d.img', mountpoint: '/data' }] });
    const parsed = JSON.parse(json) as { cmdline: string; net: { if: string }; blk: { mountpoint: string } };
    assert.equal(parsed.cmdline, 'hello.bin --greeting="hi there" 42');
    assert.equal(parsed.net.if, 'vioif0');
    assert.equal(parsed.blk.mountpoint, '/data');
  });

  it('adds the QEMU devices for net and disks, with commas in paths doubled', () => {
    const args = PROFILES.rumprun.qemuArgs({ kernel: '/k', net: { hostfwd: ['tcp::8080-:80'] }, disks: [{ path: '/a,b.img' }] });
    assert.deepEqual(args, [
      '-netdev', 'user,id=net0,hostfwd=tcp::8080-:80', '-device', 'virtio-net-pci,netdev=net0',
      '-drive', 'if=virtio,format=raw,id=disk0,file=/a,,b.img',
    ]);
  });

  it('puts the disks of a recorded guest behind blkreplay, on a throw-away layer', () => {
    const args = PROFILES.generic.qemuArgs({ kernel: '/k', disks: [{ path: '/a,b.img' }], recorded: true });
    assert.deepEqual(args, [
      '-drive', 'if=none,format=raw,id=disk0-direct,file=/a,,b.img,snapshot=on',
      '-drive', 'driver=blkreplay,if=none,image=disk0-direct,id=disk0',
      '-device', 'virtio-blk-pci,drive=disk0',
    ]);
  });
});

describe('QEMU plan', () => {
  const plan = planQemu({ kernel: '/img', cmdline: 'a b', privateDir: '/p,q', consoleLog: '/p,q/c.log', cpus: 2, memoryMiB: 256 });

  it('uses TCG, no default devices, and pauses resets so triple faults can be caught', () => {
    assert.deepEqual(plan.args.slice(0, 7), ['-accel', 'tcg', '-nodefaults', '-display', 'none', '-action', 'reboot=shutdown,shutdown=pause']);
    assert.ok(plan.args.includes('-S'));
  });

  it('puts the stub, console and QMP on Unix sockets in the private directory, never TCP', () => {
    assert.equal(plan.gdbSocket, '/p,q/gdb.sock');
    const gdbArg = plan.args[plan.args.indexOf('-gdb') + 1];
    assert.equal(gdbArg, 'unix:/p,,q/gdb.sock,server=on,wait=off');
    assert.ok(!plan.args.some((a) => /tcp:/.test(a)));
    assert.ok(plan.args.some((a) => a.startsWith('socket,id=console,path=/p,,q/console.sock') && a.includes('logfile=/p,,q/c.log')));
  });

  it('passes the command line, memory and vCPUs as separate arguments', () => {
    assert.equal(plan.args[plan.args.indexOf('-append') + 1], 'a b');
    assert.equal(plan.args[plan.args.indexOf('-m') + 1], '256');
    assert.equal(plan.args[plan.args.indexOf('-smp') + 1], '2');
  });
});
