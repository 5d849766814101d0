// Exceptions printed as the OCaml runtime prints an uncaught one.
import assert from 'node:assert/strict';
import { formatException, readException } from '../../../src/ocaml/exceptions';
import { rangePredicate } from '../../../src/ocaml/heap';
import { FakeMemory, HeapBuilder, int } from './fakeMemory';
import { isValidAddress, PREDEFINED, raiseStop, SYM } from './realImage';

function setup(): { mem: FakeMemory; h: HeapBuilder; fmt: (w: bigint) => Promise<string | undefined> } {
  const mem = new FakeMemory();
  const h = new HeapBuilder(mem, 0x200000n);
  const opts = { isValidAddress: rangePredicate([{ start: 0x200000n, end: 0x300000n }]) };
  return { mem, h, fmt: (w) => formatException(w, mem, opts) };
}

describe('ocaml exceptions', () => {
  it('prints constant exceptions by name', async () => {
    const { h, fmt } = setup();
    assert.equal(await fmt(h.exnConstructor('Not_found', -13)), 'Not_found');
    assert.equal(await fmt(h.exnConstructor('Stdlib.Exit', 1)), 'Stdlib.Exit');
  });

  it('prints arguments: strings quoted and escaped, ints in decimal', async () => {
    const { h, fmt } = setup();
    assert.equal(await fmt(h.exn(h.exnConstructor('Failure', -3), h.string('deliberate'))), 'Failure("deliberate")');
    assert.equal(await fmt(h.exn(h.exnConstructor('Invalid_argument', -4), h.string('index out of bounds'))), 'Invalid_argument("index out of bounds")');
    assert.equal(await fmt(h.exn(h.exnConstructor('Config.Invalid', 40), h.string('port'), int(8080))), 'Config.Invalid("port", 8080)');
    assert.equal(await fmt(h.exn(h.exnConstructor('Failure', -3), h.string('say "hi"\n'))), 'Failure("say \\"hi\\"\\n")');
    assert.equal(await fmt(h.exn(h.exnConstructor('E', 41), int(-12))), 'E(-12)');
  });

  it('prints a float as string_of_float and other blocks as _', async () => {
    const { h, fmt } = setup();
    assert.equal(await fmt(h.exn(h.exnConstructor('E', 41), h.float(1.5), h.float(2))), 'E(1.5, 2.)');
    assert.equal(await fmt(h.exn(h.exnConstructor('E', 41), h.block(0, [int(1), int(2)]), h.list([int(1)]))), 'E(_, _)');
    assert.equal(await fmt(h.exn(h.exnConstructor('E', 41), 0x900000n)), 'E(_)');
  });

  it('unpacks the tuple of Assert_failure, Match_failure and Undefined_recursive_module', async () => {
    const { h, fmt } = setup();
    const loc = (): bigint => h.block(0, [h.string('unikernel.ml'), int(42), int(4)]);
    assert.equal(await fmt(h.exn(h.exnConstructor('Assert_failure', -11), loc())), 'Assert_failure("unikernel.ml", 42, 4)');
    assert.equal(await fmt(h.exn(h.exnConstructor('Match_failure', -8), loc())), 'Match_failure("unikernel.ml", 42, 4)');
    assert.equal(await fmt(h.exn(h.exnConstructor('Undefined_recursive_module', -12), loc())), 'Undefined_recursive_module("unikernel.ml", 42, 4)');
    // Only those: a user exception with a tuple argument prints it as `_`.
    assert.equal(await fmt(h.exn(h.exnConstructor('Mine', 50), loc())), 'Mine(_)');
  });

  it('bounds the arguments', async () => {
    const { mem, h } = setup();
    const many = h.exn(h.exnConstructor('Many', 5), ...Array.from({ length: 40 }, (_, i) => int(i)));
    const text = await formatException(many, mem, { isValidAddress: () => true, maxArgs: 3 });
    assert.equal(text, 'Many(0, 1, 2, …)');
    const long = h.exn(h.exnConstructor('Failure', -3), h.string('z'.repeat(5000)));
    assert.equal(await formatException(long, mem, { maxStringLength: 4 }), 'Failure("zzzz…")');
  });

  it('gives the parts of the exception', async () => {
    const { mem, h } = setup();
    const ctor = h.exnConstructor('Config.Invalid', 40);
    const port = h.string('port');
    const e = await readException(h.exn(ctor, port, int(8080)), mem);
    assert.deepEqual(e, { name: 'Config.Invalid', text: 'Config.Invalid("port", 8080)', constructorBlock: ctor, constant: false, args: [port, int(8080)] });
    const c = await readException(ctor, mem);
    assert.deepEqual(c && [c.constant, c.args], [true, []]);
  });

  it('says undefined for what is not an exception', async () => {
    const { h, fmt } = setup();
    assert.equal(await fmt(int(3)), undefined);
    assert.equal(await fmt(h.string('Failure')), undefined);
    assert.equal(await fmt(h.block(0, [int(1), int(2)])), undefined);
    assert.equal(await fmt(h.block(0, [h.block(0, [int(1)]), int(2)])), undefined);
    // An object: field 0 is its method table, not a name.
    assert.equal(await fmt(h.block(248, [h.block(0, [int(0)]), int(7)])), undefined);
    // A constructor whose id is not an integer, or whose name is not a string.
    assert.equal(await fmt(h.block(248, [h.string('X'), h.string('y')])), undefined);
    assert.equal(await fmt(h.block(248, [int(1), int(2)])), undefined);
    assert.equal(await fmt(h.block(248, [0x900000n, int(2)])), undefined);
    assert.equal(await fmt(0x900000n), undefined);
    assert.equal(await fmt(0x200004n), undefined);
  });
});

describe('ocaml exceptions: the real image', () => {
  it('prints the exception raised by hello.ml: Failure("deliberate")', async () => {
    const { registers, memory } = raiseStop();
    assert.equal(await formatException(registers.rax, memory, { isValidAddress }), 'Failure("deliberate")');
    const e = await readException(registers.rax, memory, { isValidAddress });
    assert.equal(e?.constructorBlock, SYM.caml_exn_Failure);
    assert.equal(e?.name, 'Failure');
  });

  it('names every predefined exception from its static constructor', async () => {
    const { memory } = raiseStop();
    for (const [name, addr] of PREDEFINED) assert.equal(await formatException(addr, memory, { isValidAddress }), name, name);
  });

  it("prints Stdlib's preallocated exceptions", async () => {
    const { memory } = raiseStop();
    assert.equal(await formatException(0x378fb8n, memory, { isValidAddress }), 'Stdlib.Exit');
    assert.equal(await formatException(0x378fd0n, memory, { isValidAddress }), 'Invalid_argument("index out of bounds")');
  });
});
