import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../../src/cli/args';

describe('cli args', () => {
  it('parses analyze with its options in any order', () => {
    assert.deepEqual(parseArgs(['analyze', 'log.txt']), { name: 'analyze', symbols: undefined, json: false, color: undefined, input: 'log.txt' });
    assert.deepEqual(parseArgs(['analyze', '--json', '--symbols', 'k.elf', '-']), { name: 'analyze', symbols: 'k.elf', json: true, color: undefined, input: '-' });
    assert.deepEqual(parseArgs(['analyze', '--symbols=k.dbg', '--no-color']), { name: 'analyze', symbols: 'k.dbg', json: false, color: false, input: '-' });
    assert.equal(parseArgs(['analyze', '--', '--odd-name.log']).name === 'analyze' && (parseArgs(['analyze', '--', '--odd-name.log']) as { input: string }).input, '--odd-name.log');
  });

  it('help and version', () => {
    assert.equal(parseArgs(['--help']).name, 'help');
    assert.equal(parseArgs(['-h']).name, 'help');
    assert.equal(parseArgs(['analyze', '--help']).name, 'help');
    assert.equal(parseArgs(['--version']).name, 'version');
  });

  it('usage errors', () => {
    for (const argv of [[], ['frob'], ['--frob'], ['analyze', '--symbols'], ['analyze', '--symbols='], ['analyze', 'a', 'b'], ['analyze', '--jsn']]) {
      assert.throws(() => parseArgs(argv), UsageError, JSON.stringify(argv));
    }
  });
});
