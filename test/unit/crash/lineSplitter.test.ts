import assert from 'node:assert/strict';
import { LineSplitter, type LineSplitterOptions, type SplitLine } from '../../../src/crash/lineSplitter';

function split(chunks: (string | Buffer)[], options?: LineSplitterOptions): SplitLine[] {
  const out: SplitLine[] = [];
  const s = new LineSplitter((l) => out.push(l), options);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
  s.end();
  return out;
}
const texts = (lines: SplitLine[]) => lines.map((l) => l.text);

describe('LineSplitter', () => {
  it('splits on LF, CRLF and a lone CR, like an editor counts lines', () => {
    assert.deepEqual(texts(split(['a\nb\r\nc\rd'])), ['a', 'b', 'c', 'd']);
    assert.deepEqual(texts(split(['a\r\r\nb\n'])), ['a', '', 'b']);
    assert.deepEqual(texts(split(['\n\n'])), ['', '']);
    assert.deepEqual(texts(split([''])), []);
  });

  it('a CRLF cut between two chunks is one line break', () => {
    assert.deepEqual(texts(split(['one\r', '\ntwo\r', '', '\nthree'])), ['one', 'two', 'three']);
  });

  it('a line split across many chunks is joined', () => {
    const chunks = 'Solo5: trap: type=#PF ec=0x2\n'.split('');
    assert.deepEqual(texts(split(chunks)), ['Solo5: trap: type=#PF ec=0x2']);
  });

  it('a multi-byte character cut between chunks decodes whole', () => {
    const bytes = Buffer.from('α→€😀\n', 'utf8');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(texts(split(chunks)), ['α→€😀']);
  });

  it('invalid UTF-8 becomes U+FFFD, and never throws', () => {
    assert.deepEqual(texts(split([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0xc3])])), ['a\ufffd\ufffdb', '\ufffd']);
  });

  it('an endless line is truncated at maxLineBytes by default; line numbers stay those of the file', () => {
    const long = 'x'.repeat(1000);
    const lines = split([long, long, long, '\nnext\n'], { maxLineBytes: 100 });
    assert.equal(lines.length, 2);
    assert.equal(lines[0].text, 'x'.repeat(100));
    assert.equal(lines[0].truncated, true);
    assert.deepEqual(lines[1], { text: 'next', truncated: false });
  });

  it('split mode emits an endless line in pieces without cutting a character', () => {
    const lines = split(['€'.repeat(50) + '\n'], { maxLineBytes: 20, overlong: 'split' });
    assert.ok(lines.length > 1);
    assert.equal(lines.map((l) => l.text).join(''), '€'.repeat(50));
    assert.ok(lines.every((l) => !l.text.includes('\ufffd')));
  });

  it('memory stays bounded on a huge line without newline', () => {
    const out: SplitLine[] = [];
    const s = new LineSplitter((l) => out.push(l), { maxLineBytes: 1024 });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 200; i++) s.push(chunk); // 12.5 MiB
    assert.equal(out.length, 0);
    s.end();
    assert.equal(out[0].text.length, 1024);
  });
});
