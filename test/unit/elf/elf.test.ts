import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, ElfFile, findSymbols, isElfFile, parseNotes, parseSymbols, readElfInfo, readSymbols } from '../../../src/elf';

const BUILD = join(__dirname, '../../fixtures/build');
const KERNEL = join(BUILD, 'kernel.elf');

describe('ELF reading (src/elf)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'elf-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a 64-bit image: class, machine, entry, debug info, symbols, code ranges', async () => {
    const info = await readElfInfo(KERNEL);
    assert.equal(info.bits, 64);
    assert.equal(info.machine, 'x86_64');
    assert.equal(info.littleEndian, true);
    assert.ok(info.entry > 0n);
    assert.equal(info.hasDebugInfo, true);
    assert.equal(info.hasSymbols, true);
    assert.ok(info.sectionNames.includes('.text'));
    assert.ok(info.code.length > 0 && info.code.every((r) => r.end > r.start));
  });

  it('reads an ELF32 boot copy without debug info', async () => {
    const info = await readElfInfo(join(BUILD, 'hello_qemu-x86_64'));
    assert.equal(info.bits, 32);
    assert.equal(info.hasDebugInfo, false);
  });

  it('finds symbols by their table entries', async () => {
    const found = await findSymbols(KERNEL, ['compute', 'kmain', 'no_such_function']);
    assert.deepEqual([...found].sort(), ['compute', 'kmain']);
    const compute = (await readSymbols(KERNEL)).find((s) => s.name === 'compute');
    assert.equal(compute?.type, 2, 'a function');
    assert.ok((compute?.value ?? 0n) > 0n);
  });

  it('a name shared as a string-table suffix is found only through an entry that points at it', () => {
    const strtab = Buffer.from('\0ukboot_main\0', 'latin1');
    const entry = (nameOff: number): Buffer => {
      const b = Buffer.alloc(24);
      b.writeUInt32LE(nameOff, 0);
      b[4] = 0x12; // global function
      b.writeUInt16LE(1, 6);
      b.writeBigUInt64LE(0x1000n, 8);
      return b;
    };
    const layout = { bits: 64 as const, littleEndian: true };
    assert.deepEqual(parseSymbols(entry(1), strtab, layout).map((s) => s.name), ['ukboot_main']);
    assert.deepEqual(parseSymbols(Buffer.concat([entry(1), entry(8)]), strtab, layout).map((s) => [s.name, s.type, s.bind]), [['ukboot_main', 2, 1], ['main', 2, 1]]);
  });

  it('parses notes: a GNU build id and a Xen PVH entry', () => {
    const note = (name: string, type: number, desc: Buffer): Buffer => {
      const n = Buffer.from(`${name}\0`, 'latin1');
      const head = Buffer.alloc(12);
      head.writeUInt32LE(n.length, 0);
      head.writeUInt32LE(desc.length, 4);
      head.writeUInt32LE(type, 8);
      const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
      return Buffer.concat([head, pad(n), pad(desc)]);
    };
    const entry = Buffer.alloc(4);
    entry.writeUInt32LE(0x100020, 0);
    const notes = parseNotes(Buffer.concat([note('GNU', 3, Buffer.from('abcdef', 'hex')), note('Xen', 18, entry)]));
    assert.deepEqual(notes.map((n) => [n.name, n.type, n.desc.toString('hex')]), [['GNU', 3, 'abcdef'], ['Xen', 18, '20001000']]);
  });

  it('says what is wrong with a file that is not a readable ELF', async () => {
    const problem = async (path: string): Promise<string> => {
      try {
        const file = await ElfFile.open(path);
        await file.sections().finally(() => file.close());
        return 'ok';
      } catch (e) {
        return e instanceof ElfError ? e.problem : String(e);
      }
    };
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'text'), 'not an ELF file at all, just some text\n'.repeat(3));
    writeFileSync(join(dir, 'cut'), readFileSync(KERNEL).subarray(0, 3000));
    assert.equal(await problem(join(dir, 'missing')), 'missing');
    assert.equal(await problem(dir), 'directory');
    assert.equal(await problem(join(dir, 'empty')), 'empty');
    assert.equal(await problem(join(dir, 'text')), 'not-elf');
    assert.equal(await problem(join(dir, 'cut')), 'damaged');
    assert.equal(await isElfFile(KERNEL), true);
    assert.equal(await isElfFile(join(dir, 'text')), false);
  });
});
