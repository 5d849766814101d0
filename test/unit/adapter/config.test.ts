import assert from 'node:assert/strict';
import { ConfigError, normalizeTarget, validateAttach, validateLaunch } from '../../../src/adapter/config';

const fails = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: Error) => e instanceof ConfigError && re.test(e.message));

describe('launch attribute validation', () => {
  it('names the attribute and what to do', () => {
    fails(() => validateLaunch({}), /"kernel" is missing: set it/);
    fails(() => validateLaunch({ kernel: 3 }), /"kernel" must be a string/);
    fails(() => validateLaunch({ kernel: ' ' }), /"kernel" is empty/);
    fails(() => validateLaunch({ kernel: 'k', memory: 1e12 }), /"memory" must be a whole number from 8/);
    fails(() => validateLaunch({ kernel: 'k', cpus: 0 }), /"cpus" must be a whole number from 1 to 64/);
    fails(() => validateLaunch({ kernel: 'k', cpus: 1.5 }), /"cpus"/);
    fails(() => validateLaunch({ kernel: 'k', platform: 'linux' }), /"platform" must be one of rumprun, mirage, unikraft, generic/);
    fails(() => validateLaunch({ kernel: 'k', qemuArgs: '-m 1G' }), /"qemuArgs" must be an array of strings/);
    fails(() => validateLaunch({ kernel: 'k', qemuArgs: ['-gdb', 'tcp::1234'] }), /"qemuArgs" may not contain -gdb/);
    fails(() => validateLaunch({ kernel: 'k', qemuArgs: ['-s'] }), /may not contain -s/);
    fails(() => validateLaunch({ kernel: 'k', stopAtEntry: 3 }), /"stopAtEntry" must be true, false, or a function name/);
    fails(() => validateLaunch({ kernel: 'k', net: 'yes' }), /"net" must be true or an object/);
    fails(() => validateLaunch({ kernel: 'k', net: { hostfwd: ['8080:80'] } }), /"net.hostfwd" must be a list like/);
    fails(() => validateLaunch({ kernel: 'k', disks: [{}] }), /"disks\[0\]" must be a path/);
    fails(() => validateLaunch({ kernel: 'k\0x' }), /"kernel" contains a NUL/);
    // QEMU 7.2 refuses it at start ("Record/replay feature is not supported for 'smp'").
    fails(() => validateLaunch({ kernel: 'k', record: true, cpus: 2 }), /"record" needs one vCPU: .*"cpus": 2/);
    fails(() => validateLaunch({ kernel: 'k', replayCheckpoints: -1 }), /"replayCheckpoints" must be a whole number from 0/);
  });

  it('resolves relative paths against cwd and keeps good values', () => {
    const a = validateLaunch({ kernel: 'build/k.elf', cwd: '/w', cpus: 2, net: true, disks: ['d.img'] });
    assert.equal(a.kernel, '/w/build/k.elf');
    assert.equal(a.cpus, 2);
    assert.deepEqual(a.net, {});
    assert.deepEqual(a.disks, [{ path: '/w/d.img', mountpoint: undefined }]);
  });

  it('takes a sourceMap of build prefixes to local directories', () => {
    assert.deepEqual(validateLaunch({ kernel: 'k', cwd: '/w', sourceMap: { '/build/imgs/solo5': 'solo5', '/b': '/abs' } }).sourceMap, {
      '/build/imgs/solo5': '/w/solo5',
      '/b': '/abs',
    });
    fails(() => validateLaunch({ kernel: 'k', sourceMap: ['/a', '/b'] }), /"sourceMap" must map build paths to local directories/);
    fails(() => validateLaunch({ kernel: 'k', sourceMap: { '/a': 3 } }), /"sourceMap" must map build paths/);
  });
});

describe('attach attribute validation', () => {
  it('needs a target', () => {
    fails(() => validateAttach({}), /"target" is missing: set it to host:port or the Unix socket path/);
  });

  it('tells host:port from socket paths', () => {
    assert.equal(normalizeTarget('127.0.0.1:1234', '/w'), '127.0.0.1:1234');
    assert.equal(normalizeTarget('localhost:1234', '/w'), 'localhost:1234');
    assert.equal(normalizeTarget('run/gdb.sock', '/w'), '/w/run/gdb.sock');
  });

  it('takes QEMU\'s QMP socket as a path (relative to cwd) or host:port', () => {
    assert.equal(validateAttach({ target: 'g.sock', cwd: '/w', qmp: 'run/qmp.sock' }).qmp, '/w/run/qmp.sock');
    assert.equal(validateAttach({ target: 'g.sock', cwd: '/w', qmp: '127.0.0.1:4444' }).qmp, '127.0.0.1:4444');
    assert.equal(validateAttach({ target: 'g.sock', cwd: '/w' }).qmp, undefined);
  });
});
