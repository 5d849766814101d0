// Every saved console sample, end to end through analyzeLog.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { analyzeSample, SAMPLES, schemaProblems, summary } from './helpers';

describe('console samples', () => {
  it('every sample gives schema-valid reports', () => {
    const names = readdirSync(SAMPLES).filter((f) => f.endsWith('.console.log'));
    assert.ok(names.length >= 10);
    for (const file of names) {
      const reports = analyzeSample(file.replace(/\.console\.log$/, ''));
      assert.deepEqual(schemaProblems(JSON.parse(JSON.stringify(reports))), [], file);
      const lines = reports.map((r) => r.line);
      assert.deepEqual(lines, [...lines].sort((a, b) => a - b), `${file}: log order`);
    }
  });

  it('a clean Solo5 run gives []', () => {
    assert.deepEqual(analyzeSample('solo5-clean'), []);
  });

  it('Solo5 page fault: trap + cr2 + ABORT + Halted is one report', () => {
    const [r, ...rest] = analyzeSample('solo5-pagefault');
    assert.equal(rest.length, 0);
    assert.equal(r.platform, 'solo5');
    assert.equal(r.kind, 'page-fault');
    assert.equal(r.line, 15);
    assert.deepEqual(r.registers, { ec: '0x2', rip: '0x105fe2', rsp: '0x1fffff70', rflags: '0x10206', cr2: '0x400000000' });
    assert.deepEqual(r.frames, [{ address: '0x105fe2' }]);
    assert.match(r.message, /page fault.*0x400000000.*0x105fe2.*write/i);
  });

  it('Solo5 aborts: stack smashing, assertion, non-zero exit in three runs', () => {
    const reports = analyzeSample('solo5-aborts');
    assert.deepEqual(summary(reports), [
      { platform: 'solo5', kind: 'stack-smash', line: 12 },
      { platform: 'solo5', kind: 'assertion', line: 25 },
      { platform: 'solo5', kind: 'exit', line: 38 },
    ]);
    assert.deepEqual(reports[1].source, { file: 'mem.c', line: 64 });
    assert.match(reports[2].message, /solo5_exit\(3\)/);
  });

  it('OCaml exception (newer format) with its backtrace; the solo5_exit(2) it causes is not a second crash', () => {
    const reports = analyzeSample('mirage-exception');
    assert.equal(reports.length, 1);
    const [r] = reports;
    assert.equal(r.platform, 'mirage');
    assert.equal(r.kind, 'exception');
    assert.equal(r.line, 15);
    assert.equal(r.message, 'Failure("Unikernel.Main.start: cannot parse config")');
    assert.equal(r.frames.length, 7);
    assert.deepEqual(r.frames[0], { address: '', function: 'Stdlib.failwith', file: 'stdlib.ml', line: 29 });
    assert.deepEqual(r.frames[1], { address: '', function: 'Unikernel.Main.parse', file: 'unikernel.ml', line: 14 });
    assert.deepEqual(r.frames[6], { address: '', function: 'Dune__exe__Main', file: 'main.ml', line: 25 });
  });

  it('OCaml older format with a multi-line exception, then out of memory', () => {
    const reports = analyzeSample('mirage-old-format');
    assert.deepEqual(summary(reports), [
      { platform: 'mirage', kind: 'exception', line: 12 },
      { platform: 'mirage', kind: 'out-of-memory', line: 30 },
    ]);
    assert.match(reports[0].message, /^\(Invalid_argument\n"Cstruct\.sub: .* is not valid"\)$/);
    assert.deepEqual(reports[0].frames.map((f) => `${f.file}:${f.line}`), ['pervasives.ml:33', 'lib/cstruct.ml:238', 'unikernel.ml:41']);
  });

  it('Rumprun: trap, kernel assertion panic, libc assertion, non-zero exit; clean run gives nothing', () => {
    const reports = analyzeSample('rumprun-crashes');
    assert.deepEqual(summary(reports), [
      { platform: 'rumprun', kind: 'page-fault', line: 19 },
      { platform: 'rumprun', kind: 'assertion', line: 37 },
      { platform: 'rumprun', kind: 'assertion', line: 57 },
      { platform: 'rumprun', kind: 'exit', line: 115 },
    ]);
    // cpu_fattrap(name, rip, cr2): the value in parentheses is cr2.
    assert.deepEqual(reports[0].registers, { rip: '0x110cc7', cr2: '0x2' });
    assert.deepEqual(reports[0].frames, [{ address: '0x110cc7' }]);
    assert.deepEqual(reports[1].source, { file: '/usr/src/sys/kern/vfs_mount.c', line: 302 });
    assert.deepEqual(reports[2].source, { file: 'hello.c', line: 14, function: 'open_config' });
  });

  it('Unikraft: trap with register dump and stack walk, then an assertion; the clean run gives nothing', () => {
    const reports = analyzeSample('unikraft-trap');
    assert.deepEqual(summary(reports), [
      { platform: 'unikraft', kind: 'general-protection', line: 12 },
      { platform: 'unikraft', kind: 'assertion', line: 35 },
    ]);
    const [trap, assertion] = reports;
    assert.equal(trap.message, 'Unhandled Trap 13 (general protection), error code=0x0');
    assert.equal(trap.registers.rip, '0x104a3b');
    assert.equal(trap.registers.rsp, '0x1ffe70');
    assert.equal(trap.registers.rbp, '0x1ffe90');
    assert.equal(trap.registers.r8, '0x0');
    assert.equal(trap.registers.eflags, '0x10246');
    assert.deepEqual(trap.frames, [
      { address: '0x104a3b' },
      { address: '0x104a8f', returnAddress: true },
      { address: '0x10612c', returnAddress: true },
    ]);
    assert.equal(assertion.message, 'Assertion failure: config != NULL');
    assert.deepEqual(assertion.source, { file: 'main.c', line: 11 });
  });

  it('Unikraft, newer: timestamps and a bare register dump', () => {
    const [r, ...rest] = analyzeSample('unikraft-newer');
    assert.equal(rest.length, 0);
    assert.equal(r.kind, 'page-fault');
    assert.equal(r.line, 3);
    assert.equal(r.registers.rip, '0x104a3b');
    assert.deepEqual(r.frames.map((f) => f.address), ['0x104a3b', '0x104a8f']);
  });

  it('Mini-OS page fault behind Xen console timestamps; do_exit’s own stack walk is left out', () => {
    const [r, ...rest] = analyzeSample('xen-minios-pagefault');
    assert.equal(rest.length, 0);
    assert.equal(r.platform, 'xen');
    assert.equal(r.kind, 'page-fault');
    assert.equal(r.line, 6);
    assert.equal(r.registers.cr2, '0x0');
    assert.equal(r.registers.rip, '0x4a3b');
    assert.equal(r.registers.rsp, '0x7fe78');
    assert.equal(r.registers.ec, '0x2');
    assert.deepEqual(r.frames.map((f) => f.address), ['0x4a3b', '0x4a8f', '0x612c']);
  });

  it('the Xen hypervisor’s report of a crashed domain', () => {
    const [r, ...rest] = analyzeSample('xen-domain-crash');
    assert.equal(rest.length, 0);
    assert.equal(r.kind, 'trap');
    assert.equal(r.line, 2);
    assert.equal(r.registers.rip, '0x4a3b');
    assert.equal(r.registers.cr2, '0x0');
    assert.equal(r.registers.rsp, '0x7fe78');
    assert.deepEqual(r.frames, [{ address: '0x4a3b' }]);
  });

  it('QEMU triple fault with its register dump, and a pvpanic', () => {
    const reports = analyzeSample('generic-machine');
    assert.deepEqual(summary(reports), [
      { platform: 'generic', kind: 'trap', line: 4 },
      { platform: 'generic', kind: 'panic', line: 19 },
    ]);
    assert.equal(reports[0].registers.rip, '0x101a2c');
    assert.equal(reports[0].registers.rflags, '0x10046');
    assert.equal(reports[0].registers.cr2, '0x0');
    assert.equal(reports[0].registers.rsp, '0x1fff80');
    assert.deepEqual(reports[0].frames, [{ address: '0x101a2c' }]);
  });

  it('a generic kernel’s panics: `*** PANIC:` behind uptime stamps, `panic:` with a GDB-style backtrace, a Linux panic; the clean run gives nothing', () => {
    const reports = analyzeSample('generic-panic');
    assert.deepEqual(summary(reports), [
      { platform: 'generic', kind: 'panic', line: 7 },
      { platform: 'generic', kind: 'panic', line: 17 },
      { platform: 'generic', kind: 'panic', line: 28 },
    ]);
    const [frames, assertion, linux] = reports;
    assert.equal(frames.message, 'out of frames');
    assert.deepEqual(frames.registers, { rip: '0x1012a4', rsp: '0x7fff00', rbp: '0x7fff10' });
    assert.deepEqual(frames.frames, [
      { address: '0x1012a4', function: 'panic' },
      { address: '0x101300', function: 'alloc_frame', returnAddress: true },
      { address: '0x101400', function: 'kmain', returnAddress: true },
    ]);
    assert.equal(assertion.message, 'assertion failed');
    assert.deepEqual(assertion.registers, { rip: '0x102b10', rsp: '0x7ffe80', rbp: '0x7ffea0' });
    assert.deepEqual(assertion.frames.map((f) => [f.address, f.function]), [['0x102b10', 'assert_fail'], ['0x1031c2', 'run_checks'], ['0x101400', undefined]]);
    assert.equal(linux.message, 'Attempted to kill init!');
    assert.deepEqual(linux.registers, {});
    assert.deepEqual(linux.frames, []);
  });

  it('several runs in one log, with `> ` quoting, ANSI colours and clean runs between the crashes', () => {
    const reports = analyzeSample('multi-crash');
    assert.deepEqual(summary(reports), [
      { platform: 'solo5', kind: 'general-protection', line: 24 },
      { platform: 'rumprun', kind: 'panic', line: 28 },
      { platform: 'unikraft', kind: 'invalid-opcode', line: 31 },
    ]);
    assert.equal(reports[1].message, 'out of swap');
    assert.equal(reports[2].registers.rip, '0x106b21');
  });

  it('NUL bytes, lone CRs, invalid UTF-8 and a log cut off mid-crash', () => {
    const [r, ...rest] = analyzeSample('nul-truncated');
    assert.equal(rest.length, 0);
    assert.equal(r.kind, 'invalid-opcode');
    assert.equal(r.line, 4);
    assert.equal(r.registers.rip, '0x103a4f');
    assert.equal(r.registers.cr2, '0x0');
  });

  it('an OCaml backtrace cut off at the end of the log', () => {
    const [r, ...rest] = analyzeSample('ocaml-truncated');
    assert.equal(rest.length, 0);
    assert.equal(r.kind, 'exception');
    assert.equal(r.message, 'Not_found');
    assert.equal(r.frames.length, 1);
  });
});
