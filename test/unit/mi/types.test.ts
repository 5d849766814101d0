import assert from 'node:assert/strict';
import { parseMiLine } from '../../../src/mi/parser';
import {
  isMiTuple,
  miBigInt,
  miGet,
  miList,
  miNumber,
  miString,
  miStrings,
  miTuple,
  miTuples,
  type MiTuple,
} from '../../../src/mi/types';

describe('MI value accessors', () => {
  const rec = parseMiLine(
    '*stopped,reason="breakpoint-hit",bkptno="1",frame={addr="0xffffffff81000123",func="compute",' +
      'args=[{name="a",value="3"},{name="b",value="4"}],line="42"},thread-id="1",ids=["1","2",{x="y"}]',
  );
  assert.ok(rec.kind === 'exec');
  const r: MiTuple = rec.results;

  it('miString', () => {
    assert.equal(miString(r.reason), 'breakpoint-hit');
    assert.equal(miString(r.frame), undefined);
    assert.equal(miString(r.ids), undefined);
    assert.equal(miString(r.missing), undefined);
    assert.equal(miString(''), '');
  });

  it('miTuple and isMiTuple', () => {
    const frame = miTuple(r.frame);
    assert.ok(frame);
    assert.equal(frame.func, 'compute');
    assert.equal(miTuple(r.reason), undefined);
    assert.equal(miTuple(r.ids), undefined);
    assert.equal(miTuple(undefined), undefined);
    assert.equal(isMiTuple({}), true);
    assert.equal(isMiTuple([]), false);
    assert.equal(isMiTuple('x'), false);
  });

  it('miList, miTuples and miStrings', () => {
    const args = miList(miTuple(r.frame)?.args);
    assert.equal(args.length, 2);
    assert.deepEqual(miList(r.reason), []);
    assert.deepEqual(miList(r.frame), []);
    assert.deepEqual(miList(undefined), []);
    assert.deepEqual(
      miTuples(miTuple(r.frame)?.args).map((a) => miString(a.name)),
      ['a', 'b'],
    );
    assert.deepEqual(miStrings(r.ids), ['1', '2']);
    assert.deepEqual(miTuples(r.ids), [{ x: 'y' }]);
    assert.deepEqual(miStrings(undefined), []);
  });

  it('miNumber', () => {
    assert.equal(miNumber(r.bkptno), 1);
    assert.equal(miNumber(miTuple(r.frame)?.line), 42);
    assert.equal(miNumber('0x1f'), 31);
    assert.equal(miNumber('0X10'), 16);
    assert.equal(miNumber('-1'), -1);
    assert.equal(miNumber('01'), 1);
    assert.equal(miNumber('2.5'), 2.5);
    assert.equal(miNumber('9007199254740991'), 9007199254740991);
    assert.equal(miNumber('9007199254740993'), undefined); // not exact
    assert.equal(miNumber(miTuple(r.frame)?.addr), undefined); // not exact
    assert.equal(miNumber(''), undefined);
    assert.equal(miNumber(' 1'), undefined);
    assert.equal(miNumber('1e999'), undefined);
    assert.equal(miNumber('0x'), undefined);
    assert.equal(miNumber('abc'), undefined);
    assert.equal(miNumber('<MULTIPLE>'), undefined);
    assert.equal(miNumber(r.frame), undefined);
    assert.equal(miNumber(undefined), undefined);
  });

  it('miBigInt', () => {
    assert.equal(miBigInt(miTuple(r.frame)?.addr), 0xffffffff81000123n);
    assert.equal(miBigInt('42'), 42n);
    assert.equal(miBigInt('-0x10'), -16n);
    assert.equal(miBigInt('--5'), undefined);
    assert.equal(miBigInt('1.5'), undefined);
    assert.equal(miBigInt(''), undefined);
    assert.equal(miBigInt(['1']), undefined);
  });

  it('miGet', () => {
    assert.equal(miGet(r, 'reason'), 'breakpoint-hit');
    assert.equal(miGet(r, 'toString'), undefined);
    assert.equal(miGet(r, 'constructor'), undefined);
    assert.equal(miGet(r.reason, 'x'), undefined);
    assert.equal(miGet(undefined, 'x'), undefined);
  });
});
