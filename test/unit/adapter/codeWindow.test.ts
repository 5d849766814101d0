/**
 * The exact disassembly window, found from the image's own bytes (iced-x86 lengths, sweeps from
 * function starts), checked against objdump's linear sweep of the same images: the -O0 fixture and
 * the -O2 Solo5-style one without frame pointers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../../../src/crash/findExecutable';
import { ImageCode } from '../../../src/elf';
import { exactWindow } from '../../../src/adapter/codeWindow';

const BUILD = join(__dirname, '../../fixtures/build');

/** objdump's instruction addresses in `.text`, in order. */
function objdumpStarts(elf: string): bigint[] {
  const out = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-j', '.text', elf], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...out.matchAll(/^\s*([0-9a-f]+):\t/gm)].map((m) => BigInt(`0x${m[1]}`));
}

describe('exact disassembly windows from the image\'s own bytes', () => {
  before(function () {
    if (!findExecutable('objdump')) this.skip();
  });

  for (const name of ['kernel.elf', 'solo5-o2.virtio', 'uk017_qemu-x86_64.dbg']) {
    it(`lands on objdump's boundaries 200 instructions either side of pcs across ${name}`, async function () {
      const elf = join(BUILD, name);
      if (!existsSync(elf)) this.skip();
      const code = await ImageCode.read(elf);
      const starts = objdumpStarts(elf);
      assert.ok(starts.length > 600, `${starts.length} instructions`);
      // Every 37th instruction far enough from both ends of .text.
      let checked = 0;
      for (let i = 200; i + 200 < starts.length; i += 37) {
        const w = exactWindow(code, starts[i]!, 200, 200);
        assert.ok(w, `a window at 0x${starts[i]!.toString(16)}`);
        assert.equal(w.lo, starts[i - 200], `200 before 0x${starts[i]!.toString(16)}`);
        assert.equal(w.hi, starts[i + 200], `200 from 0x${starts[i]!.toString(16)}`);
        checked++;
      }
      assert.ok(checked > 5);
    });
  }

  it('says nothing for addresses the image holds no code at', async () => {
    const code = await ImageCode.read(join(BUILD, 'kernel.elf'));
    assert.equal(exactWindow(code, 0x10n, 10, 10), undefined);
  });
});
