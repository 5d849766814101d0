import assert from 'node:assert/strict';
import { consoleExitStatus, genericExit, solo5Exit, unikraftExit } from '../../../src/qemu/profiles/exits';

describe('exit statuses per platform', () => {
  it('Solo5: QEMU says 83 for every ending; the console says which', () => {
    assert.equal(solo5Exit(83, ['Solo5: solo5_exit(0) called']).status, 0);
    assert.equal(solo5Exit(83, ['Fatal error: exception Failure("x")', 'Solo5: solo5_exit(2) called']).status, 2);
    assert.equal(solo5Exit(83, ['Solo5: ABORT: cpu_x86_64.c:182: Fatal trap']).status, 255);
    assert.match(solo5Exit(83, ['Solo5: solo5_exit(0) called']).text, /status 0 \(solo5_exit\(0\)\)/);
  });

  it('Unikraft: 83 is a halt, 85 a crash', () => {
    assert.equal(unikraftExit(83).status, 0);
    assert.equal(unikraftExit(85).status, 1);
    assert.match(unikraftExit(85).text, /crashed/);
  });

  it('any image: the value written to isa-debug-exit, or a power-off', () => {
    assert.equal(genericExit(83, []).status, 41);
    assert.equal(genericExit(0, []).status, 0);
    assert.equal(genericExit(84, []).status, 84);
    assert.equal(genericExit(83, ['=== ERROR: _exit(1) called ===']).status, 1);
  });

  it('reads the last exit the console announced', () => {
    assert.deepEqual(consoleExitStatus(['solo5_exit(3) called', 'solo5_exit(4) called']), { status: 4, said: 'solo5_exit(4)' });
    assert.equal(consoleExitStatus(['nothing here']), undefined);
  });
});
