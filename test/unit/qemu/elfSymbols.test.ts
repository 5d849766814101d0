import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findSymbols } from '../../../src/elf';

const BUILD = join(__dirname, '../../fixtures/build');

describe('symbols from the ELF symbol table', () => {
  it('finds a name whose string the linker shares with a longer one (main inside ukboot_main)', async () => {
    const dbg = join(BUILD, 'uk017_qemu-x86_64.dbg');
    // The trait under test: `main`'s name offset points into `ukboot_main`'s string.
    const table = execFileSync('readelf', ['-p', '.strtab', dbg], { encoding: 'utf8' });
    assert.match(table, /\]\s+ukboot_main\n/);
    assert.doesNotMatch(table, /\]\s+main\n/, 'no string of its own for main');
    const found = await findSymbols(dbg, ['main', 'ukboot_main', 'uk_boot_entry', 'ukplat_entry']);
    assert.deepEqual([...found].sort(), ['main', 'uk_boot_entry', 'ukboot_main']);
  });

  it('does not see a renamed symbol under its old name, nor an undefined one', async () => {
    const baked = join(BUILD, 'hello-rumprun-baked.bin');
    const found = await findSymbols(baked, ['main', 'rumprun_main1', 'bmk_sched_init']);
    assert.deepEqual([...found].sort(), ['bmk_sched_init', 'rumprun_main1']);
  });

  it('reads the symbol table of an ELF32 boot copy', async () => {
    const found = await findSymbols(join(BUILD, 'uk017_qemu-x86_64'), ['main', 'uk_boot_entry', 'no_such_function']);
    assert.deepEqual([...found].sort(), ['main', 'uk_boot_entry']);
  });
});
