/**
 * Disassembly of real images: the exact window the adapter finds from an image's own code lands on
 * objdump's instruction boundaries across each image, and the Disassembly view's requests at the
 * entry (200 from the pc, 200 before it) answer objdump's instructions, in order, none missing.
 */
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { exactWindow } from '../../src/adapter/codeWindow';
import { ImageCode } from '../../src/elf';
import { type Session, withSession } from '../integration/helpers';
import { continuous, objdumpSweep } from '../unit/adapter/objdump';
import { MIRAGE_KERNEL, UK_DBG, UK_KERNEL, describeReal, solo5Image } from './images';

const IMAGES = [
  { title: 'Solo5 test_hello.virtio', kernel: solo5Image('test_hello'), symbols: solo5Image('test_hello') },
  { title: 'Unikraft helloworld', kernel: UK_KERNEL, symbols: UK_DBG },
  { title: 'MirageOS hello.virtio (OCaml)', kernel: MIRAGE_KERNEL, symbols: MIRAGE_KERNEL },
];

describeReal('real images: disassembly', function () {
  let s: Session;
  withSession((session) => (s = session));

  for (const image of IMAGES) {
    it(`${image.title}: exact windows land on objdump's boundaries, and the Disassembly view gets objdump's instructions`, async () => {
      const sweep = objdumpSweep(image.symbols);
      const { starts } = sweep;
      const code = await ImageCode.read(image.symbols);
      let checked = 0;
      let exact = 0;
      for (let i = 200; i + 200 < starts.length; i += Math.max(1, Math.floor(starts.length / 60))) {
        // Where data inside code makes objdump restart, it is no oracle for one continuous sweep.
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
      assert.ok(checked >= 40, `${checked} windows checked`);
      assert.ok(exact >= checked * 0.9, `${exact} of ${checked} windows with all 200 before`);

      const stop = await s.startTo('launch', { kernel: image.kernel, stopAtEntry: true }, []);
      const pc = (await s.topFrames(stop.body.threadId ?? 1))[0]?.instructionPointerReference;
      assert.ok(pc, 'the entry frame has its pc');
      const at = starts.indexOf(BigInt(pc));
      assert.ok(at >= 200, `objdump decodes an instruction at ${pc}`);
      for (const offset of [0, -200]) {
        const r = (await s.dc.customRequest('disassemble', { memoryReference: pc, instructionOffset: offset, instructionCount: 200, resolveSymbols: true })) as DebugProtocol.DisassembleResponse;
        const got = r.body!.instructions.map((x) => BigInt(x.address));
        assert.equal(got.length, 200);
        // Where the code section ends before 200 instructions, gdb goes on decoding what follows; objdump stops.
        const want: bigint[] = starts.slice(at + offset, at + offset + 200).filter((a, k, all) => k === 0 || a > all[k - 1]!);
        assert.deepEqual(got.slice(0, want.length), want, `instructions ${offset} from ${pc}`);
      }
    });
  }
});
