import assert from 'node:assert/strict';
import { planQemu } from '../../../src/qemu/plan';

const base = { kernel: '/img/k,1.elf', privateDir: '/p', consoleLog: '/logs/c,1.log' };
const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

describe('QEMU plan: where the console goes', () => {
  it('a socket chardev that also logs, by default', () => {
    const { args } = planQemu(base);
    assert.match(after(args, '-chardev') ?? '', /^socket,id=console,path=\/p\/console\.sock,server=on,wait=off,logfile=\/logs\/c,,1\.log$/);
    assert.equal(after(args, '-serial'), 'chardev:console');
  });

  it('a recording writes it to the log file itself (a file chardev, appended on a restart)', () => {
    assert.equal(after(planQemu({ ...base, consoleFile: true }).args, '-chardev'), 'file,id=console,path=/logs/c,,1.log');
    assert.equal(after(planQemu({ ...base, consoleFile: true, consoleLogAppend: true }).args, '-chardev'), 'file,id=console,path=/logs/c,,1.log,append=on');
  });

  it('a replay has none', () => {
    const { args } = planQemu({ ...base, noConsole: true, consoleFile: true });
    assert.equal(after(args, '-serial'), 'null');
    assert.ok(!args.includes('-chardev'));
  });
});
