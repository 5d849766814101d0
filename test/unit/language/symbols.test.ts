import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseSymbols } from '../../../src/language/symbols';

describe('which symbols ELF a console log uses', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'symbols-choice-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers the ELF picked by command, then the .meta.json, then the setting', async () => {
    const log = join(dir, 'a.console.log');
    writeFileSync(`${log}.meta.json`, JSON.stringify({ symbols: '/abs/kernel.elf', kernel: '/abs/kernel' }));
    assert.deepEqual(await chooseSymbols(log, '/picked.elf', 'x.elf', '/ws'), { path: '/picked.elf', source: 'command' });
    assert.deepEqual(await chooseSymbols(log, undefined, 'x.elf', '/ws'), { path: '/abs/kernel.elf', source: 'meta' });
    assert.deepEqual(await chooseSymbols(join(dir, 'none.log'), undefined, 'build/x.elf', '/ws'), { path: '/ws/build/x.elf', source: 'setting' });
    assert.deepEqual(await chooseSymbols(join(dir, 'none.log'), undefined, '${workspaceFolder}/k.elf', '/ws'), { path: '/ws/k.elf', source: 'setting' });
    assert.equal(await chooseSymbols(join(dir, 'none.log'), undefined, '  ', '/ws'), undefined);
    assert.equal(await chooseSymbols(join(dir, 'none.log'), undefined, 'rel.elf', undefined), undefined);
  });

  it('resolves a relative path in the .meta.json against the log\'s folder', async () => {
    const log = join(dir, 'b.console.log');
    writeFileSync(`${log}.meta.json`, JSON.stringify({ symbols: 'build/k.elf' }));
    assert.deepEqual(await chooseSymbols(log, undefined, undefined, undefined), { path: join(dir, 'build/k.elf'), source: 'meta' });
  });
});
