// The OCaml value decoder over fake memory built word by word, and over the real image's memory.
import assert from 'node:assert/strict';
import { decodeModuleBlock, decodeValue, type OcamlChild, type OcamlValue } from '../../../src/ocaml/values';
import { decodeHeader, rangePredicate, readOcamlString, tagInt, untag } from '../../../src/ocaml/heap';
import { floatRepr, formatG, stringOfFloat } from '../../../src/ocaml/format';
import { arityFromStaticClosures } from '../../../src/ocaml/abi';
import { closinfo, FakeMemory, HeapBuilder, int } from './fakeMemory';
import { entryStop, HELLO_DATA, isValidAddress, raiseStop, SYM } from './realImage';

const HEAP = { start: 0x200000n, end: 0x400000n };

function setup(): { mem: FakeMemory; h: HeapBuilder; opts: { isValidAddress: (a: bigint) => boolean } } {
  const mem = new FakeMemory();
  mem.addSymbols([
    { address: 0x1000n, size: 0x40n, name: 'camlHello__greet_84' },
    { address: 0x1040n, size: 0x80n, name: 'camlHello__depth_88' },
    { address: 0x10c0n, size: 0x40n, name: 'caml_curry2' },
    { address: 0x1100n, size: 0x40n, name: 'caml_curry2_1' },
    { address: 0x1140n, size: 0x40n, name: 'camlStdlib__$5e_140' },
    { address: 0x1180n, size: 0x40n, name: 'camlHello__even_10' },
    { address: 0x11c0n, size: 0x40n, name: 'camlHello__odd_11' },
  ]);
  return { mem, h: new HeapBuilder(mem, HEAP.start), opts: { isValidAddress: rangePredicate([HEAP, { start: 0x100000n, end: 0x110000n }]) } };
}

async function kids(v: OcamlValue): Promise<OcamlChild[]> {
  assert.ok(v.children, `${v.value} has children`);
  return v.children();
}

describe('ocaml values: immediates', () => {
  it('untags integers, negative ones too', async () => {
    const { mem } = setup();
    for (const n of [0n, 1n, 42n, -1n, -3n, (1n << 62n) - 1n, -(1n << 62n)]) {
      const v = await decodeValue(tagInt(n), mem);
      assert.equal(v.kind, 'int');
      assert.equal(v.value, n.toString());
      assert.equal(v.int, n);
      assert.equal(v.children, undefined);
    }
    assert.equal(untag(0xfffffffffffffffbn), -3n, 'the id of caml_exn_Failure in the real image');
  });

  it('offers the bool, unit and char readings, and uses a hint', async () => {
    const { mem } = setup();
    const zero = await decodeValue(1n, mem);
    assert.deepEqual([zero.value, zero.asBool, zero.asUnit, zero.asChar], ['0', false, true, "'\\000'"]);
    const one = await decodeValue(3n, mem);
    assert.deepEqual([one.value, one.asBool, one.asUnit], ['1', true, undefined]);
    assert.equal((await decodeValue(tagInt(7), mem)).asBool, undefined);
    assert.equal((await decodeValue(tagInt(97), mem)).asChar, "'a'");
    assert.equal((await decodeValue(tagInt(300), mem)).asChar, undefined);
    assert.deepEqual(pick(await decodeValue(3n, mem, { hint: 'bool' })), ['true', 'bool']);
    assert.deepEqual(pick(await decodeValue(1n, mem, { hint: 'bool' })), ['false', 'bool']);
    assert.deepEqual(pick(await decodeValue(tagInt(5), mem, { hint: 'bool' })), ['5', 'int']);
    assert.deepEqual(pick(await decodeValue(1n, mem, { hint: 'unit' })), ['()', 'unit']);
    assert.deepEqual(pick(await decodeValue(tagInt(10), mem, { hint: 'char' })), ["'\\n'", 'char']);
    assert.deepEqual(pick(await decodeValue(tagInt(39), mem, { hint: 'char' })), ["'\\''", 'char']);
    assert.deepEqual(pick(await decodeValue(1n, mem, { hint: 'list' })), ['[]', 'list']);
  });
});

describe('ocaml values: strings and floats', () => {
  it('takes a string length from the padding, for every padding', async () => {
    const { mem, h, opts } = setup();
    for (let len = 0; len <= 17; len++) {
      const text = 'abcdefghijklmnopq'.slice(0, len);
      const p = h.string(text);
      assert.equal(decodeHeader((await mem.readWord(p - 8n)) as bigint).wosize, Math.floor(len / 8) + 1);
      const v = await decodeValue(p, mem, opts);
      assert.deepEqual(pick(v), [JSON.stringify(text), 'string'], `length ${len}`);
      assert.equal((await readOcamlString(mem, p, opts.isValidAddress))?.length, len);
    }
  });

  it('escapes as OCaml does', async () => {
    const { mem, h, opts } = setup();
    const p = h.string(Buffer.from([0x61, 0x22, 0x5c, 0x0a, 0x09, 0x0d, 0x08, 0x01, 0x7f, 0xc3, 0xa9, 0x27]));
    assert.equal((await decodeValue(p, mem, opts)).value, '"a\\"\\\\\\n\\t\\r\\b\\001\\127\\195\\169\'"');
  });

  it('reads only the start of a long string', async () => {
    const { mem, h, opts } = setup();
    const p = h.string('x'.repeat(100_000));
    const before = mem.reads.length;
    const v = await decodeValue(p, mem, { ...opts, maxStringLength: 20 });
    assert.equal(v.value, `"${'x'.repeat(20)}…" (100000 bytes)`);
    assert.ok(mem.reads.length - before < 10);
  });

  it('calls a string with a bad padding byte malformed', async () => {
    const { mem, h, opts } = setup();
    const p = h.raw(h.header(1, 252), [0x0900000000006261n]);
    const v = await decodeValue(p, mem, opts);
    assert.equal(v.kind, 'malformed');
    assert.match(v.value, /^<malformed block 0x200008: a string whose padding byte is wrong>$/);
  });

  it('prints floats as the toplevel does', async () => {
    const { mem, h, opts } = setup();
    const cases: [number, string][] = [
      [3.14, '3.14'], [1, '1.'], [-0, '-0.'], [0.1, '0.1'], [1e100, '1e+100'], [-2.5e-7, '-2.5e-07'], [NaN, 'nan'],
      [Infinity, 'infinity'], [-Infinity, 'neg_infinity'], [1 / 3, '0.333333333333333315'], [123456789012, '123456789012.'],
    ];
    for (const [x, text] of cases) assert.deepEqual(pick(await decodeValue(h.float(x), mem, opts)), [text, 'float'], String(x));
    assert.equal(stringOfFloat(1 / 3), '0.333333333333');
    assert.equal(stringOfFloat(2), '2.');
    assert.equal(stringOfFloat(-Infinity), '-inf');
    assert.equal(formatG(1234567, 3), '1.23e+06');
    assert.equal(formatG(0.0001, 12), '0.0001');
    assert.equal(formatG(0.00001, 12), '1e-05');
    assert.equal(floatRepr(2.220446049250313e-16), '2.22044604925031308e-16', 'epsilon_float as the toplevel prints it');
  });

  it('shows float arrays with their elements', async () => {
    const { mem, h, opts } = setup();
    const v = await decodeValue(h.floatArray([1, 2.5, -3]), mem, opts);
    assert.deepEqual(pick(v), ['[|1.; 2.5; -3.|]', 'float array']);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value, c.type]), [['[0]', '1.', 'float'], ['[1]', '2.5', 'float'], ['[2]', '-3.', 'float']]);
    const big = await decodeValue(h.floatArray(Array.from({ length: 20 }, (_, i) => i)), mem, { ...opts, maxItems: 3 });
    assert.equal(big.value, '[|0.; 1.; 2.; …|]');
  });
});

describe('ocaml values: blocks', () => {
  it('shows tuples, records and variants by tag with lazy children', async () => {
    const { mem, h, opts } = setup();
    const s = h.string('a');
    const t = h.block(0, [int(1), s, int(-2)]);
    const v = await decodeValue(t, mem, opts);
    assert.deepEqual(pick(v), ['<tag 0: 1, "a", -2>', 'block tag 0 (3 fields)']);
    assert.equal(v.pointer, t);
    assert.equal(v.header?.tag, 0);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value, c.kind]), [['[0]', '1', 'int'], ['[1]', '"a"', 'string'], ['[2]', '-2', 'int']]);
    assert.equal((await decodeValue(h.block(3, [int(7)]), mem, opts)).value, '<tag 3: 7>');
    assert.equal((await decodeValue(h.block(0, []), mem, opts)).value, '[||]');
    assert.equal((await decodeValue(h.block(5, []), mem, opts)).value, '<tag 5>');
  });

  it('bounds a preview in depth, items and length', async () => {
    const { mem, h, opts } = setup();
    const deep = h.block(0, [h.block(0, [h.block(0, [h.block(0, [int(1)])])])]);
    assert.equal((await decodeValue(deep, mem, opts)).value, '<tag 0: <tag 0: …>>');
    const wide = h.block(1, Array.from({ length: 30 }, (_, i) => int(i)));
    assert.equal((await decodeValue(wide, mem, { ...opts, maxItems: 4 })).value, '<tag 1: 0, 1, 2, 3, …>');
    const long = h.block(0, Array.from({ length: 8 }, () => h.string('y'.repeat(150))));
    const v = await decodeValue(long, mem, opts);
    assert.ok(v.value.length <= 160, `${v.value.length} characters`);
    assert.ok(v.value.endsWith('…'));
  });

  it('pages the children of a big block', async () => {
    const { mem, h, opts } = setup();
    const v = await decodeValue(h.block(0, Array.from({ length: 250 }, (_, i) => int(i))), mem, { ...opts, pageSize: 100 });
    const page1 = await kids(v);
    assert.equal(page1.length, 101);
    assert.deepEqual([page1[99].name, page1[99].value], ['[99]', '99']);
    assert.deepEqual([page1[100].name, page1[100].kind, page1[100].value], ['[100…]', 'more', '150 more']);
    const page2 = await kids(page1[100]);
    assert.deepEqual([page2[0].name, page2[0].value, page2.length], ['[100]', '100', 101]);
    const page3 = await kids(page2[100]);
    assert.deepEqual([page3.length, page3[49].name], [50, '[249]']);
  });

  it('detects cycles in previews and children', async () => {
    const { mem, h, opts } = setup();
    const b = h.block(0, [int(1), int(0), int(0)]);
    mem.setWord(b + 8n, b); // field 1 points back to the block itself
    const v = await decodeValue(b, mem, opts);
    assert.equal(v.value, `<tag 0: 1, <cycle 0x${b.toString(16)}>, 0>`);
    const [, back] = await kids(v);
    assert.equal(back.kind, 'cycle');
    assert.equal(back.children, undefined);
    // Two blocks pointing at each other.
    const x = h.block(0, [int(0), int(0), int(0)]);
    const y = h.block(0, [x, int(0), int(0)]);
    mem.setWord(x, y);
    const vx = await decodeValue(x, mem, opts);
    const [toY] = await kids(vx);
    const [toX] = await kids(toY);
    assert.equal(toX.kind, 'cycle');
  });

  it('shows lazy, forced lazy and abstract blocks', async () => {
    const { mem, h, opts } = setup();
    const thunk = h.closure(0x1000n, 1);
    const lazy = await decodeValue(h.block(246, [thunk]), mem, opts);
    assert.deepEqual(pick(lazy), ['<lazy>', 'lazy']);
    assert.equal((await kids(lazy))[0].value, '<fun Hello.greet>');
    assert.deepEqual(pick(await decodeValue(h.block(250, [int(42)]), mem, opts)), ['lazy (42)', 'lazy (forced)']);
    assert.deepEqual(pick(await decodeValue(h.block(251, [0x1234n, 0x5678n]), mem, opts)), ['<abstract, 2 words>', 'abstract']);
  });
});

describe('ocaml values: lists', () => {
  it('shows lists as OCaml writes them', async () => {
    const { mem, h, opts } = setup();
    const l = h.list([int(1), int(2), int(3)]);
    const v = await decodeValue(l, mem, opts);
    assert.deepEqual(pick(v), ['[1; 2; 3]', 'list']);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value]), [['[0]', '1'], ['[1]', '2'], ['[2]', '3']]);
    assert.equal((await decodeValue(h.list([h.string('a'), h.string('b')]), mem, opts)).value, '["a"; "b"]');
    assert.equal((await decodeValue(h.list([h.list([int(1)]), h.list([])]), mem, opts)).value, '[[1]; 0]');
    assert.equal((await decodeValue(h.list([int(5)]), mem, { ...opts, hint: 'block' })).value, '<tag 0: 5, 0>');
  });

  it('bounds a huge list: preview, reads and pages', async () => {
    const { mem, h } = setup();
    const opts = { isValidAddress: rangePredicate([{ start: 0x200000n, end: 0x2000000n }]) };
    const items = Array.from({ length: 100_000 }, (_, i) => int(i));
    const l = h.list(items);
    const before = mem.reads.length;
    const v = await decodeValue(l, mem, { ...opts, maxListLength: 1000 });
    assert.equal(v.kind, 'list');
    assert.equal(v.value, '[0; 1; 2; 3; 4; 5; 6; 7; …]');
    assert.ok(mem.reads.length - before < 4000, `${mem.reads.length - before} reads`);
    const page1 = await kids(v);
    assert.equal(page1.length, 101);
    assert.deepEqual([page1[100].name, page1[100].value], ['[100…]', 'more']);
    const page2 = await kids(page1[100]);
    assert.deepEqual([page2[0].name, page2[0].value], ['[100]', '100']);
  });

  it('shows a list of known length in pages that end', async () => {
    const { mem, h, opts } = setup();
    const v = await decodeValue(h.list(Array.from({ length: 150 }, (_, i) => int(i))), mem, opts);
    const page1 = await kids(v);
    assert.equal(page1[100].value, '50 more');
    const page2 = await kids(page1[100]);
    assert.deepEqual([page2.length, page2[49].name, page2[49].value], [50, '[149]', '149']);
  });

  it('stops at a cyclic list', async () => {
    const { mem, h, opts } = setup();
    const l = h.list([int(1), int(2)]);
    const second = (await mem.readWord(l + 8n)) as bigint;
    mem.setWord(second + 8n, l); // let rec l = 1 :: 2 :: l
    const v = await decodeValue(l, mem, opts);
    assert.deepEqual(pick(v), ['[1; 2; …cycle]', 'list']);
    const children = await kids(v);
    assert.deepEqual(children.map((c) => c.kind), ['int', 'int', 'cycle']);
  });

  it('does not call a chain that ends badly a list', async () => {
    const { mem, h, opts } = setup();
    const pair = h.block(0, [int(1), int(5)]);
    assert.equal((await decodeValue(pair, mem, opts)).kind, 'block');
    const broken = h.block(0, [int(1), h.block(0, [int(2), 0x999990n])]);
    assert.equal((await decodeValue(broken, mem, opts)).kind, 'block');
  });
});

describe('ocaml values: closures, objects, exceptions, custom blocks', () => {
  it('names a closure by its code', async () => {
    const { mem, h, opts } = setup();
    const greet = h.closure(0x1000n, 1);
    const v = await decodeValue(greet, mem, opts);
    assert.deepEqual(pick(v), ['<fun Hello.greet>', 'closure']);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value]), [['code', 'Hello.greet (0x1000)'], ['arity', '1']]);
    // Arity 2: field 0 is caml_curry2, the name comes from the direct-call code in field 2.
    const depth = h.closure(0x10c0n, 2, [int(9)], 0x1040n);
    const d = await decodeValue(depth, mem, opts);
    assert.equal(d.value, '<fun Hello.depth>');
    assert.deepEqual((await kids(d)).map((c) => [c.name, c.value]), [['code', 'caml_curry2 (0x10c0)'], ['arity', '2'], ['direct code', 'Hello.depth (0x1040)'], ['env[0]', '9']]);
    assert.equal((await decodeValue(h.closure(0x1140n, 2, [], 0x1140n), mem, opts)).value, '<fun Stdlib.(^)>');
    assert.equal((await decodeValue(h.closure(0x5000n, 1), mem, opts)).value, '<fun 0x5000>');
  });

  it('names a partial application after the function applied', async () => {
    const { mem, h, opts } = setup();
    const depth = h.closure(0x10c0n, 2, [], 0x1040n);
    const partial = h.closure(0x1100n, 1, [int(3), depth]);
    const v = await decodeValue(partial, mem, opts);
    assert.equal(v.value, '<fun Hello.depth (partial)>');
    const env = (await kids(v)).filter((c) => c.name.startsWith('env'));
    assert.deepEqual(env.map((c) => c.value), ['3', '<fun Hello.depth>']);
  });

  it('reads an infix closure (mutually recursive functions)', async () => {
    const { mem, h, opts } = setup();
    // let rec even … and odd …: one block { even code; info; Infix header; odd code; info; env }.
    const block = h.raw(h.header(6, 247), [0x1180n, closinfo(1, 5), (3n << 10n) | 249n, 0x11c0n, closinfo(1, 2), int(77)]);
    const odd = block + 3n * 8n;
    const v = await decodeValue(odd, mem, opts);
    assert.equal(v.value, '<fun Hello.odd>');
    const c = await kids(v);
    assert.deepEqual(c.map((x) => x.name), ['code', 'arity', 'infix offset', 'env[0]']);
    assert.equal(c[3].value, '77');
    assert.equal((await decodeValue(block, mem, opts)).value, '<fun Hello.even>');
    const stray = h.raw((3n << 10n) | 249n, [0x1180n, closinfo(1, 2)]);
    assert.equal((await decodeValue(stray, mem, opts)).kind, 'malformed');
  });

  it('tells exceptions from objects', async () => {
    const { mem, h, opts } = setup();
    const notFound = h.exnConstructor('Not_found', -7);
    const v = await decodeValue(notFound, mem, opts);
    assert.deepEqual(pick(v), ['Not_found', 'exn']);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value]), [['name', '"Not_found"'], ['id', '-7']]);
    const failure = h.exn(h.exnConstructor('Failure', -3), h.string('boom'));
    const f = await decodeValue(failure, mem, opts);
    assert.deepEqual(pick(f), ['Failure("boom")', 'exn']);
    assert.deepEqual((await kids(f)).map((c) => [c.name, c.value]), [['constructor', 'Failure'], ['[1]', '"boom"']]);
    const obj = h.block(248, [h.block(0, [int(2), int(0)]), int(5), int(10)]);
    const o = await decodeValue(obj, mem, opts);
    assert.deepEqual(pick(o), ['<object #5>', 'object']);
    assert.deepEqual((await kids(o)).map((c) => c.name), ['methods', 'id', '[2]']);
  });

  it('reads custom blocks by their operations identifier', async () => {
    const { mem, h, opts } = setup();
    const ops = (id: string): bigint => {
      const name = h.string(id); // any readable bytes will do for the C string
      return h.block(0, [name]);
    };
    const int64 = h.block(255, [ops('_j'), BigInt.asUintN(64, -5n)]);
    assert.deepEqual(pick(await decodeValue(int64, mem, opts)), ['-5L', 'int64']);
    const i32 = Buffer.alloc(8);
    i32.writeInt32LE(-7);
    const int32 = h.block(255, [ops('_i'), i32.readBigUInt64LE(0)]);
    assert.deepEqual(pick(await decodeValue(int32, mem, opts)), ['-7l', 'int32']);
    assert.deepEqual(pick(await decodeValue(h.block(255, [ops('_n'), 9n]), mem, opts)), ['9n', 'nativeint']);
    assert.deepEqual(pick(await decodeValue(h.block(255, [ops('_chan'), 0x55e000n]), mem, opts)), ['<channel>', 'channel']);
    assert.deepEqual(pick(await decodeValue(h.block(255, [ops('_mutex'), 0n]), mem, opts)), ['<custom _mutex>', 'custom _mutex']);
    assert.deepEqual(pick(await decodeValue(h.block(255, [0x7777000n, 0n]), mem, opts)), ['<custom>', 'custom']);
    // A Cstruct buffer: (char, int8_unsigned_elt, c_layout) Array1 of 4096.
    const ba = h.block(255, [ops('_bigarr02'), 0x300000n, 1n, 12n, 0n, 4096n]);
    const v = await decodeValue(ba, mem, opts);
    assert.deepEqual(pick(v), ['<bigarray char [4096] @ 0x300000>', 'bigarray (char)']);
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value]), [['data', '0x300000'], ['dim[0]', '4096']]);
  });
});

describe('ocaml values: bad memory', () => {
  it('never follows an invalid pointer', async () => {
    const { mem, h, opts } = setup();
    h.block(0, [int(1)]);
    const cases: [bigint, RegExp][] = [
      [0n, /^<invalid pointer 0x0>$/],
      [HEAP.start + 12n, /^<invalid pointer 0x20000c>$/], // not word-aligned
      [0x900000n, /^<invalid pointer 0x900000>$/], // outside the valid ranges
      [0x3f0000n, /^<invalid pointer 0x3f0000>$/], // valid but unreadable
    ];
    for (const [w, re] of cases) {
      const before = mem.reads.length;
      const v = await decodeValue(w, mem, opts);
      assert.equal(v.kind, 'invalid');
      assert.match(v.value, re);
      assert.equal(v.children, undefined);
      const read = mem.reads.slice(before);
      assert.ok(read.every((a) => opts.isValidAddress(a)), `read only valid memory: ${read.map((a) => a.toString(16))}`);
    }
  });

  it('calls blocks with impossible headers malformed', async () => {
    const { mem, h, opts } = setup();
    const huge = h.raw((1n << 40n) << 10n, [int(1)]);
    assert.match((await decodeValue(huge, mem, opts)).value, /^<malformed block 0x[0-9a-f]+: \d+ words run past valid memory>$/);
    const twoWordFloat = h.raw(h.header(2, 253), [0n, 0n]);
    assert.match((await decodeValue(twoWordFloat, mem, opts)).value, /a float of 2 words/);
    const emptyString = h.raw(h.header(0, 252), []);
    assert.match((await decodeValue(emptyString, mem, opts)).value, /a string of 0 words/);
    const tinyClosure = h.raw(h.header(1, 247), [0x1000n]);
    assert.equal((await decodeValue(tinyClosure, mem, opts)).kind, 'malformed');
  });

  it('shows a field that points nowhere as such, inside a good block', async () => {
    const { mem, h, opts } = setup();
    const b = h.block(0, [int(1), 0x900000n, HEAP.start + 4n]);
    const v = await decodeValue(b, mem, opts);
    assert.equal(v.value, '<tag 0: 1, <invalid pointer 0x900000>, <invalid pointer 0x200004>>');
    assert.deepEqual((await kids(v)).map((c) => c.kind), ['int', 'invalid', 'invalid']);
  });

  it('names the fields of a module block', async () => {
    const { mem, h, opts } = setup();
    const m = h.block(0, [h.block(0, [int(10)]), h.closure(0x1000n, 1)]);
    const v = await decodeModuleBlock(m, mem, { ...opts, fieldNames: ['counter', 'greet'] });
    assert.deepEqual((await kids(v)).map((c) => [c.name, c.value]), [['counter', '<tag 0: 10>'], ['greet', '<fun Hello.greet>']]);
  });
});

describe('ocaml values: the real image (hello.virtio with `crash`)', () => {
  it('decodes the arguments of the innermost Hello.depth at its entry: 0 and true', async () => {
    const { registers, memory } = entryStop();
    assert.equal(registers.rip, SYM.camlHello__depth_88);
    const n = await decodeValue(registers.rax, memory, { isValidAddress });
    assert.deepEqual([n.value, n.kind], ['0', 'int']);
    const crash = await decodeValue(registers.rbx, memory, { isValidAddress });
    assert.deepEqual([crash.value, crash.asBool], ['1', true]);
    assert.equal((await decodeValue(registers.rbx, memory, { isValidAddress, hint: 'bool' })).value, 'true');
  });

  it('shows the Hello module block: the counter ref at 10 and the functions', async () => {
    const { memory } = entryStop();
    const v = await decodeModuleBlock(SYM.camlHello, memory, { isValidAddress, fieldNames: ['counter'] });
    assert.equal(v.header?.colour, 3, 'static data is black');
    assert.equal(v.value, '<tag 0: <tag 0: 10>, <fun Hello.greet>, <fun Hello.depth>, <fun Hello.bump_counter>, <fun Hello.main>>');
    const [counter, greet, depth] = await kids(v);
    assert.equal(counter.name, 'counter');
    assert.equal(counter.pointer, 0x378eb8n, 'the ref is on the minor heap');
    assert.equal((await kids(counter))[0].value, '10');
    assert.equal((await kids(greet)).find((c) => c.name === 'arity')?.value, '1');
    assert.deepEqual((await kids(depth)).map((c) => c.value).slice(0, 3), ['caml_curry2 (0x105fb0)', '2', 'Hello.depth (0x106100)']);
  });

  it('finds arities from the static closures', async () => {
    const { memory } = entryStop();
    assert.equal(await arityFromStaticClosures(memory, SYM.camlHello__depth_88, HELLO_DATA, isValidAddress), 2);
    assert.equal(await arityFromStaticClosures(memory, SYM.camlHello__greet_84, HELLO_DATA, isValidAddress), 1);
    assert.equal(await arityFromStaticClosures(memory, SYM.camlHello__main_96, HELLO_DATA, isValidAddress), 1);
    assert.equal(await arityFromStaticClosures(memory, SYM.camlHello__bump_counter_92, HELLO_DATA, isValidAddress), 1);
    assert.equal(await arityFromStaticClosures(memory, 0x106300n, HELLO_DATA, isValidAddress), undefined);
  });

  it('decodes the exception being raised', async () => {
    const { registers, memory } = raiseStop();
    const v = await decodeValue(registers.rax, memory, { isValidAddress });
    assert.deepEqual(pick(v), ['Failure("deliberate")', 'exn']);
    assert.equal(v.pointer, 0x378de0n);
    const [ctor, msg] = await kids(v);
    assert.deepEqual([ctor.name, ctor.value, ctor.pointer], ['constructor', 'Failure', SYM.caml_exn_Failure]);
    assert.deepEqual((await kids(ctor)).map((c) => c.value), ['"Failure"', '-3']);
    assert.deepEqual([msg.value, msg.pointer], ['"deliberate"', 0x15bbb0n]);
  });

  it('decodes Stdlib globals: closures, exceptions, strings on the minor heap', async () => {
    const { memory } = raiseStop();
    const stdlib = await decodeValue(SYM.camlStdlib, memory, { isValidAddress, hint: 'block' });
    assert.equal(stdlib.header?.wosize, 104);
    const fields = await kids(stdlib);
    assert.deepEqual(fields.slice(0, 8).map((c) => c.value), [
      '<fun Stdlib.invalid_arg>', '<fun Stdlib.failwith>', 'Stdlib.Exit', 'Match_failure', 'Assert_failure', 'Invalid_argument', 'Failure', 'Not_found',
    ]);
    assert.equal(fields[2].pointer, 0x378fb8n, 'Stdlib.Exit is allocated on the minor heap');
    // Strings main built before the raise, still on the minor heap.
    assert.equal((await decodeValue(0x378df8n, memory, { isValidAddress })).value, '"counter=10\\n"');
    assert.equal((await decodeValue(0x378e78n, memory, { isValidAddress })).value, '"cmdline=\\"crash\\"\\n"');
  });

  it('decodes the float constants Stdlib allocated', async () => {
    const { memory } = raiseStop();
    const at = async (a: bigint): Promise<string> => (await decodeValue(a, memory, { isValidAddress })).value;
    assert.equal(await at(0x378f58n), '2.22044604925031308e-16'); // epsilon_float
    assert.equal(await at(0x378f68n), '2.22507385850720138e-308'); // min_float
    assert.equal(await at(0x378f78n), '1.79769313486231571e+308'); // max_float
    assert.equal(await at(0x378f88n), 'nan');
    assert.equal(await at(0x378f98n), 'neg_infinity');
    assert.equal(await at(0x378fa8n), 'infinity');
  });

  it('decodes the standard channels as custom blocks', async () => {
    const { memory } = raiseStop();
    for (const a of [0x378f10n, 0x378f28n, 0x378f40n]) {
      assert.deepEqual(pick(await decodeValue(a, memory, { isValidAddress })), ['<channel>', 'channel']);
    }
  });
});

function pick(v: OcamlValue): [string, string] {
  return [v.value, v.type];
}
