// The CLI as a user runs it: a separate process through tsx, on saved sample logs.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findExecutable } from '../../../src/crash/findExecutable';
import { schemaProblems, samplePath } from '../crash/helpers';

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Run {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: env as NodeJS.ProcessEnv,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('unikernel-trace CLI', function () {
  this.timeout(120_000);

  it('--help documents usage and exit codes; --version prints the package version', () => {
    const help = cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: unikernel-trace analyze \[--symbols ELF\] \[--json\] \[LOGFILE\|-\]/);
    assert.match(help.stdout, /Exit status:\n\s+0 .*no crash\n\s+1 .*at least one crash\n\s+2 /);
    const version = cli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^unikernel-trace \d+\.\d+\.\d+/);
  });

  it('a crash: human report, exit 1, no colours into a pipe', () => {
    const r = cli(['analyze', samplePath('solo5-pagefault')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /1 crash found in .*solo5-pagefault\.console\.log/);
    assert.match(r.stdout, /Crash 1: page-fault \(solo5, line 15\)/);
    assert.match(r.stdout, /Page fault \(#PF\) accessing 0x400000000 at rip 0x105fe2/);
    assert.match(r.stdout, /rip\s+0x105fe2/);
    assert.match(r.stdout, /#0\s+0x105fe2/);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    assert.equal(r.stderr, '');
  });

  it('a clean run: exit 0, `[]` with --json', () => {
    const human = cli(['analyze', samplePath('solo5-clean')]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^No crash found in .* \(\d+ lines\)\.\n$/);
    const json = cli(['analyze', '--json', samplePath('solo5-clean')]);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  it('--json matches the schema, in log order, for a multi-crash log read from stdin', () => {
    const log = execFileSync('cat', [samplePath('multi-crash')], { encoding: 'latin1' });
    const r = cli(['analyze', '--json', '-'], { input: log });
    assert.equal(r.code, 1, r.stderr);
    const reports = JSON.parse(r.stdout) as Array<{ kind: string; line: number }>;
    assert.deepEqual(schemaProblems(reports), []);
    assert.deepEqual(reports.map((x) => [x.kind, x.line]), [['general-protection', 24], ['panic', 28], ['invalid-opcode', 31]]);
  });

  it('a generic kernel’s panic: --json carries platform, registers and frames; the human report shows the trace', () => {
    const json = cli(['analyze', '--json', samplePath('generic-panic')]);
    assert.equal(json.code, 1, json.stderr);
    const reports = JSON.parse(json.stdout) as Array<{ platform: string; kind: string; message: string; line: number; registers: Record<string, string>; frames: Array<{ address: string; function?: string }> }>;
    assert.deepEqual(schemaProblems(reports), []);
    assert.deepEqual(reports.map((x) => [x.platform, x.kind, x.line]), [['generic', 'panic', 7], ['generic', 'panic', 17], ['generic', 'panic', 28]]);
    assert.equal(reports[0].message, 'out of frames');
    assert.deepEqual(reports[0].registers, { rip: '0x1012a4', rsp: '0x7fff00', rbp: '0x7fff10' });
    assert.deepEqual(reports[0].frames.map((f) => [f.address, f.function]), [['0x1012a4', 'panic'], ['0x101300', 'alloc_frame'], ['0x101400', 'kmain']]);
    const human = cli(['analyze', samplePath('generic-panic')]);
    assert.equal(human.code, 1, human.stderr);
    assert.match(human.stdout, /3 crashes found in .*generic-panic\.console\.log/);
    assert.match(human.stdout, /Crash 1: panic \(generic, line 7\)/);
    assert.match(human.stdout, /#1\s+0x101300 in alloc_frame/);
  });

  it('colours only when asked (or on a TTY), never with --no-color', () => {
    assert.match(cli(['analyze', '--color', samplePath('solo5-pagefault')]).stdout, /\x1b\[1m/);
    assert.doesNotMatch(cli(['analyze', '--no-color', samplePath('solo5-pagefault')]).stdout, /\x1b\[/);
  });

  it('errors are one sentence on stderr with exit 2', () => {
    assertOneLineError(cli(['analyze', join(ROOT, 'no-such.log')]), /^unikernel-trace: cannot read .*no-such\.log: no such file\n$/);
    assertOneLineError(cli(['analyze', ROOT]), /it is a directory/);
    assertOneLineError(cli(['analyze', '--bogus']), /unknown option --bogus/);
    assertOneLineError(cli(['frobnicate']), /unknown command frobnicate/);
    assertOneLineError(cli(['analyze', '--symbols', samplePath('solo5-clean'), samplePath('solo5-clean')]), /is not an ELF file/);
    assertOneLineError(cli(['analyze', '--symbols', join(ROOT, 'nope.elf'), samplePath('solo5-clean')]), /cannot read the image/);
  });

  describe('with --symbols', () => {
    let dir: string;
    let elf: string;
    let stripped: string;
    const addr: Record<string, string> = {};

    before(function () {
      if (!findExecutable('gcc') || !findExecutable('nm')) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'cli-symbols-'));
      writeFileSync(join(dir, 'app.c'), [
        'volatile int *target;',
        '__attribute__((noinline)) void crash_null_write(void) {',
        '  *target = 1;',
        '}',
        '__attribute__((noinline)) void app_main(void) {',
        '  crash_null_write();',
        '  target = 0;',
        '}',
        'int main(void) { app_main(); return 0; }',
        '',
      ].join('\n'));
      elf = join(dir, 'app.elf');
      execFileSync('gcc', ['-g', '-O0', '-static', '-no-pie', '-o', elf, join(dir, 'app.c')]);
      stripped = join(dir, 'app.stripped');
      copyFileSync(elf, stripped);
      execFileSync('strip', ['--strip-debug', stripped]);
      for (const line of execFileSync('nm', [elf], { encoding: 'utf8' }).split('\n')) {
        const m = /^([0-9a-f]+) [Tt] (crash_null_write|app_main)$/.exec(line);
        if (m) addr[m[2]] = `0x${BigInt(`0x${m[1]}`).toString(16)}`;
      }
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    function unikraftLog(): string {
      const pc = addr.crash_null_write;
      // A return address inside app_main, just after its call (a few bytes into the function).
      const ret = `0x${(BigInt(addr.app_main) + 9n).toString(16)}`;
      return [
        'CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 14 (page fault), error code=0x2',
        `RIP: ${BigInt(pc).toString(16).padStart(16, '0')} CS: 0008`,
        `base is 0x1ffe90 caller is ${ret}`,
        'CRIT: [libkvmplat] <traps.c @ 107> Crashing',
        '',
      ].join('\n');
    }

    it('prints the symbolized trace', () => {
      const log = join(dir, 'crash.console.log');
      writeFileSync(log, unikraftLog());
      const r = cli(['analyze', '--symbols', elf, log]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, new RegExp(`#0\\s+${addr.crash_null_write} in crash_null_write at .*app\\.c:2`));
      assert.match(r.stdout, /#1\s+0x[0-9a-f]+ in app_main at .*app\.c:[56]/);
    });

    it('--json carries function, file and line per frame', () => {
      const r = cli(['analyze', '--json', '--symbols', elf, '-'], { input: unikraftLog() });
      assert.equal(r.code, 1, r.stderr);
      const [report] = JSON.parse(r.stdout) as Array<{ frames: Array<{ function?: string; file?: string; line?: number }> }>;
      assert.deepEqual(schemaProblems([report]), []);
      assert.equal(report.frames[0].function, 'crash_null_write');
      assert.match(report.frames[0].file ?? '', /app\.c$/);
      assert.equal(report.frames[0].line, 2);
      assert.equal(report.frames[1].function, 'app_main');
    });

    it('a generic panic’s backtrace gets file and line from the image', () => {
      const ret = `0x${(BigInt(addr.app_main) + 9n).toString(16)}`;
      const log = ['*** PANIC: null write', `REGS: rip=${addr.crash_null_write}`, `#0 ${addr.crash_null_write} (crash_null_write)`, `#1 ${ret} (app_main)`, 'System halted.', ''].join('\n');
      const r = cli(['analyze', '--json', '--symbols', elf, '-'], { input: log });
      assert.equal(r.code, 1, r.stderr);
      const [report] = JSON.parse(r.stdout) as Array<{ platform: string; frames: Array<{ function?: string; file?: string; line?: number }> }>;
      assert.equal(report.platform, 'generic');
      assert.equal(report.frames[0].function, 'crash_null_write');
      assert.match(report.frames[0].file ?? '', /app\.c$/);
      assert.equal(report.frames[0].line, 2);
      assert.equal(report.frames[1].function, 'app_main');
      assert.match(String(report.frames[1].line), /^[56]$/);
    });

    it('an image without debug information gets a note, not wrong lines', () => {
      const r = cli(['analyze', '--symbols', stripped, '-'], { input: unikraftLog() });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /note: image has no debug information/);
      assert.doesNotMatch(r.stdout, /app\.c:/);
    });
  });
});
