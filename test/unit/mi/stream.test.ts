import assert from 'node:assert/strict';
import { MI_DEFAULT_MAX_LINE_BYTES, MiStreamParser, parseMiLine } from '../../../src/mi/parser';
import type { MiRecord } from '../../../src/mi/types';

/** A gdb 13 (MI3) session against a QEMU gdbstub, as seen on gdb's stdout. */
const TRANSCRIPT_LINES = [
  '=thread-group-added,id="i1"',
  '~"GNU gdb (Debian 13.1-3) 13.1\\n"',
  '~"Copyright (C) 2023 Free Software Foundation, Inc.\\n"',
  '~"Reading symbols from /x/kernel.elf...\\n"',
  '(gdb) ',
  '1^done',
  '(gdb) ',
  '=thread-group-started,id="i1",pid="42000"',
  '=thread-created,id="1",group-id="i1"',
  '&"warning: No executable has been specified and target does not support\\n"',
  '2^connected,frame={level="0",addr="0x000000000000fff0",func="??",args=[],arch="i8086"}',
  '(gdb) ',
  '3^done,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="0x0000000000100123",func="compute",file="kernel.c",fullname="/x/kernel.c",line="42",thread-groups=["i1"],times="0",original-location="compute"}',
  '(gdb) ',
  '4^done,bkpt={number="2",type="breakpoint",disp="keep",enabled="y",addr="<MULTIPLE>",times="0",original-location="inline_helper",locations=[{number="2.1",enabled="y",addr="0x0000000000100200",func="inline_helper",file="util.h",fullname="/x/util.h",line="10",thread-groups=["i1"]},{number="2.2",enabled="y",addr="0x0000000000100480",func="inline_helper",file="util.h",fullname="/x/util.h",line="10",thread-groups=["i1"]}]}',
  '(gdb) ',
  '5^running',
  '*running,thread-id="all"',
  '(gdb) ',
  'Booting unikernel... caf\u00e9 \u2615 \u{1F600}',
  '@"Hello from the gdbstub console \\303\\251\\n"',
  '*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame={addr="0x0000000000100123",func="compute",args=[{name="a",value="3"},{name="b",value="4"}],file="kernel.c",fullname="/x/kernel.c",line="42",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="0"',
  '=breakpoint-modified,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="0x0000000000100123",func="compute",file="kernel.c",fullname="/x/kernel.c",line="42",thread-groups=["i1"],times="1",original-location="compute"}',
  '(gdb) ',
  '6^done,stack=[frame={level="0",addr="0x0000000000100123",func="compute",file="kernel.c",fullname="/x/kernel.c",line="42",arch="i386:x86-64"},frame={level="1",addr="0x00000000001001f0",func="main",file="kernel.c",fullname="/x/kernel.c",line="77",arch="i386:x86-64"}]',
  '(gdb) ',
  '7^done,variables=[{name="msg",value="0x100800 \\"h\\303\\251llo\\""},{name="n",value="42"}]',
  '(gdb) ',
  '8^error,msg="No symbol \\"foo\\" in current context."',
  '(gdb) ',
  '+download,{section=".text",section-size="6668",total-size="9880"}',
  '',
  '9^exit',
];
const TRANSCRIPT = TRANSCRIPT_LINES.map((l) => l + '\n').join('');
const EXPECTED: MiRecord[] = TRANSCRIPT_LINES.map(parseMiLine);

function collect(feed: (p: MiStreamParser) => void, options?: { maxLineBytes?: number }): MiRecord[] {
  const out: MiRecord[] = [];
  const p = new MiStreamParser((r) => out.push(r), options);
  feed(p);
  return out;
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplits(buf: Buffer, seed: number, maxChunk: number): Buffer[] {
  const rnd = prng(seed);
  const chunks: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    chunks.push(buf.subarray(i, i + n));
    i += n;
  }
  return chunks;
}

describe('MiStreamParser', () => {
  it('the transcript parses into every record kind', () => {
    const kinds = new Set(EXPECTED.map((r) => r.kind));
    for (const k of ['result', 'exec', 'status', 'notify', 'console', 'target', 'log', 'prompt', 'unparsed']) {
      assert.ok(kinds.has(k as MiRecord['kind']), `missing kind ${k}`);
    }
    assert.deepEqual(EXPECTED[19], { kind: 'unparsed', line: 'Booting unikernel... caf\u00e9 \u2615 \u{1F600}' });
    assert.deepEqual(EXPECTED[20], { kind: 'target', text: 'Hello from the gdbstub console \u00e9\n' });
    assert.deepEqual(EXPECTED[26], {
      kind: 'result',
      token: 7,
      resultClass: 'done',
      results: {
        variables: [
          { name: 'msg', value: '0x100800 "h\u00e9llo"' },
          { name: 'n', value: '42' },
        ],
      },
    });
  });

  it('parses a whole transcript pushed at once', () => {
    assert.deepEqual(collect((p) => p.push(Buffer.from(TRANSCRIPT))), EXPECTED);
  });

  it('parses a transcript pushed as a string', () => {
    assert.deepEqual(collect((p) => p.push(TRANSCRIPT)), EXPECTED);
  });

  it('parses a transcript fed byte by byte', () => {
    const buf = Buffer.from(TRANSCRIPT);
    assert.deepEqual(
      collect((p) => {
        for (let i = 0; i < buf.length; i++) p.push(buf.subarray(i, i + 1));
      }),
      EXPECTED,
    );
  });

  it('parses a transcript fed in random splits', () => {
    const buf = Buffer.from(TRANSCRIPT);
    for (let seed = 1; seed <= 50; seed++) {
      const chunks = randomSplits(buf, seed, seed % 2 === 0 ? 7 : 300);
      assert.deepEqual(
        collect((p) => chunks.forEach((c) => p.push(c))),
        EXPECTED,
        `seed ${seed}`,
      );
    }
  });

  it('parses a CRLF transcript, whole and in random splits', () => {
    const crlf = Buffer.from(TRANSCRIPT.replace(/\n/g, '\r\n'));
    assert.deepEqual(collect((p) => p.push(crlf)), EXPECTED);
    for (let seed = 100; seed < 120; seed++) {
      const chunks = randomSplits(crlf, seed, 11);
      assert.deepEqual(
        collect((p) => chunks.forEach((c) => p.push(c))),
        EXPECTED,
        `seed ${seed}`,
      );
    }
  });

  it('splits between CR and LF', () => {
    assert.deepEqual(
      collect((p) => {
        p.push('^done\r');
        p.push('\n(gdb) \r');
        p.push('\n');
      }),
      [{ kind: 'result', resultClass: 'done', results: {} }, { kind: 'prompt' }],
    );
  });

  it('decodes a UTF-8 character split across chunks', () => {
    for (const ch of ['\u00e9', '\u20ac', '\u{1F600}']) {
      const line = Buffer.from(`~"x${ch}y"\nout ${ch}\n`);
      const bytes = Buffer.from(ch).length;
      for (let cut = 1; cut < bytes; cut++) {
        // Cut inside the character in the console record and in the raw line.
        const first = line.indexOf(Buffer.from(ch)) + cut;
        const second = line.lastIndexOf(Buffer.from(ch)) + cut;
        const recs = collect((p) => {
          p.push(line.subarray(0, first));
          p.push(line.subarray(first, second));
          p.push(line.subarray(second));
        });
        assert.deepEqual(recs, [
          { kind: 'console', text: `x${ch}y` },
          { kind: 'unparsed', line: `out ${ch}` },
        ]);
      }
    }
  });

  it('turns invalid UTF-8 on the wire into U+FFFD', () => {
    const recs = collect((p) => p.push(Buffer.from([0x41, 0xff, 0xc3, 0x0a, 0x7e, 0x22, 0xc3, 0x22, 0x0a])));
    assert.deepEqual(recs, [
      { kind: 'unparsed', line: 'A\uFFFD\uFFFD' },
      { kind: 'console', text: '\uFFFD' },
    ]);
  });

  it('keeps a partial line until it is terminated, and end() flushes it', () => {
    const out: MiRecord[] = [];
    const p = new MiStreamParser((r) => out.push(r));
    p.push('^done,value="4');
    assert.deepEqual(out, []);
    assert.equal(p.pendingBytes, 14);
    p.push('2"\n(gdb)');
    assert.deepEqual(out, [{ kind: 'result', resultClass: 'done', results: { value: '42' } }]);
    p.end();
    assert.deepEqual(out.slice(1), [{ kind: 'prompt' }]);
    assert.equal(p.pendingBytes, 0);
    p.end();
    assert.equal(out.length, 2);
    // Usable again after end().
    p.push('~"x"\n');
    assert.deepEqual(out.slice(2), [{ kind: 'console', text: 'x' }]);
  });

  it('end() flushes a final line ending in CR', () => {
    assert.deepEqual(
      collect((p) => {
        p.push('^exit\r');
        p.end();
      }),
      [{ kind: 'result', resultClass: 'exit', results: {} }],
    );
  });

  it('emits empty lines as unparsed', () => {
    assert.deepEqual(
      collect((p) => p.push('\n\r\n')),
      [
        { kind: 'unparsed', line: '' },
        { kind: 'unparsed', line: '' },
      ],
    );
  });

  it('accepts an empty chunk', () => {
    assert.deepEqual(
      collect((p) => {
        p.push(Buffer.alloc(0));
        p.push('');
        p.end();
      }),
      [],
    );
  });

  it('does not keep a reference to the caller buffer', () => {
    const out: MiRecord[] = [];
    const p = new MiStreamParser((r) => out.push(r));
    const buf = Buffer.from('~"abc');
    p.push(buf);
    buf.fill(0x78);
    p.push('"\n');
    assert.deepEqual(out, [{ kind: 'console', text: 'abc' }]);
  });

  describe('over-long lines', () => {
    it('emits an over-long line truncated and resumes at the next line', () => {
      const out = collect(
        (p) => {
          p.push('~"' + 'a'.repeat(100) + '"\n^done\n');
        },
        { maxLineBytes: 16 },
      );
      assert.deepEqual(out, [
        { kind: 'unparsed', line: '~"' + 'a'.repeat(14) },
        { kind: 'result', resultClass: 'done', results: {} },
      ]);
    });

    it('accepts a line of exactly maxLineBytes', () => {
      const line = '~"' + 'a'.repeat(12) + '"'; // 15 bytes
      assert.deepEqual(
        collect((p) => p.push(line + '\n'), { maxLineBytes: 15 }),
        [{ kind: 'console', text: 'a'.repeat(12) }],
      );
      assert.deepEqual(
        collect((p) => p.push(line + '\n'), { maxLineBytes: 14 }),
        [{ kind: 'unparsed', line: line.slice(0, 14) }],
      );
    });

    it('bounds memory for an over-long line spread over many chunks', () => {
      const out: MiRecord[] = [];
      const p = new MiStreamParser((r) => out.push(r), { maxLineBytes: 1000 });
      for (let i = 0; i < 100; i++) {
        p.push('x'.repeat(97));
        assert.ok(p.pendingBytes <= 1000);
      }
      assert.deepEqual(out, [{ kind: 'unparsed', line: 'x'.repeat(1000) }]);
      assert.equal(p.pendingBytes, 0);
      p.push('yyy\n(gdb) \n');
      assert.deepEqual(out.slice(1), [{ kind: 'prompt' }]);
      p.push('z'.repeat(2000));
      p.end();
      assert.equal(out.length, 3);
      assert.deepEqual(out[2], { kind: 'unparsed', line: 'z'.repeat(1000) });
      p.push('^done\n');
      assert.deepEqual(out[3], { kind: 'result', resultClass: 'done', results: {} });
    });

    it('does not cut a UTF-8 character when truncating', () => {
      const out = collect((p) => p.push('\u20ac'.repeat(10) + '\n'), { maxLineBytes: 10 });
      assert.deepEqual(out, [{ kind: 'unparsed', line: '\u20ac'.repeat(3) }]);
    });

    it('bounds a line by 16 MiB by default', () => {
      assert.equal(MI_DEFAULT_MAX_LINE_BYTES, 16 * 1024 * 1024);
      const out: MiRecord[] = [];
      const p = new MiStreamParser((r) => out.push(r));
      const mib = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 17; i++) p.push(mib);
      assert.equal(out.length, 1);
      assert.equal(out[0]!.kind, 'unparsed');
      assert.equal(out[0]!.kind === 'unparsed' && out[0]!.line.length, MI_DEFAULT_MAX_LINE_BYTES);
      assert.equal(p.pendingBytes, 0);
      p.push('\n^done\n');
      assert.deepEqual(out.slice(1), [{ kind: 'result', resultClass: 'done', results: {} }]);
    });

    it('rejects an invalid maxLineBytes', () => {
      assert.throws(() => new MiStreamParser(() => {}, { maxLineBytes: 0 }), RangeError);
      assert.throws(() => new MiStreamParser(() => {}, { maxLineBytes: Number.NaN }), RangeError);
    });
  });

  describe('callbacks', () => {
    it('keeps undelivered records when the callback throws', () => {
      const out: MiRecord[] = [];
      let fail = true;
      const p = new MiStreamParser((r) => {
        if (fail && r.kind === 'prompt') {
          fail = false;
          throw new Error('boom');
        }
        out.push(r);
      });
      assert.throws(() => p.push('^done\n(gdb) \n~"a"\n~"b"\n'), /boom/);
      assert.deepEqual(out, [{ kind: 'result', resultClass: 'done', results: {} }]);
      p.push('~"c"\n');
      assert.deepEqual(out.slice(1), [
        { kind: 'console', text: 'a' },
        { kind: 'console', text: 'b' },
        { kind: 'console', text: 'c' },
      ]);
    });

    it('delivers records in order when push() is called from the callback', () => {
      const out: string[] = [];
      const p = new MiStreamParser((r) => {
        if (r.kind === 'console') {
          out.push(r.text);
          if (r.text === 'a') p.push('~"nested"\n');
        }
      });
      p.push('~"a"\n~"b"\n');
      assert.deepEqual(out, ['a', 'b', 'nested']);
    });
  });

  describe('hostile input', () => {
    it('handles a 1 MB line of [[[[ in small chunks quickly', () => {
      const t0 = performance.now();
      const out = collect((p) => {
        const chunk = Buffer.alloc(4096, '['.charCodeAt(0));
        p.push('^done,a=');
        for (let i = 0; i < 256; i++) p.push(chunk);
        p.push('\n');
      });
      assert.equal(out.length, 1);
      assert.equal(out[0]!.kind, 'unparsed');
      assert.ok(performance.now() - t0 < 3000);
    });

    it('handles many short lines quickly', () => {
      const t0 = performance.now();
      const body = '*running,thread-id="all"\n(gdb) \n'.repeat(50_000);
      let n = 0;
      const p = new MiStreamParser(() => n++);
      for (const c of randomSplits(Buffer.from(body), 7, 8192)) p.push(c);
      assert.equal(n, 100_000);
      assert.ok(performance.now() - t0 < 3000);
    });
  });
});
