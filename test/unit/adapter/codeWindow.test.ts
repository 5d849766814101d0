/**
 * The exact disassembly window, found from the image's own bytes (iced-x86 lengths, sweeps from
 * function starts), checked against objdump's linear sweep of the same images: the -O0 fixture, the
 * -O2 Solo5-style one without frame pointers, and the Unikraft-style one with data in its boot code.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../../../src/crash/findExecutable';
import { ImageCode } from '../../../src/elf';
import { exactWindow } from '../../../src/adapter/codeWindow';
import { continuous, objdumpSweep } from './objdump';

const BUILD = join(__dirname, '../../fixtures/build');

describe('exact disassembly windows from the image\'s own bytes', () => {
  before(function () {
    if (!findExecutable('objdump')) this.skip();
  });

  for (const name of ['kernel.elf', 'solo5-o2.virtio', 'uk017_qemu-x86_64.dbg']) {
    it(`lands on objdump's boundaries 200 instructions either side of pcs across ${name}`, async function () {
      const elf = join(BUILD, name);
      if (!existsSync(elf)) this.skip();
      const code = await ImageCode.read(elf);
      const sweep = objdumpSweep(elf, '.text');
      const { starts } = sweep;
      assert.ok(starts.length > 600, `${starts.length} instructions`);
      // Every 37th instruction far enough from both ends of .text, where one sweep reaches 200 either side.
      let checked = 0;
      let exact = 0;
      for (let i = 200; i + 200 < starts.length; i += 37) {
        if (!continuous(sweep, i - 200, i + 200)) continue;
        const w = exactWindow(code, starts[i]!, 200, 200);
        assert.ok(w, `a window at 0x${starts[i]!.toString(16)}`);
        assert.equal(w.hi, starts[i + 200], `200 from 0x${starts[i]!.toString(16)}`);
        // Backward, the way stops early where data inside the code does not decode onto the next
        // symbol: then fewer, never other, instructions.
        const lo = starts.indexOf(w.lo);
        assert.ok(lo >= i - 200 && lo < i, `0x${w.lo.toString(16)}: one of the 200 instructions before 0x${starts[i]!.toString(16)}`);
        if (lo === i - 200) exact++;
        checked++;
      }
      assert.ok(checked > 5);
      assert.ok(exact >= checked * 0.9, `${exact} of ${checked} windows with all 200 before`);
    });
  }

  it('says nothing for addresses the image holds no code at', async () => {
    const code = await ImageCode.read(join(BUILD, 'kernel.elf'));
    assert.equal(exactWindow(code, 0x10n, 10, 10), undefined);
  });
});
