/**
 * `unikernel-trace` on a console log the fixture really printed under QEMU.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL, ROOT, marker } from './helpers';

const CLI = join(ROOT, 'dist/cli.js');

/** Boots the fixture in `mode` to its end and returns what it printed on COM1. */
function consoleOf(mode: string, dir: string): string {
  const log = join(dir, `${mode}.console.log`);
  const r = spawnSync('qemu-system-x86_64', [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
    '-kernel', KERNEL, '-append', `mode=${mode}`, '-serial', `file:${log}`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ], { timeout: 60_000 });
  assert.equal(r.status, 83, `QEMU ended with ${r.status}: ${r.stderr}`);
  return log;
}

describe('unikernel-trace analyze on fixture logs', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('symbolizes a page fault to the faulting function and line, as JSON', () => {
    const log = consoleOf('crash', dir);
    const r = spawnSync('node', [CLI, 'analyze', '--symbols', KERNEL, '--json', log], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    const reports = JSON.parse(r.stdout) as { platform: string; kind: string; message: string; line: number; registers: Record<string, string>; frames: { address: string; function?: string; file?: string; line?: number }[] }[];
    assert.equal(reports.length, 1);
    const [rep] = reports;
    assert.equal(rep!.platform, 'solo5');
    assert.equal(rep!.kind, 'page-fault');
    assert.equal(rep!.registers.cr2, '0x400000000');
    const lines = readFileSync(log, 'utf8').split(/\r?\n/);
    assert.match(lines[rep!.line - 1] ?? '', /Solo5: trap: type=#PF/);
    assert.equal(rep!.frames[0]?.function, 'crash_null_write');
    assert.equal(rep!.frames[0]?.line, marker('crash-write').line);
    assert.match(rep!.frames[0]?.file ?? '', /kernel\.c$/);
    for (const key of ['platform', 'kind', 'message', 'line', 'registers', 'frames']) assert.ok(key in rep!, key);
  });

  it('prints a readable trace by default and [] with exit 0 for a clean run', () => {
    const crash = spawnSync('node', [CLI, 'analyze', '--symbols', KERNEL, consoleOf('panic', dir)], { encoding: 'utf8' });
    assert.equal(crash.status, 1);
    assert.match(crash.stdout, /something bad: 7/);
    assert.doesNotMatch(crash.stdout, /\x1b\[/, 'no colours when not on a terminal');
    const clean = spawnSync('node', [CLI, 'analyze', '--json', consoleOf('normal', dir)], { encoding: 'utf8' });
    assert.equal(clean.status, 0, clean.stderr);
    assert.deepEqual(JSON.parse(clean.stdout), []);
  });
});
