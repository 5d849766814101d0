/**
 * Bad input ends in one sentence a person can act on, and nothing is left running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL, Session, UK_IMAGE, assertNoLeftovers, marker, sessionProcesses } from './helpers';

describe('launch errors', function () {
  let s: Session;
  let before: Map<number, string>;
  let dir: string;

  beforeEach(async () => {
    before = sessionProcesses();
    dir = mkdtempSync(join(tmpdir(), 'errors-test-'));
    s = new Session();
    await s.start();
  });

  afterEach(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
    assertNoLeftovers(before);
  });

  const launchFails = (args: Record<string, unknown>, message: RegExp): Promise<void> =>
    assert.rejects(s.dc.launchRequest(args as never), (e: Error) => {
      assert.match(e.message, message);
      // One sentence, no stack dump.
      assert.doesNotMatch(e.message, /\n\s+at /);
      return true;
    });

  it('a missing kernel', () => launchFails({}, /"kernel" is missing/));

  it('an image that does not exist', () => launchFails({ kernel: join(dir, 'nope.elf') }, /does not exist; build it first/));

  it('an empty image', () => {
    writeFileSync(join(dir, 'empty.elf'), '');
    return launchFails({ kernel: join(dir, 'empty.elf') }, /is empty/);
  });

  it('an image that is not ELF', () => {
    writeFileSync(join(dir, 'text.elf'), 'hello, this is not an ELF file at all\n'.repeat(4));
    return launchFails({ kernel: join(dir, 'text.elf') }, /is not an ELF file/);
  });

  it('32-bit symbols for a 64-bit guest', () =>
    launchFails({ kernel: UK_IMAGE, symbols: UK_IMAGE }, /32-bit ELF.*Remote 'g' packet reply is too long/));

  it('a 32-bit boot image with no .dbg next to it', () => {
    const image = join(dir, 'app_qemu-x86_64');
    copyFileSync(UK_IMAGE, image);
    return launchFails({ kernel: image }, /no 64-bit debug file was found next to it/);
  });

  it('QEMU not installed', () => launchFails({ kernel: KERNEL, qemuPath: join(dir, 'no-qemu') }, /was not found; install QEMU/));

  it('gdb not installed', () => launchFails({ kernel: KERNEL, gdbPath: join(dir, 'no-gdb') }, /gdb was not found/));

  it('QEMU refusing its arguments shows QEMU\'s own words', () =>
    launchFails({ kernel: KERNEL, qemuArgs: ['-no-such-option'] }, /QEMU stopped before the guest could start.*no-such-option/));

  it('attributes of the wrong type', () => launchFails({ kernel: KERNEL, cpus: 'many' }, /"cpus" must be a whole number/));
});

describe('console log', function () {
  let s: Session;
  let dir: string;
  let before: Map<number, string>;

  beforeEach(async () => {
    before = sessionProcesses();
    dir = mkdtempSync(join(tmpdir(), 'consolelog-test-'));
    s = new Session();
    await s.start();
  });

  afterEach(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
    assertNoLeftovers(before);
  });

  it('a consoleLog in a missing directory is refused before anything starts', () =>
    assert.rejects(s.dc.launchRequest({ kernel: KERNEL, consoleLog: join(dir, 'no/such/dir/c.log') } as never), /"consoleLog" cannot be written .*directory does not exist/));

  it('keeps every console byte in consoleLog with a note of the image beside it', async () => {
    const log = join(dir, 'guest.console.log');
    const init = s.dc.waitForEvent('initialized', 30_000);
    await Promise.all([s.dc.launchRequest({ kernel: KERNEL, consoleLog: log } as never), init]);
    const terminated = s.dc.waitForEvent('terminated', 30_000);
    await s.dc.configurationDoneRequest();
    await terminated;
    assert.match(readFileSync(log, 'utf8'), /fixture: boot ok[\s\S]*fixture: done counter=5/);
    assert.deepEqual(JSON.parse(readFileSync(`${log}.meta.json`, 'utf8')), { symbols: KERNEL, kernel: KERNEL, platform: 'generic' });
  });
});

describe('symbols that do not belong to the image', function () {
  it('are refused with the reason', async () => {
    const before = sessionProcesses();
    const s = new Session();
    await s.start();
    try {
      await assert.rejects(s.dc.launchRequest({ kernel: KERNEL, symbols: '/usr/bin/true' } as never), /does not match the image .*(build ids differ|entry point)/);
    } finally {
      await s.stop();
    }
    assertNoLeftovers(before);
  });
});

describe('a temporary directory too deep for Unix socket paths', function () {
  it('does not stop a launch: the sockets go to /tmp instead', async () => {
    const deep = join(mkdtempSync(join(tmpdir(), 'deep-')), 'd'.repeat(100));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(deep, { recursive: true });
    const before = sessionProcesses();
    const s = new Session({ TMPDIR: deep });
    await s.start();
    try {
      const stop = await s.startTo('launch', { kernel: KERNEL }, [marker('compute')]);
      assert.equal(stop.body.reason, 'breakpoint');
    } finally {
      await s.stop();
      rmSync(deep, { recursive: true, force: true });
    }
    assertNoLeftovers(before);
  });
});
