import assert from 'node:assert/strict';
import { MI_MAX_DEPTH, parseMiLine } from '../../../src/mi/parser';
import type { MiRecord, MiTuple } from '../../../src/mi/types';

function results(line: string): MiTuple {
  const rec = parseMiLine(line);
  assert.ok(
    rec.kind === 'result' || rec.kind === 'exec' || rec.kind === 'status' || rec.kind === 'notify',
    `expected a record with results for ${JSON.stringify(line)}, got ${JSON.stringify(rec)}`,
  );
  return rec.results;
}

function text(line: string): string {
  const rec = parseMiLine(line);
  assert.ok(
    rec.kind === 'console' || rec.kind === 'target' || rec.kind === 'log',
    `expected a stream record for ${JSON.stringify(line)}, got ${JSON.stringify(rec)}`,
  );
  return rec.text;
}

function assertUnparsed(line: string, expectedLine: string = line): void {
  assert.deepEqual(parseMiLine(line), { kind: 'unparsed', line: expectedLine });
}

describe('parseMiLine', () => {
  describe('result records', () => {
    it('parses ^done with a breakpoint tuple (gdb 13, MI3)', () => {
      const line =
        '^done,bkpt={number="1",type="breakpoint",disp="keep",enabled="y",addr="0x0000000000100123",' +
        'func="compute",file="kernel.c",fullname="/x/kernel.c",line="42",thread-groups=["i1"],' +
        'times="0",original-location="compute"}';
      assert.deepEqual(parseMiLine(line), {
        kind: 'result',
        resultClass: 'done',
        results: {
          bkpt: {
            number: '1',
            type: 'breakpoint',
            disp: 'keep',
            enabled: 'y',
            addr: '0x0000000000100123',
            func: 'compute',
            file: 'kernel.c',
            fullname: '/x/kernel.c',
            line: '42',
            'thread-groups': ['i1'],
            times: '0',
            'original-location': 'compute',
          },
        },
      });
    });

    it('parses a bare ^done, ^running, ^exit and ^connected', () => {
      assert.deepEqual(parseMiLine('^done'), { kind: 'result', resultClass: 'done', results: {} });
      assert.deepEqual(parseMiLine('^running'), { kind: 'result', resultClass: 'running', results: {} });
      assert.deepEqual(parseMiLine('^exit'), { kind: 'result', resultClass: 'exit', results: {} });
      assert.deepEqual(parseMiLine('7^connected'), {
        kind: 'result',
        token: 7,
        resultClass: 'connected',
        results: {},
      });
    });

    it('parses ^connected with a frame from -target-select remote', () => {
      assert.deepEqual(
        parseMiLine('3^connected,frame={level="0",addr="0x000000000000fff0",func="??",args=[],arch="i8086"}'),
        {
          kind: 'result',
          token: 3,
          resultClass: 'connected',
          results: { frame: { level: '0', addr: '0x000000000000fff0', func: '??', args: [], arch: 'i8086' } },
        },
      );
    });

    it('parses ^error with a token and escaped quotes', () => {
      assert.deepEqual(parseMiLine('123^error,msg="No symbol \\"foo\\" in current context."'), {
        kind: 'result',
        token: 123,
        resultClass: 'error',
        results: { msg: 'No symbol "foo" in current context.' },
      });
    });

    it('parses ^error with an error code', () => {
      assert.deepEqual(
        results('^error,msg="Undefined MI command: frobnicate",code="undefined-command"'),
        { msg: 'Undefined MI command: frobnicate', code: 'undefined-command' },
      );
    });

    it('parses a stack as a list of results (keys dropped)', () => {
      const line =
        '^done,stack=[frame={level="0",addr="0x0000000000100123",func="compute",file="kernel.c",' +
        'fullname="/x/kernel.c",line="42",arch="i386:x86-64"},frame={level="1",addr="0x00000000001001f0",' +
        'func="main",file="kernel.c",fullname="/x/kernel.c",line="77",arch="i386:x86-64"}]';
      assert.deepEqual(results(line), {
        stack: [
          {
            level: '0',
            addr: '0x0000000000100123',
            func: 'compute',
            file: 'kernel.c',
            fullname: '/x/kernel.c',
            line: '42',
            arch: 'i386:x86-64',
          },
          {
            level: '1',
            addr: '0x00000000001001f0',
            func: 'main',
            file: 'kernel.c',
            fullname: '/x/kernel.c',
            line: '77',
            arch: 'i386:x86-64',
          },
        ],
      });
    });

    it('parses MI3 multi-location breakpoints', () => {
      const line =
        '^done,bkpt={number="2",type="breakpoint",disp="keep",enabled="y",addr="<MULTIPLE>",times="0",' +
        'original-location="inline_helper",locations=[{number="2.1",enabled="y",addr="0x0000000000100200",' +
        'func="inline_helper",file="util.h",fullname="/x/util.h",line="10",thread-groups=["i1"]},' +
        '{number="2.2",enabled="y",addr="0x0000000000100480",func="inline_helper",file="util.h",' +
        'fullname="/x/util.h",line="10",thread-groups=["i1"]}]}';
      assert.deepEqual(results(line), {
        bkpt: {
          number: '2',
          type: 'breakpoint',
          disp: 'keep',
          enabled: 'y',
          addr: '<MULTIPLE>',
          times: '0',
          'original-location': 'inline_helper',
          locations: [
            {
              number: '2.1',
              enabled: 'y',
              addr: '0x0000000000100200',
              func: 'inline_helper',
              file: 'util.h',
              fullname: '/x/util.h',
              line: '10',
              'thread-groups': ['i1'],
            },
            {
              number: '2.2',
              enabled: 'y',
              addr: '0x0000000000100480',
              func: 'inline_helper',
              file: 'util.h',
              fullname: '/x/util.h',
              line: '10',
              'thread-groups': ['i1'],
            },
          ],
        },
      });
    });

    it('parses -thread-info output', () => {
      const line =
        '^done,threads=[{id="1",target-id="Thread 1.1",frame={level="0",addr="0x0000000000100123",' +
        'func="compute",args=[{name="a",value="3"}],file="kernel.c",fullname="/x/kernel.c",line="42",' +
        'arch="i386:x86-64"},state="stopped",core="0"}],current-thread-id="1"';
      const r = results(line);
      assert.equal(r['current-thread-id'], '1');
      assert.deepEqual(r.threads, [
        {
          id: '1',
          'target-id': 'Thread 1.1',
          frame: {
            level: '0',
            addr: '0x0000000000100123',
            func: 'compute',
            args: [{ name: 'a', value: '3' }],
            file: 'kernel.c',
            fullname: '/x/kernel.c',
            line: '42',
            arch: 'i386:x86-64',
          },
          state: 'stopped',
          core: '0',
        },
      ]);
    });

    it('parses a list of values', () => {
      assert.deepEqual(results('^done,register-names=["rax","rbx","","rip"]'), {
        'register-names': ['rax', 'rbx', '', 'rip'],
      });
      assert.deepEqual(results('^done,changed-registers=["0","16","17"]'), {
        'changed-registers': ['0', '16', '17'],
      });
    });

    it('parses a list of tuples of registers', () => {
      assert.deepEqual(
        results('^done,register-values=[{number="0",value="0x2a"},{number="16",value="0x100123"}]'),
        {
          'register-values': [
            { number: '0', value: '0x2a' },
            { number: '16', value: '0x100123' },
          ],
        },
      );
    });

    it('rejects an unknown result class', () => {
      assertUnparsed('^frobnicated');
      assertUnparsed('^done2x,a="1"');
      assertUnparsed('^');
    });
  });

  describe('async records', () => {
    it('parses *stopped at a breakpoint', () => {
      const line =
        '*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame={addr="0x0000000000100123",' +
        'func="compute",args=[{name="a",value="3"},{name="b",value="4"}],file="kernel.c",' +
        'fullname="/x/kernel.c",line="42",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="0"';
      assert.deepEqual(parseMiLine(line), {
        kind: 'exec',
        asyncClass: 'stopped',
        results: {
          reason: 'breakpoint-hit',
          disp: 'keep',
          bkptno: '1',
          frame: {
            addr: '0x0000000000100123',
            func: 'compute',
            args: [
              { name: 'a', value: '3' },
              { name: 'b', value: '4' },
            ],
            file: 'kernel.c',
            fullname: '/x/kernel.c',
            line: '42',
            arch: 'i386:x86-64',
          },
          'thread-id': '1',
          'stopped-threads': 'all',
          core: '0',
        },
      });
    });

    it('parses *stopped on a signal and on exit', () => {
      assert.deepEqual(
        results(
          '*stopped,reason="signal-received",signal-name="SIGSEGV",signal-meaning="Segmentation fault",' +
            'frame={addr="0x0000000000000000",func="??",args=[],arch="i386:x86-64"},thread-id="1",' +
            'stopped-threads="all",core="0"',
        ),
        {
          reason: 'signal-received',
          'signal-name': 'SIGSEGV',
          'signal-meaning': 'Segmentation fault',
          frame: { addr: '0x0000000000000000', func: '??', args: [], arch: 'i386:x86-64' },
          'thread-id': '1',
          'stopped-threads': 'all',
          core: '0',
        },
      );
      assert.deepEqual(parseMiLine('*stopped,reason="exited",exit-code="01"'), {
        kind: 'exec',
        asyncClass: 'stopped',
        results: { reason: 'exited', 'exit-code': '01' },
      });
    });

    it('parses *running', () => {
      assert.deepEqual(parseMiLine('*running,thread-id="all"'), {
        kind: 'exec',
        asyncClass: 'running',
        results: { 'thread-id': 'all' },
      });
      assert.deepEqual(parseMiLine('*running'), { kind: 'exec', asyncClass: 'running', results: {} });
    });

    it('parses notify records', () => {
      assert.deepEqual(parseMiLine('=thread-group-started,id="i1",pid="42000"'), {
        kind: 'notify',
        asyncClass: 'thread-group-started',
        results: { id: 'i1', pid: '42000' },
      });
      assert.deepEqual(parseMiLine('=thread-created,id="1",group-id="i1"'), {
        kind: 'notify',
        asyncClass: 'thread-created',
        results: { id: '1', 'group-id': 'i1' },
      });
      assert.deepEqual(parseMiLine('=thread-group-added,id="i1"'), {
        kind: 'notify',
        asyncClass: 'thread-group-added',
        results: { id: 'i1' },
      });
      assert.deepEqual(
        results(
          '=library-loaded,id="/lib/x86_64-linux-gnu/libc.so.6",target-name="/lib/x86_64-linux-gnu/libc.so.6",' +
            'host-name="/lib/x86_64-linux-gnu/libc.so.6",symbols-loaded="0",thread-group="i1",' +
            'ranges=[{from="0x00007ffff7dad700",to="0x00007ffff7f3f93d"}]',
        ).ranges,
        [{ from: '0x00007ffff7dad700', to: '0x00007ffff7f3f93d' }],
      );
      assert.deepEqual(parseMiLine('=cmd-param-changed,param="print pretty",value="on"'), {
        kind: 'notify',
        asyncClass: 'cmd-param-changed',
        results: { param: 'print pretty', value: 'on' },
      });
    });

    it('parses +download status records (bare tuple, as gdb emits them)', () => {
      assert.deepEqual(parseMiLine('+download,{section=".text",section-size="6668",total-size="9880"}'), {
        kind: 'status',
        asyncClass: 'download',
        results: { section: '.text', 'section-size': '6668', 'total-size': '9880' },
      });
      assert.deepEqual(
        parseMiLine(
          '+download,{section=".text",section-sent="512",section-size="6668",total-sent="512",total-size="9880"}',
        ),
        {
          kind: 'status',
          asyncClass: 'download',
          results: {
            section: '.text',
            'section-sent': '512',
            'section-size': '6668',
            'total-sent': '512',
            'total-size': '9880',
          },
        },
      );
      assert.deepEqual(parseMiLine('+download,section=".data",section-size="12"'), {
        kind: 'status',
        asyncClass: 'download',
        results: { section: '.data', 'section-size': '12' },
      });
    });

    it('keeps a token on async records', () => {
      assert.deepEqual(parseMiLine('42*running,thread-id="all"'), {
        kind: 'exec',
        token: 42,
        asyncClass: 'running',
        results: { 'thread-id': 'all' },
      });
    });
  });

  describe('stream records and prompt', () => {
    it('parses console, target and log streams', () => {
      assert.deepEqual(parseMiLine('~"GNU gdb (Debian 13.1-3) 13.1\\n"'), {
        kind: 'console',
        text: 'GNU gdb (Debian 13.1-3) 13.1\n',
      });
      assert.deepEqual(parseMiLine('&"warning: No executable has been specified and target does not support\\n"'), {
        kind: 'log',
        text: 'warning: No executable has been specified and target does not support\n',
      });
      assert.deepEqual(parseMiLine('@"target output"'), { kind: 'target', text: 'target output' });
      assert.deepEqual(parseMiLine('~""'), { kind: 'console', text: '' });
      assert.deepEqual(parseMiLine('&"-exec-continue\\n"'), { kind: 'log', text: '-exec-continue\n' });
    });

    it('parses the prompt with or without a trailing space', () => {
      assert.deepEqual(parseMiLine('(gdb)'), { kind: 'prompt' });
      assert.deepEqual(parseMiLine('(gdb) '), { kind: 'prompt' });
      assert.deepEqual(parseMiLine('(gdb) \r'), { kind: 'prompt' });
      assertUnparsed('(gdb) x');
      assertUnparsed('(gdb');
    });

    it('rejects stream records with a token, without quotes or with trailing garbage', () => {
      assertUnparsed('12~"x"');
      assertUnparsed('~x');
      assertUnparsed('~"x"y');
      assertUnparsed('~');
      assertUnparsed('@"a","b"');
    });
  });

  describe('tokens and line endings', () => {
    it('parses tokens', () => {
      const rec = parseMiLine('0^done');
      assert.equal(rec.kind === 'result' && rec.token, 0);
      const big = parseMiLine('9007199254740991^done');
      assert.equal(big.kind === 'result' && big.token, 9007199254740991);
    });

    it('omits the token property when there is none', () => {
      const rec = parseMiLine('^done');
      assert.equal(Object.hasOwn(rec, 'token'), false);
    });

    it('rejects tokens that are not safe integers', () => {
      assertUnparsed('9007199254740993^done');
      assertUnparsed('123456789012345678901234567890^done');
    });

    it('tolerates a trailing CR and trailing blanks', () => {
      assert.deepEqual(parseMiLine('^done,value="1"\r'), { kind: 'result', resultClass: 'done', results: { value: '1' } });
      assert.deepEqual(parseMiLine('~"x"\r'), { kind: 'console', text: 'x' });
      assert.deepEqual(parseMiLine('^done  '), { kind: 'result', resultClass: 'done', results: {} });
      assertUnparsed('hello\r', 'hello');
    });
  });

  describe('C strings', () => {
    it('decodes simple escapes', () => {
      assert.equal(text('~"a\\nb\\tc\\rd\\"e\\\\f"'), 'a\nb\tc\rd"e\\f');
      assert.equal(text('~"\\a\\b\\f\\v\\e"'), '\x07\b\f\v\x1b');
    });

    it('decodes octal and hex escapes', () => {
      assert.equal(text('~"\\101\\102\\103"'), 'ABC');
      assert.equal(text('~"\\0"'), '\0');
      assert.equal(text('~"\\12x"'), '\nx');
      assert.equal(text('~"\\1234"'), 'S4'); // three digits at most
      assert.equal(text('~"\\x41\\x4a\\x6b"'), 'AJk');
      assert.equal(text('~"\\x4"'), '\x04');
      assert.equal(text('~"\\x414"'), 'A4'); // two hex digits at most
      assert.equal(text('~"\\033[1mbold\\033[0m"'), '\x1b[1mbold\x1b[0m');
    });

    it('decodes escaped bytes together as UTF-8', () => {
      assert.equal(text('~"caf\\303\\251\\n"'), 'café\n');
      assert.equal(text('~"\\xc3\\xa9"'), 'é');
      assert.equal(text('~"\\342\\202\\254 \\360\\237\\230\\200"'), '€ 😀');
      assert.equal(text('~"\\303\\x a9"'), '\uFFFDx a9'); // `\x` without digits is `x`
      assert.equal(text('~"\\342\\202\\254\\n\\342\\202\\254"'), '€\n€');
    });

    it('turns invalid UTF-8 into U+FFFD', () => {
      assert.equal(text('~"\\377"'), '\uFFFD');
      assert.equal(text('~"a\\303b"'), 'a\uFFFDb');
      assert.equal(text('~"\\303"'), '\uFFFD');
      assert.equal(text('~"\\355\\240\\200"'), '\uFFFD\uFFFD\uFFFD'); // encoded surrogate
      assert.equal(text('~"\\342\\202"'), '\uFFFD');
    });

    it('keeps unescaped non-ASCII characters', () => {
      assert.equal(text('~"café ☕ 😀 ünïcödé"'), 'café ☕ 😀 ünïcödé');
      assert.equal(text('~"é\\303\\251é"'), 'ééé');
    });

    it('keeps a byte order mark', () => {
      assert.equal(text('~"\\357\\273\\277x"'), '\uFEFFx');
    });

    it('maps an unknown escape to the character itself', () => {
      assert.equal(text("~\"\\'\\?\\q\""), "'?q");
    });

    it('decodes escapes in results', () => {
      assert.deepEqual(results('^done,value="0x100123 \\"hi\\\\\\"\\n\\""'), { value: '0x100123 "hi\\"\n"' });
      assert.deepEqual(results('^done,value="{a = 1, b = \\"x\\"}"'), { value: '{a = 1, b = "x"}' });
      assert.deepEqual(results('^done,value="\\"h\\303\\251\\""'), { value: '"hé"' });
    });

    it('keeps delimiters inside strings', () => {
      assert.deepEqual(results('^done,a="{[,=]}",b="x,y=z"'), { a: '{[,=]}', b: 'x,y=z' });
    });
  });

  describe('values', () => {
    it('parses empty tuples, lists and strings', () => {
      assert.deepEqual(results('^done,a={},b=[],c=""'), { a: {}, b: [], c: '' });
    });

    it('parses nested tuples and lists', () => {
      assert.deepEqual(results('^done,a={b={c=[{d=["1",["2",[]],{}]}]}},e="f"'), {
        a: { b: { c: [{ d: ['1', ['2', []], {}] }] } },
        e: 'f',
      });
    });

    it('parses a list of results with repeated keys as the list of values', () => {
      assert.deepEqual(results('^done,l=[a="1",a="2",b="3"]'), { l: ['1', '2', '3'] });
    });

    it('gathers the values of a key repeated in a tuple', () => {
      assert.deepEqual(results('^done,t={a="1",b="2",a="3",a="4"}'), { t: { a: ['1', '3', '4'], b: '2' } });
      assert.deepEqual(results('^done,x="1",x="2"'), { x: ['1', '2'] });
    });

    it('keeps list values of a repeated key apart', () => {
      assert.deepEqual(results('^done,t={a=["1"],a=[],a=["2","3"]}'), { t: { a: [['1'], [], ['2', '3']] } });
    });

    it('parses legacy -var-list-children output with repeated child keys', () => {
      const r = results(
        '^done,numchild="2",children={child={name="var1.a",exp="a",numchild="0",type="int"},' +
          'child={name="var1.b",exp="b",numchild="0",type="int"}}',
      );
      assert.deepEqual(r.children, {
        child: [
          { name: 'var1.a', exp: 'a', numchild: '0', type: 'int' },
          { name: 'var1.b', exp: 'b', numchild: '0', type: 'int' },
        ],
      });
    });

    it('keeps the order of keys', () => {
      assert.deepEqual(Object.keys(results('^done,z="1",a="2",m={y="1",b="2"}')), ['z', 'a', 'm']);
    });

    it('accepts keys made of the usual characters', () => {
      assert.deepEqual(results('^done,addr_flags="ADI",thread-groups=["i1"],Frame.9="x"'), {
        addr_flags: 'ADI',
        'thread-groups': ['i1'],
        'Frame.9': 'x',
      });
    });

    it('stores special keys as own entries', () => {
      const r = results('^done,__proto__={polluted="yes"},constructor="c",toString="t"');
      assert.equal(Object.getPrototypeOf(r), Object.prototype);
      assert.ok(Object.hasOwn(r, '__proto__'));
      assert.deepEqual(Object.getOwnPropertyDescriptor(r, '__proto__')?.value, { polluted: 'yes' });
      assert.equal(r.constructor, 'c');
      assert.equal(r.toString, 't');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      const dup = results('^done,t={__proto__="1",__proto__="2"}');
      assert.deepEqual(Object.getOwnPropertyDescriptor(dup.t, '__proto__')?.value, ['1', '2']);
    });

    it('does not see inherited names as repeated keys', () => {
      assert.deepEqual(results('^done,t={hasOwnProperty="1",valueOf="2"}').t, {
        hasOwnProperty: '1',
        valueOf: '2',
      });
    });
  });

  describe('gdb quirks', () => {
    it('accepts a dangling comma at the end of a record', () => {
      assert.deepEqual(parseMiLine('^done,'), { kind: 'result', resultClass: 'done', results: {} });
      assert.deepEqual(results('^done,a="1",'), { a: '1' });
    });

    it('reads a tuple of bare values as a list', () => {
      assert.deepEqual(results('^done,bkpt={number="3",script={"silent","print x","continue"}}'), {
        bkpt: { number: '3', script: ['silent', 'print x', 'continue'] },
      });
    });

    it('accepts lists mixing results and values', () => {
      assert.deepEqual(results('^done,l=["1",a="2",{b="3"}]'), { l: ['1', '2', { b: '3' }] });
    });

    it('turns MI2 multi-location breakpoints into the MI3 shape', () => {
      const line =
        '^done,bkpt={number="2",type="breakpoint",disp="keep",enabled="y",addr="<MULTIPLE>",times="0",' +
        'original-location="inline_helper"},{number="2.1",enabled="y",addr="0x0000000000100200",' +
        'func="inline_helper",file="util.h",line="10"},{number="2.2",enabled="y",addr="0x0000000000100480",' +
        'func="inline_helper",file="util.h",line="10"}';
      assert.deepEqual(results(line), {
        bkpt: {
          number: '2',
          type: 'breakpoint',
          disp: 'keep',
          enabled: 'y',
          addr: '<MULTIPLE>',
          times: '0',
          'original-location': 'inline_helper',
          locations: [
            { number: '2.1', enabled: 'y', addr: '0x0000000000100200', func: 'inline_helper', file: 'util.h', line: '10' },
            { number: '2.2', enabled: 'y', addr: '0x0000000000100480', func: 'inline_helper', file: 'util.h', line: '10' },
          ],
        },
      });
    });

    it('turns MI2 multi-location breakpoints in -break-list bodies into the MI3 shape', () => {
      const line =
        '^done,BreakpointTable={nr_rows="2",nr_cols="6",hdr=[{width="3",alignment="-1",col_name="number",colhdr="Num"}],' +
        'body=[bkpt={number="1",addr="<MULTIPLE>"},{number="1.1",addr="0x10"},{number="1.2",addr="0x20"},' +
        'bkpt={number="2",addr="0x30"}]}';
      assert.deepEqual(miBody(results(line)), [
        { number: '1', addr: '<MULTIPLE>', locations: [{ number: '1.1', addr: '0x10' }, { number: '1.2', addr: '0x20' }] },
        { number: '2', addr: '0x30' },
      ]);
      function miBody(r: MiTuple): unknown {
        const table = r.BreakpointTable;
        assert.ok(table && typeof table === 'object' && !Array.isArray(table));
        return table.body;
      }
    });

    it('turns an MI2 =breakpoint-modified with locations into the MI3 shape', () => {
      assert.deepEqual(
        parseMiLine('=breakpoint-modified,bkpt={number="2",times="1"},{number="2.1",enabled="y"},{number="2.2",enabled="n"}'),
        {
          kind: 'notify',
          asyncClass: 'breakpoint-modified',
          results: {
            bkpt: { number: '2', times: '1', locations: [{ number: '2.1', enabled: 'y' }, { number: '2.2', enabled: 'n' }] },
          },
        },
      );
    });
  });

  describe('non-MI and malformed lines', () => {
    it('returns inferior output as unparsed', () => {
      for (const line of [
        'Hello, world!',
        '',
        ' ',
        '*** stack smashing detected ***: terminated',
        '==1234== Invalid read of size 4',
        '^C',
        '+',
        '=',
        '* bullet',
        '~~~ banner ~~~',
        '[    0.000000] Linux version 6.1.0',
        'Solo5: Bindings version v0.8.0',
        '42',
        '(gdb)(gdb)',
      ]) {
        assertUnparsed(line);
      }
    });

    it('returns malformed MI as unparsed', () => {
      for (const line of [
        '^done,a',
        '^done,a=',
        '^done,a=1',
        '^done,=\"1\"',
        '^done,a="1"b="2"',
        '^done,a="1",,b="2"',
        '^done,a={b="1"',
        '^done,a=[',
        '^done,a=[}',
        '^done,a={]',
        '^done,a={b="1"]',
        '^done,a="1"}',
        '^done,a={,}',
        '^done,a={b="1",}',
        '^done,a=["1",]',
        '^done,"bare"',
        '^done,["bare"]',
        '^done a="1"',
        '^done,a="unterminated',
        '^done,a="x\\',
        '~"unterminated',
        '~"\\',
        '*stopped,reason="x"garbage',
        '^done,a={b="1"}}',
      ]) {
        assertUnparsed(line);
      }
    });

    it('never throws on truncations of valid lines', () => {
      const samples = [
        '*stopped,reason="breakpoint-hit",disp="keep",bkptno="1",frame={addr="0x0000000000100123",func="compute",args=[{name="a",value="3"},{name="b",value="4"}],file="kernel.c",fullname="/x/kernel.c",line="42",arch="i386:x86-64"},thread-id="1",stopped-threads="all",core="0"',
        '~"caf\\303\\251 \\"q\\" \\\\ \\x41\\n"',
        '123^error,msg="No symbol \\"foo\\" in current context."',
        '^done,bkpt={number="2",addr="<MULTIPLE>"},{number="2.1"},{number="2.2"}',
        '+download,{section=".text",section-size="6668",total-size="9880"}',
      ];
      for (const s of samples) {
        for (let i = 0; i <= s.length; i++) {
          const rec: MiRecord = parseMiLine(s.slice(0, i));
          assert.ok(typeof rec.kind === 'string');
        }
      }
    });

    it('never throws on random input', () => {
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      const alphabet = ['^', '*', '+', '=', '~', '@', '&', '"', '\\', '{', '}', '[', ']', ',', 'a', '1', 'x', '3', '\r', ' ', 'é', '\uD800', 'done', '(gdb)'];
      for (let n = 0; n < 5000; n++) {
        let line = '';
        const len = rand(40);
        for (let i = 0; i < len; i++) line += alphabet[rand(alphabet.length)];
        const rec = parseMiLine(line);
        assert.ok(typeof rec.kind === 'string');
      }
    });
  });

  describe('hostile input', () => {
    const MB = 1024 * 1024;

    function timed(fn: () => void, maxMs: number): void {
      const t0 = performance.now();
      fn();
      const ms = performance.now() - t0;
      assert.ok(ms < maxMs, `took ${ms.toFixed(0)} ms (limit ${maxMs} ms)`);
    }

    it('handles 1 MB of [[[[ quickly', () => {
      timed(() => {
        assertUnparsed('^done,a=' + '['.repeat(MB));
        assertUnparsed('['.repeat(MB));
        assertUnparsed('^done,a=' + '{'.repeat(MB));
        assertUnparsed('^done,a=' + '{a='.repeat(MB / 4));
        assertUnparsed('*stopped,' + '{'.repeat(MB));
      }, 3000);
    });

    it('accepts nesting up to MI_MAX_DEPTH and rejects deeper nesting', () => {
      const nest = (n: number): string => '^done,a=' + '['.repeat(n) + '"x"' + ']'.repeat(n);
      const ok = parseMiLine(nest(MI_MAX_DEPTH));
      assert.equal(ok.kind, 'result');
      let v: unknown = ok.kind === 'result' ? ok.results.a : undefined;
      for (let i = 0; i < MI_MAX_DEPTH; i++) {
        assert.ok(Array.isArray(v));
        v = v[0];
      }
      assert.equal(v, 'x');
      assert.equal(parseMiLine(nest(MI_MAX_DEPTH + 1)).kind, 'unparsed');
      assert.equal(parseMiLine(nest(100_000)).kind, 'unparsed');
    });

    it('handles balanced deep nesting of 1 MB without blowing the stack', () => {
      timed(() => {
        const n = MB / 2;
        assertUnparsed('^done,a=' + '{b='.repeat(n / 3) + '"x"' + '}'.repeat(n / 3));
      }, 3000);
    });

    it('handles unterminated strings quickly', () => {
      timed(() => {
        assertUnparsed('~"' + 'a'.repeat(MB));
        assertUnparsed('^done,a="' + '\\"'.repeat(MB / 2));
        assertUnparsed('^done,a="' + '\\303'.repeat(MB / 4));
        assertUnparsed('~"' + '\\'.repeat(MB + 1));
      }, 3000);
    });

    it('parses huge strings and many results quickly', () => {
      timed(() => {
        const big = 'x'.repeat(4 * MB);
        assert.equal(text('~"' + big + '"'), big);
        assert.equal(text('~"' + '\\303\\251'.repeat(MB / 8) + '"'), 'é'.repeat(MB / 8));
        assert.equal(text('~"' + 'a\\303'.repeat(MB / 5) + '"'), 'a\uFFFD'.repeat(MB / 5));
        const many = results('^done' + ',a="1"'.repeat(MB / 6));
        assert.equal((many.a as string[]).length, Math.floor(MB / 6));
        const list = results('^done,l=[' + Array.from({ length: 100_000 }, () => '{a="1",b=[]}').join(',') + ']');
        assert.equal((list.l as unknown[]).length, 100_000);
      }, 5000);
    });
  });
});
