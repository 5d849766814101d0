// Symbolization against ELF images compiled here, checked against nm/objdump.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../../src/crash/findExecutable';
import { readElfInfo } from '../../../src/elf';
import { Symbolizer, SymbolizerError, symbolizeReport, type BackendName } from '../../../src/crash/symbolizer';
import type { CrashReport } from '../../../src/crash/report';

const SOURCE = `/* test program */
#include <stdint.h>
volatile int sink;

__attribute__((noinline)) void leaf(int *p) {
  *p = 42;
}

__attribute__((noinline)) int middle(int *p) {
  leaf(p);
  return 7;
}

int main(void) {
  int v;
  return middle(&v);
}
`;
// 1-based lines in SOURCE.
const LINE = { leaf: 5, leafStore: 6, middle: 9, callLeaf: 10, afterCall: 11 };

const INLINE_SOURCE = `volatile int sink;
static inline __attribute__((always_inline)) void helper(int x) {
  sink = x * 3;
}
__attribute__((noinline)) void caller(int x) {
  helper(x);
  sink = 1;
}
int main(void) { caller(5); return 0; }
`;
const INLINE_LINE = { helperStore: 3, callHelper: 6 };

function symbols(elf: string): Map<string, { address: bigint; size: bigint }> {
  const out = new Map<string, { address: bigint; size: bigint }>();
  for (const line of execFileSync('nm', ['-S', elf], { encoding: 'utf8' }).split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [Tt] (\S+)$/.exec(line);
    if (m) out.set(m[3], { address: BigInt(`0x${m[1]}`), size: BigInt(`0x${m[2]}`) });
  }
  return out;
}

/** The return address of `from`'s call to `to` (the instruction after the call). */
function returnAddressOfCall(elf: string, from: string, to: string): bigint {
  const dump = execFileSync('objdump', ['-d', '--no-show-raw-insn', `--disassemble=${from}`, elf], { encoding: 'utf8' }).split('\n');
  for (let i = 0; i < dump.length; i++) {
    if (new RegExp(`call.*<${to}>`).test(dump[i])) {
      const next = dump.slice(i + 1).find((l) => /^\s+[0-9a-f]+:/.test(l));
      if (next) return BigInt(`0x${/^\s+([0-9a-f]+):/.exec(next)?.[1]}`);
    }
  }
  throw new Error(`no call to ${to} in ${from}`);
}

const backends: BackendName[] = ['llvm-symbolizer', 'addr2line'];
const installed = (b: BackendName) => findExecutable(b) !== undefined;

describe('Symbolizer', function () {
  this.timeout(60_000);
  let dir: string;
  let plain: string;
  let inlined: string;
  let stripped: string;
  let noSymbols: string;

  before(function () {
    if (!findExecutable('gcc') || !findExecutable('nm') || !findExecutable('objdump')) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'symbolizer-'));
    writeFileSync(join(dir, 'prog.c'), SOURCE);
    writeFileSync(join(dir, 'inl.c'), INLINE_SOURCE);
    plain = join(dir, 'prog');
    inlined = join(dir, 'inl');
    stripped = join(dir, 'prog.stripped');
    noSymbols = join(dir, 'prog.nosyms');
    // Static and non-PIE like a unikernel: link addresses are run-time addresses.
    execFileSync('gcc', ['-g', '-O0', '-fno-inline', '-static', '-no-pie', '-o', plain, join(dir, 'prog.c')]);
    execFileSync('gcc', ['-g', '-O2', '-static', '-no-pie', '-o', inlined, join(dir, 'inl.c')]);
    copyFileSync(plain, stripped);
    execFileSync('strip', ['--strip-debug', stripped]);
    copyFileSync(plain, noSymbols);
    execFileSync('strip', ['--strip-all', noSymbols]);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads ELF section facts', async () => {
    const info = await readElfInfo(plain);
    assert.equal(info.bits, 64);
    assert.equal(info.hasDebugInfo, true);
    assert.equal(info.hasSymbols, true);
    const bare = await readElfInfo(noSymbols);
    assert.equal(bare.hasDebugInfo, false);
    assert.equal(bare.hasSymbols, false);
  });

  for (const backend of backends) {
    describe(backend, () => {
      before(function () {
        if (!installed(backend)) this.skip();
      });

      it('resolves function starts to the right function and line', async () => {
        const s = await Symbolizer.open(plain, { backend });
        try {
          assert.equal(s.backend, backend);
          const syms = symbols(plain);
          const [leaf, middle] = await s.symbolize([{ address: syms.get('leaf')!.address }, { address: `0x${syms.get('middle')!.address.toString(16)}` }]);
          assert.equal(leaf.function, 'leaf');
          assert.match(leaf.file ?? '', /prog\.c$/);
          assert.equal(leaf.line, LINE.leaf);
          assert.equal(middle.function, 'middle');
          assert.equal(middle.line, LINE.middle);
        } finally {
          s.dispose();
        }
      });

      it('looks up return addresses at address - 1 (the call), others as they are', async () => {
        const s = await Symbolizer.open(plain, { backend });
        try {
          const ret = returnAddressOfCall(plain, 'middle', 'leaf');
          const [asReturn, asPc] = await s.symbolize([{ address: ret, isReturnAddress: true }, { address: ret }]);
          assert.equal(asReturn.lookupAddress, `0x${(ret - 1n).toString(16)}`);
          assert.equal(asReturn.address, `0x${ret.toString(16)}`);
          assert.equal(asReturn.function, 'middle');
          assert.equal(asReturn.line, LINE.callLeaf);
          assert.equal(asPc.line, LINE.afterCall);
        } finally {
          s.dispose();
        }
      });

      it('unknown addresses in a batch do not shift the other answers', async () => {
        const s = await Symbolizer.open(plain, { backend });
        try {
          const leaf = symbols(plain).get('leaf')!.address;
          const out = await s.symbolize([{ address: 0 }, { address: leaf }, { address: '0xffffffff0000' }, { address: leaf }]);
          assert.deepEqual(out.map((f) => f.function), [undefined, 'leaf', undefined, 'leaf']);
          assert.equal(out[0].file, undefined);
          // A second batch, after addr2line's sentinel answer, still lines up.
          const again = await s.symbolize([{ address: symbols(plain).get('middle')!.address }]);
          assert.equal(again[0].function, 'middle');
        } finally {
          s.dispose();
        }
      });

      it('reports inlined callers', async () => {
        const s = await Symbolizer.open(inlined, { backend });
        try {
          const caller = symbols(inlined).get('caller')!;
          const requests = [];
          for (let a = caller.address; a < caller.address + caller.size; a++) requests.push({ address: a });
          const out = await s.symbolize(requests);
          const inl = out.find((f) => f.function === 'helper');
          assert.ok(inl, 'some address of caller() is inlined helper()');
          assert.equal(inl.line, INLINE_LINE.helperStore);
          assert.equal(inl.inlinedBy[0]?.function, 'caller');
          assert.equal(inl.inlinedBy[0]?.line, INLINE_LINE.callHelper);
        } finally {
          s.dispose();
        }
      });

      it('caches answers', async () => {
        const s = await Symbolizer.open(plain, { backend });
        try {
          const leaf = symbols(plain).get('leaf')!.address;
          await s.symbolize([{ address: leaf }, { address: leaf }]);
          assert.equal(s.cachedAddresses, 1);
          s.dispose();
          // Disposed: no process any more, and it says so.
          await assert.rejects(s.symbolize([{ address: leaf }]), /disposed/);
        } finally {
          s.dispose();
        }
      });

      it('an image without DWARF gets a note and no lines, only symbol-table names', async () => {
        const s = await Symbolizer.open(stripped, { backend });
        try {
          assert.match(s.note ?? '', /image has no debug information/);
          const [leaf] = await s.symbolize([{ address: symbols(plain).get('leaf')!.address }]);
          assert.equal(leaf.function, 'leaf');
          assert.equal(leaf.file, undefined);
          assert.equal(leaf.line, undefined);
        } finally {
          s.dispose();
        }
      });
    });
  }

  it('a fully stripped image: note, nothing resolved, no process needed', async () => {
    const s = await Symbolizer.open(noSymbols);
    assert.equal(s.backend, undefined);
    assert.equal(s.note, 'image has no debug information');
    const [f] = await s.symbolize([{ address: symbols(plain).get('leaf')!.address }]);
    assert.deepEqual(f.inlinedBy, []);
    assert.equal(f.function, undefined);
    s.dispose();
  });

  it('symbolizeReport fills the frames and keeps the rest of the report', async () => {
    const s = await Symbolizer.open(plain);
    try {
      const syms = symbols(plain);
      const store = syms.get('leaf')!.address + 8n; // inside leaf's body, past the prologue
      const report: CrashReport = {
        platform: 'unikraft', kind: 'page-fault', message: 'x', line: 3, registers: { rip: `0x${store.toString(16)}` },
        frames: [
          { address: `0x${store.toString(16)}` },
          { address: `0x${returnAddressOfCall(plain, 'middle', 'leaf').toString(16)}`, returnAddress: true },
          { address: '', function: 'Ocaml.frame', file: 'x.ml', line: 2 },
        ],
      };
      const out = await symbolizeReport(report, s);
      assert.equal(out.frames[0].function, 'leaf');
      assert.ok(out.frames[0].line === LINE.leaf || out.frames[0].line === LINE.leafStore);
      assert.equal(out.frames[1].function, 'middle');
      assert.equal(out.frames[1].line, LINE.callLeaf);
      assert.deepEqual(out.frames[2], report.frames[2]);
      assert.equal(report.frames[0].function, undefined, 'the input report is not changed');
      assert.equal(out.notes, undefined);
    } finally {
      s.dispose();
    }
  });

  it('clear errors: missing file, not an ELF, a symbolizer that hangs, one that dies', async () => {
    await assert.rejects(Symbolizer.open(join(dir, 'nope')), (e: Error) => e instanceof SymbolizerError && /cannot read the image/.test(e.message));
    writeFileSync(join(dir, 'text.elf'), 'not an elf at all, just some text\n'.repeat(3));
    await assert.rejects(Symbolizer.open(join(dir, 'text.elf')), /is not an ELF file/);

    const hang = join(dir, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(hang, 0o755);
    const slow = await Symbolizer.open(plain, { toolPath: hang, backend: 'llvm-symbolizer', timeoutMs: 200 });
    await assert.rejects(slow.symbolize([{ address: symbols(plain).get("leaf")!.address }]), /did not answer within 200 ms/);
    slow.dispose();

    const die = join(dir, 'die.sh');
    writeFileSync(die, '#!/bin/sh\necho "symbolizer: cannot load image" >&2\nexit 3\n');
    chmodSync(die, 0o755);
    const dead = await Symbolizer.open(plain, { toolPath: die, backend: 'addr2line', timeoutMs: 5000 });
    await assert.rejects(dead.symbolize([{ address: symbols(plain).get("leaf")!.address }]), /exited with code 3: symbolizer: cannot load image/);
    dead.dispose();

    await assert.rejects(Symbolizer.open(plain, { toolPath: join(dir, 'missing-tool') }), /not found/);
  });

  it('rejects things that are not addresses', async () => {
    const s = await Symbolizer.open(plain);
    try {
      await assert.rejects(s.symbolize([{ address: 'rip' }]), /not an address/);
      await assert.rejects(s.symbolize([{ address: -1 }]), /not an address/);
    } finally {
      s.dispose();
    }
  });
});
