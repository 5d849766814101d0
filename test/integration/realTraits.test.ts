/**
 * The fixture variants that copy traits of real images (test/fixtures/README.md): a Solo5 image
 * built -O2 without frame pointers, with relative DWARF paths and Solo5's trap frame; a baked
 * Rumprun image whose ELF symbol main is renamed; a Unikraft 0.17-style image with two mains and
 * its crash paths; and a kernel of no known platform that panics.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import {
  FIXTURES, PANIC_KERNEL, ROOT, RUMPRUN_BAKED, SOLO5_O2, STOP_TIMEOUT, Session, UK017, marker, withSession,
} from './helpers';

const CLI = join(ROOT, 'dist/cli.js');

/** The frames a person would read: label rows (e.g. "page fault: handled by …") left out. */
function realFrames(frames: DebugProtocol.StackFrame[]): DebugProtocol.StackFrame[] {
  return frames.filter((f) => f.presentationHint !== 'label');
}

/** Launches without breakpoints and resolves with the exited event, failing on any stop. */
async function runToExit(s: Session, args: Record<string, unknown>, filters?: string[]): Promise<DebugProtocol.ExitedEvent> {
  const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
  await Promise.all([s.dc.launchRequest(args as DebugProtocol.LaunchRequestArguments), init]);
  if (filters) await s.dc.setExceptionBreakpointsRequest({ filters });
  const exited = s.dc.waitForEvent('exited', STOP_TIMEOUT) as Promise<DebugProtocol.ExitedEvent>;
  const stopped = new Promise<never>((_, reject) => s.dc.once('stopped', (e: DebugProtocol.StoppedEvent) => reject(new Error(`stopped (${e.body.reason}) instead of exiting`))));
  await s.dc.configurationDoneRequest();
  return Promise.race([exited, stopped]);
}

/**
 * Boots an image under QEMU on its own (no debugger) until its console matches `until`, then ends
 * QEMU and returns the console text (for a guest that halts instead of exiting).
 */
function consoleUntil(kernel: string, append: string | undefined, until: RegExp, timeout = STOP_TIMEOUT): Promise<string> {
  const args = ['-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128', '-serial', 'stdio', '-kernel', kernel];
  if (append !== undefined) args.push('-append', append);
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let timedOut = false;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = true;
      qemu.kill();
    }, timeout);
    qemu.stdout.setEncoding('utf8');
    qemu.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (until.test(out)) qemu.kill();
    });
    qemu.on('error', reject);
    qemu.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!timedOut && until.test(out)) resolve(out);
      else reject(new Error(`${timedOut ? `no console line matching ${until} within ${timeout} ms` : `QEMU ended (${code ?? signal}) first`}; got:\n${out}`));
    });
  });
}

describe('fixtures with the traits of real images', function () {
  let s: Session;
  withSession((session) => (s = session));

  describe('Solo5 built like Solo5 (-O2, no frame pointers, relative DWARF paths)', function () {
    it('a page fault in solo5_app_main stops on the faulting line, rebuilt from Solo5\'s trap frame (regs is the 2nd argument, no rbp)', async () => {
      const stop = await s.startTo('launch', { kernel: SOLO5_O2, cmdline: '--crash=pagefault', cwd: FIXTURES }, []);
      assert.equal(stop.body.reason, 'exception');
      const tid = stop.body.threadId ?? 1;
      const frames = await s.topFrames(tid, 30);
      const at = marker('solo5-o2-fault');
      const first = frames.find((f) => f.source?.path);
      assert.ok(first, `a frame with a source among ${frames.map((f) => f.name).join(', ')}`);
      assert.equal(first.name, 'solo5_app_main');
      assert.equal(first.line, at.line);
      assert.equal(first.source?.path, at.path);
      const info = await s.dc.exceptionInfoRequest({ threadId: tid });
      assert.match(`${info.body.description ?? ''}\n${info.body.details?.stackTrace ?? ''}`, /solo5_app_main/);
      assert.match(JSON.stringify(info.body.details ?? {}), /cr2=0x400000000/);
    });

    it('run to its end: exited carries the status given to solo5_exit (read from the console), then terminated', async () => {
      const terminated = s.dc.waitForEvent('terminated', STOP_TIMEOUT);
      const exited = await runToExit(s, { kernel: SOLO5_O2, cmdline: '--exit=3' });
      assert.equal(exited.body.exitCode, 3);
      await terminated;
      assert.match(s.text('stdout'), /Solo5: solo5_exit\(3\) called/);
    });

    it('with cwd where the sources are, every frame of a stop opens an existing file', async () => {
      const at = marker('solo5-o2-hello');
      const stop = await s.startTo('launch', { kernel: SOLO5_O2, cwd: FIXTURES }, [at]);
      assert.equal(stop.body.reason, 'breakpoint');
      const frames = await s.topFrames(stop.body.threadId ?? 1, 30);
      assert.equal(frames[0]?.name, 'solo5_app_main');
      assert.equal(frames[0]?.line, at.line);
      assert.equal(frames[0]?.source?.path, at.path);
      for (const f of frames) {
        if (f.source?.path) assert.ok(existsSync(f.source.path), `frame ${f.name}: ${f.source.path} does not exist`);
      }
    });

    it('with sourceMap from the DWARF\'s "." to a copy of the sources, frames open the copy and a breakpoint set in the copy is hit', async () => {
      const copy = mkdtempSync(join(tmpdir(), 'solo5-o2-src-'));
      const elsewhere = mkdtempSync(join(tmpdir(), 'solo5-o2-cwd-'));
      try {
        for (const file of readdirSync(FIXTURES)) {
          if (/\.(c|h|S)$/.test(file)) copyFileSync(join(FIXTURES, file), join(copy, file));
        }
        const line = marker('solo5-o2-hello').line;
        const path = join(copy, 'app_solo5_o2.c');
        const stop = await s.startTo('launch', { kernel: SOLO5_O2, cwd: elsewhere, sourceMap: { '.': copy } }, [{ path, line }]);
        assert.equal(stop.body.reason, 'breakpoint');
        const frames = await s.topFrames(stop.body.threadId ?? 1, 30);
        assert.equal(frames[0]?.name, 'solo5_app_main');
        assert.equal(frames[0]?.line, line);
        assert.equal(frames[0]?.source?.path, path);
        for (const f of frames) {
          if (!f.source?.path) continue;
          assert.ok(f.source.path.startsWith(`${copy}/`), `frame ${f.name}: ${f.source.path} is not in the copy`);
          assert.ok(existsSync(f.source.path), `frame ${f.name}: ${f.source.path} does not exist`);
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });
  });

  describe('Rumprun baked (ELF symbol main renamed to rumprun_main1, DWARF still says main)', function () {
    it('stopAtEntry stops in main', async () => {
      const stop = await s.startTo('launch', { kernel: RUMPRUN_BAKED, stopAtEntry: true }, []);
      assert.equal(stop.body.reason, 'entry');
      const frames = await s.topFrames(stop.body.threadId ?? 1);
      assert.equal(frames[0]?.name, 'main');
      assert.equal(basename(frames[0]?.source?.path ?? ''), 'app_rumprun.c');
    });

    it('cmdline "a b" gives the program argv = [<image name>, "a", "b"], as rumprun does', async () => {
      const init = s.dc.waitForEvent('initialized', STOP_TIMEOUT);
      await Promise.all([s.dc.launchRequest({ kernel: RUMPRUN_BAKED, cmdline: 'a b' } as DebugProtocol.LaunchRequestArguments), init]);
      await s.dc.configurationDoneRequest();
      await s.waitForOutput(/hello: argv = \[.*\]\r?\n/);
      const argv = /hello: argv = (\[.*\])\r?\n/.exec(s.text('stdout'))?.[1];
      assert.deepEqual(JSON.parse(argv ?? 'null'), [basename(RUMPRUN_BAKED), 'a', 'b']);
    });
  });

  describe('Unikraft 0.17-style (two mains, asm_trap_*/do_page_fault, exits 83/85 at 0x501)', function () {
    it('stopAtEntry stops in the application\'s main, not the weak fallback nor the boot code', async () => {
      const stop = await s.startTo('launch', { kernel: UK017, stopAtEntry: true }, []);
      assert.equal(stop.body.reason, 'entry');
      const frames = await s.topFrames(stop.body.threadId ?? 1);
      assert.equal(frames[0]?.name, 'main');
      assert.equal(basename(frames[0]?.source?.path ?? ''), 'app_uk017.c');
    });

    it('a page fault with the Crashes filter off runs to a non-zero exit', async () => {
      const exited = await runToExit(s, { kernel: UK017, cmdline: '--crash=pagefault' }, []);
      assert.notEqual(exited.body.exitCode, 0);
      assert.match(s.text('stdout'), /CRIT: \[libkvmplat\] <[^>]+> Crashing/);
    });
  });

  describe('a kernel of no known platform that panics', function () {
    it('the launch stops with reason exception in panic', async () => {
      const stop = await s.startTo('launch', { kernel: PANIC_KERNEL }, []);
      assert.equal(stop.body.reason, 'exception');
      const frames = realFrames(await s.topFrames(stop.body.threadId ?? 1, 30));
      assert.equal(frames[0]?.name, 'panic');
    });

    it('unikernel-trace analyze finds the panic and its message in the console log (both styles)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'panic-kernel-'));
      try {
        for (const [append, first] of [[undefined, /\*\*\* PANIC: /], ['netbsd', /^panic: /m]] as const) {
          const text = await consoleUntil(PANIC_KERNEL, append, /System halted\.\r?\n/);
          assert.match(text, first);
          const log = join(dir, `${append ?? 'default'}.console.log`);
          writeFileSync(log, text);
          const r = spawnSync('node', [CLI, 'analyze', '--symbols', PANIC_KERNEL, '--json', log], { encoding: 'utf8' });
          assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
          const reports = JSON.parse(r.stdout) as { kind: string; message: string }[];
          const panic = reports.find((rep) => rep.kind === 'panic');
          assert.ok(panic, `a report of kind panic for the ${append ?? 'default'} style: ${r.stdout}`);
          assert.match(panic.message, /mount_root: cannot mount root on wd0a: error 19/);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
