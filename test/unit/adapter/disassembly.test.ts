import assert from 'node:assert/strict';
import type { Gdb } from '../../../src/mi/gdb';
import { disassemble, DisassemblyCache } from '../../../src/adapter/disassembly';

/**
 * A fake gdb over made-up x86-like code: instructions of 1 to 7 bytes from 0x1000 to 0x3000. Decoding
 * from an address inside an instruction reads 3-byte junk until it lands on a real boundary, as a
 * real decoder drifts and then resynchronises.
 */
function fakeGdb(): { gdb: Gdb; commands: string[]; starts: Set<bigint> } {
  const starts = new Set<bigint>();
  const lengths = [1, 3, 5, 2, 7, 4, 6, 3, 2, 5];
  let k = 0;
  for (let a = 0x1000n; a < 0x3000n; a += BigInt(lengths[k++ % lengths.length]!)) starts.add(a);
  const commands: string[] = [];
  const lengthAt = (a: bigint): number => {
    for (let n = 1; n <= 7; n++) if (starts.has(a + BigInt(n))) return starts.has(a) ? n : Math.min(3, n);
    return 1;
  };
  const gdb = {
    send: (command: string) => {
      commands.push(command);
      const m = /^-data-disassemble -s 0x([0-9a-f]+) -e 0x([0-9a-f]+) -- 5$/.exec(command);
      if (!m) return Promise.reject(new Error(`unexpected ${command}`));
      const [s, e] = [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`)];
      const insns = [];
      for (let a = s < 0x1000n ? 0x1000n : s; a < e && a < 0x3000n; ) {
        const n = lengthAt(a);
        insns.push({ address: `0x${a.toString(16)}`, 'func-name': 'f', offset: String(Number(a - 0x1000n)), opcodes: Array(n).fill('90').join(' '), inst: starts.has(a) ? `insn_${a.toString(16)}` : 'junk' });
        a += BigInt(n);
      }
      return Promise.resolve({ resultClass: 'done', results: { asm_insns: insns } });
    },
  };
  return { gdb: gdb as unknown as Gdb, commands, starts };
}

const real = (starts: Set<bigint>): bigint[] => [...starts].sort((a, b) => (a < b ? -1 : 1));

describe('disassemble', () => {
  const local = (): string => '';

  for (const offset of [0, -10, -200, -50, 30]) {
    it(`gives exactly the instructions around the base for instructionOffset ${offset}, in one MI command`, async () => {
      const { gdb, commands, starts } = fakeGdb();
      const all = real(starts);
      const at = 600;
      const base = all[at]!;
      const out = await disassemble(gdb, base, offset, 100, local);
      assert.equal(out.length, 100);
      assert.deepEqual(
        out.map((d) => BigInt(d.address)),
        all.slice(at + offset, at + offset + 100),
      );
      assert.ok(out.every((d) => d.instruction.startsWith('insn_')));
      assert.equal(commands.length, 1, commands.join('\n'));
    });
  }

  it('fills what lies outside the code with invalid entries', async () => {
    const { gdb, starts } = fakeGdb();
    const all = real(starts);
    const out = await disassemble(gdb, all[5]!, -10, 20, local);
    assert.equal(out.length, 20);
    assert.equal(out.slice(0, 5).every((d) => d.presentationHint === 'invalid'), true);
    assert.deepEqual(out.slice(5).map((d) => BigInt(d.address)), all.slice(0, 15));
  });

  it('answers again from what it decoded at this stop, until cleared', async () => {
    const { gdb, commands, starts } = fakeGdb();
    const all = real(starts);
    const cache = new DisassemblyCache();
    await disassemble(gdb, all[600]!, -100, 200, local, cache);
    const n = commands.length;
    const again = await disassemble(gdb, all[620]!, -50, 100, local, cache);
    assert.equal(commands.length, n);
    assert.deepEqual(again.map((d) => BigInt(d.address)), all.slice(570, 670));
    cache.clear();
    await disassemble(gdb, all[620]!, -50, 100, local, cache);
    assert.equal(commands.length, n + 1);
  });

  it('scrolling up asks only for the new instructions, and then knows both pages', async () => {
    const { gdb, commands, starts } = fakeGdb();
    const all = real(starts);
    const cache = new DisassemblyCache();
    await disassemble(gdb, all[600]!, 0, 100, local, cache);
    await disassemble(gdb, all[600]!, -100, 100, local, cache);
    assert.equal(commands.length, 2);
    const both = await disassemble(gdb, all[600]!, -100, 200, local, cache);
    assert.equal(commands.length, 2);
    assert.deepEqual(both.map((d) => BigInt(d.address)), all.slice(500, 700));
  });

  it('continues a window that came up short (long instructions)', async () => {
    const { gdb, starts } = fakeGdb();
    const all = real(starts);
    const cache = new DisassemblyCache();
    cache.bytesPerInsn = 1; // far too small a guess
    const out = await disassemble(gdb, all[600]!, -100, 300, local, cache);
    assert.deepEqual(out.map((d) => BigInt(d.address)), all.slice(500, 800));
  });
});
