// OCaml symbol names: demangling and the patterns that find a function from its OCaml name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  candidatesFor, demangle, detectSeparator, displayName, escapeIdent, isOcamlDataOrMarker, matchesUserName, moduleFromFile, toGdbRegex,
} from '../../../src/ocaml/names';
import { raiseBacktrace, textSymbols } from './realImage';

// The real image itself, when this checkout sits next to it (as in CI): only for the gdb check.
const REAL_IMAGES = process.env.UNIKERNEL_REAL_IMAGES ? resolve(process.env.UNIKERNEL_REAL_IMAGES) : resolve(__dirname, '../../../../shared/real-images');
const IMAGE = join(REAL_IMAGES, 'mirage/hello.virtio');

describe('ocaml names: demangle', () => {
  it('reads the functions of the real image as Module.function', () => {
    assert.deepEqual(pick(demangle('camlHello__depth_88')), { kind: 'function', module: 'Hello', name: 'depth', stamp: 88, display: 'Hello.depth' });
    assert.equal(demangle('camlHello__greet_84')?.display, 'Hello.greet');
    assert.equal(demangle('camlHello__bump_counter_92')?.display, 'Hello.bump_counter');
    assert.equal(demangle('camlHello__main_96')?.display, 'Hello.main');
    assert.equal(demangle('camlStdlib__failwith_6')?.display, 'Stdlib.failwith');
    assert.equal(demangle('camlCamlinternalFormatBasics__concat_fmt_1234')?.display, 'CamlinternalFormatBasics.concat_fmt');
  });

  it('shows operators unescaped in parentheses', () => {
    assert.equal(demangle('camlStdlib__$5e_140')?.display, 'Stdlib.(^)');
    assert.equal(demangle('camlStdlib__$5e_140')?.name, '^');
    assert.equal(demangle('camlStdlib__$5e_140')?.operator, true);
    assert.equal(demangle('camlStdlib__$40_197')?.display, 'Stdlib.(@)');
    assert.equal(demangle('camlStdlib__$5e$5e_444')?.display, 'Stdlib.(^^)');
    assert.equal(demangle('camlFoo__$2b_12')?.display, 'Foo.(+)');
    assert.equal(demangle('camlFoo__$3d_12')?.display, 'Foo.(=)');
    assert.equal(demangle('camlFoo__$3c$3e_12')?.display, 'Foo.(<>)');
    assert.equal(demangle('camlFoo__$7c$3e_12')?.display, 'Foo.(|>)');
    // `(*` would open a comment: OCaml writes these with spaces.
    assert.equal(demangle('camlFoo__$2a_12')?.display, 'Foo.( * )');
    assert.equal(demangle('camlFoo__$2a$2a_12')?.display, 'Foo.( ** )');
    assert.equal(demangle('camlFoo__let$2a_12')?.display, 'Foo.( let* )');
  });

  it('reads nested and dune-wrapped modules', () => {
    assert.equal(demangle('camlFoo__Bar__baz_12')?.display, 'Foo.Bar.baz');
    assert.deepEqual(demangle('camlFoo__Bar__baz_12')?.modulePath, ['Foo', 'Bar']);
    assert.equal(demangle('camlMylib__Mymod__f_3')?.display, 'Mylib.Mymod.f');
    assert.equal(demangle('camlMylib__Mymod__f_3')?.module, 'Mylib.Mymod');
    assert.equal(demangle('camlStdlib__List__map_123')?.display, 'Stdlib.List.map');
    assert.equal(demangle('camlA__B__C__d_1')?.display, 'A.B.C.d');
    // dune's executable wrapper is left out: the user's module is Hello.
    assert.equal(demangle('camlDune__exe__Hello__depth_88')?.display, 'Hello.depth');
  });

  it('keeps `__`, a leading `_` and primes inside identifiers', () => {
    assert.equal(demangle('camlHello__foo__bar_12')?.display, 'Hello.foo__bar');
    assert.equal(demangle('camlHello___x_3')?.display, 'Hello._x');
    assert.equal(demangle("camlHello__f$27_5")?.display, "Hello.f'");
    assert.equal(demangle("camlHello__f$27_5")?.operator, undefined);
    assert.equal(demangle('camlHello__f_1_22')?.display, 'Hello.f_1');
  });

  it('names module initialisers, module blocks and anonymous functions', () => {
    assert.deepEqual(pick(demangle('camlHello__entry')), { kind: 'moduleInit', module: 'Hello', name: undefined, stamp: undefined, display: 'Hello (module init)' });
    assert.deepEqual(pick(demangle('camlHello')), { kind: 'module', module: 'Hello', name: undefined, stamp: undefined, display: 'Hello' });
    assert.equal(demangle('camlMylib__Mymod__entry')?.display, 'Mylib.Mymod (module init)');
    assert.equal(demangle('camlStdlib__fun_967')?.display, 'Stdlib.(fun)');
    assert.equal(demangle('camlStdlib__fun_967')?.anonymous, true);
  });

  it('reads OCaml 5.1+ dotted names', () => {
    assert.equal(demangle('camlHello.depth_88')?.display, 'Hello.depth');
    assert.equal(demangle('camlHello.depth_88')?.separator, '.');
    assert.equal(demangle('camlStdlib__List.map_123')?.display, 'Stdlib.List.map');
    assert.equal(demangle('camlStdlib.$5e_140')?.display, 'Stdlib.(^)');
    assert.equal(demangle('camlFib.entry')?.display, 'Fib (module init)');
    assert.equal(demangle('camlModule.Submodule.identifier_3')?.display, 'Module.Submodule.identifier');
    assert.equal(demangle('camlFib.foo__bar_2')?.display, 'Fib.foo__bar');
    for (const s of ['camlFib.1', 'camlFib.code_begin', 'camlFib.frametable', 'camlFib.gc_roots', 'camlFib.data_end']) assert.equal(demangle(s), undefined, s);
    // 5.4's `$` separator is for macOS and Windows only; ELF images never have it.
    assert.equal(demangle('camlFib$main_272'), undefined);
  });

  it('leaves the runtime, startup code, markers and constants alone', () => {
    for (const s of [
      'caml_program', 'caml_start_program', 'caml_curry2', 'caml_curry3_1_app', 'caml_apply2', 'caml_raise_exn', 'caml_exn_Failure',
      'caml_startup__code_begin', 'caml_system__code_begin', 'caml_call_gc', 'caml_fatal_uncaught_exception',
      'camlHello__code_begin', 'camlHello__code_end', 'camlHello__data_begin', 'camlHello__data_end', 'camlHello__frametable',
      'camlHello__gc_roots', 'camlHello__3', 'camlHello__13', 'camlHello__depth_88_closure', 'camlHello__nostamp',
      'main', 'solo5_app_main', '', 'caml', 'camlhello__x_1', 'Caml_state', 'xcamlHello__f_1',
    ]) {
      assert.equal(demangle(s), undefined, s);
    }
    assert.equal(isOcamlDataOrMarker('camlHello__code_begin'), true);
    assert.equal(isOcamlDataOrMarker('camlHello__3'), true);
    assert.equal(isOcamlDataOrMarker('camlHello__depth_88'), false);
    assert.equal(isOcamlDataOrMarker('caml_program'), false);
    assert.equal(displayName('caml_start_program'), 'caml_start_program');
    assert.equal(displayName('camlHello__depth_88'), 'Hello.depth');
  });

  it('reads every OCaml function of the real image and finds it again from its display name', () => {
    const ocaml = textSymbols().filter((s) => /^caml[A-Z]/.test(s.name));
    assert.equal(ocaml.length, 117, 'nm lists 117 OCaml text symbols');
    let functions = 0;
    for (const { name } of ocaml) {
      const d = demangle(name);
      if (/__code_(begin|end)$/.test(name)) {
        assert.equal(d, undefined, name);
        continue;
      }
      assert.ok(d, name);
      functions++;
      assert.match(d.display, /^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*(\.([a-z_][A-Za-z0-9_']*|\(.+\))| \(module init\))$/, name);
      assert.ok(matchesUserName(name, d.display, { separator: '__' }), `${d.display} finds ${name}`);
    }
    assert.equal(functions, 117 - 8);
  });

  it('turns the real raise backtrace into OCaml names', () => {
    assert.deepEqual(raiseBacktrace().map(displayName), [
      'caml_raise_exn', 'Hello.depth', 'Hello.depth', 'Hello.depth', 'Hello.depth', 'Hello.main', 'Hello (module init)', 'caml_program', 'caml_start_program',
    ]);
  });
});

describe('ocaml names: helpers', () => {
  it('tells the mangling scheme from the symbols', () => {
    assert.equal(detectSeparator(textSymbols().map((s) => s.name)), '__');
    assert.equal(detectSeparator(['caml_program', 'camlFib.entry', 'camlFib.fib_269']), '.');
    assert.equal(detectSeparator(['main', 'caml_program']), undefined);
  });

  it('gets a module from a source file', () => {
    assert.equal(moduleFromFile('/build/imgs/mirage-hello/hello.ml'), 'Hello');
    assert.equal(moduleFromFile('src\\foo_bar.pp.ml'), 'Foo_bar');
    assert.equal(moduleFromFile('unikernel.ml'), 'Unikernel');
    assert.equal(moduleFromFile('Config.ml'), 'Config');
    assert.equal(moduleFromFile('1bad.ml'), undefined);
    assert.equal(moduleFromFile('foo-bar.ml'), undefined);
  });

  it('escapes identifiers as ocamlopt does', () => {
    assert.equal(escapeIdent('^'), '$5e');
    assert.equal(escapeIdent('let*'), 'let$2a');
    assert.equal(escapeIdent("f'"), 'f$27');
    assert.equal(escapeIdent('depth'), 'depth');
  });
});

describe('ocaml names: candidates for a function breakpoint', () => {
  const first = (name: string, opts = {}): string | undefined => candidatesFor(name, opts)[0]?.regex;

  it('gives gdb-compatible patterns (no `+`: gdb reads basic regular expressions)', () => {
    assert.equal(first('Hello.depth'), '^camlHello__depth_[0-9][0-9]*$');
    assert.equal(first('Stdlib.(^)'), '^camlStdlib__\\$5e_[0-9][0-9]*$');
    assert.equal(first('Stdlib.( ^ )'), '^camlStdlib__\\$5e_[0-9][0-9]*$');
    assert.equal(first('( * )'), '^caml[A-Z][A-Za-z0-9_]*__\\$2a_[0-9][0-9]*$');
    assert.equal(first('Hello'), '^camlHello__entry$');
    assert.equal(first('Hello (module init)'), '^camlHello__entry$');
    assert.equal(first('camlHello__depth_88'), '^camlHello__depth_88$');
    assert.equal(first('camlStdlib__$5e_140'), '^camlStdlib__\\$5e_140$');
    for (const c of candidatesFor('Mylib.Mymod.f')) assert.doesNotMatch(c.regex, /\+/);
  });

  it('takes the module of a bare name from the file', () => {
    assert.equal(first('depth', { file: '/src/hello.ml' }), '^camlHello__depth_[0-9][0-9]*$');
    assert.equal(first('depth'), '^caml[A-Z][A-Za-z0-9_]*__depth_[0-9][0-9]*$');
  });

  it('matches what is meant and nothing near it', () => {
    const yes: [string, string, object?][] = [
      ['camlHello__depth_88', 'Hello.depth'],
      ['camlHello__depth_88', 'depth', { file: 'hello.ml' }],
      ['camlHello__depth_88', 'depth'],
      ['camlHello.depth_88', 'Hello.depth'],
      ['camlDune__exe__Hello__depth_88', 'Hello.depth'],
      ['camlMylib__Hello__depth_3', 'Hello.depth'],
      ['camlStdlib__$5e_140', 'Stdlib.(^)'],
      ['camlStdlib__$5e$5e_444', 'Stdlib.(^^)'],
      ['camlFoo__$2a_1', 'Foo.( * )'],
      ['camlFoo__let$2a_1', 'Foo.( let* )'],
      ['camlMylib__Mymod__f_3', 'Mylib.Mymod.f'],
      ['camlMylib__Mymod.f_3', 'Mylib.Mymod.f'],
      ['camlHello__entry', 'Hello'],
      ['camlHello.entry', 'Hello (module init)'],
      ["camlHello__f$27_5", "Hello.f'"],
    ];
    for (const [sym, user, opts] of yes) assert.ok(matchesUserName(sym, user, opts), `${user} → ${sym}`);
    const no: [string, string, object?][] = [
      ['camlHello__depth_inner_3', 'Hello.depth'],
      ['camlHello__deep_3', 'Hello.depth'],
      ['camlHellox__depth_3', 'Hello.depth'],
      ['camlStdlib__$5e$5e_444', 'Stdlib.(^)'],
      ['camlWorld__depth_3', 'depth', { file: 'hello.ml' }],
      ['camlHello__greet_84', 'Hello'],
      ['camlHello__depth_88', 'Hello.depth', { separator: '.' }],
    ];
    for (const [sym, user, opts] of no) assert.ok(!matchesUserName(sym, user, opts), `${user} ↛ ${sym}`);
  });

  it('ranks the module as written first and a submodule guess last', () => {
    const list = candidatesFor('Mylib.Mymod.f', { separator: '__' });
    assert.deepEqual(list.map((c) => c.rank), [0, 1, 2]);
    assert.ok(new RegExp(list[2].regex).test('camlMylib__f_3'), 'a submodule function as ocaml ≤ 5.0 names it');
    assert.equal(matchesUserName('camlMylib__f_3', 'Mylib.Mymod.f'), false, 'not unless asked');
    assert.equal(matchesUserName('camlMylib__f_3', 'Mylib.Mymod.f', { maxRank: 2 }), true);
  });

  it('refuses what is not an OCaml name', () => {
    for (const s of ['', '1abc', 'foo bar', 'Hello.', '.depth', 'Hello..depth', 'hello.depth']) assert.deepEqual(candidatesFor(s), [], s);
    assert.equal(toGdbRegex('foo bar'), undefined);
  });

  it('joins the candidates for one gdb query', () => {
    assert.equal(
      toGdbRegex('Hello.depth'),
      '^camlHello__depth_[0-9][0-9]*$\\|^camlHello\\.depth_[0-9][0-9]*$\\|^caml[A-Z][A-Za-z0-9_]*__Hello__depth_[0-9][0-9]*$\\|^caml[A-Z][A-Za-z0-9_]*__Hello\\.depth_[0-9][0-9]*$',
    );
  });

  const gdb = hasGdb() && existsSync(IMAGE);
  (gdb ? it : it.skip)('finds the real functions with gdb (info functions)', () => {
    const found = (name: string, opts = {}): string[] => {
      const regex = toGdbRegex(name, opts) as string;
      const out = execFileSync('gdb', ['-nx', '-batch', '-ex', `info functions ${regex}`, IMAGE], { encoding: 'utf8' });
      return [...out.matchAll(/void (\S+)\(void\);/g)].map((m) => m[1]).sort();
    };
    assert.deepEqual(found('Hello.depth'), ['camlHello__depth_88']);
    assert.deepEqual(found('greet', { file: 'hello.ml' }), ['camlHello__greet_84']);
    assert.deepEqual(found('Stdlib.(^)'), ['camlStdlib__$5e_140']);
    assert.deepEqual(found('Stdlib.(^^)'), ['camlStdlib__$5e$5e_444']);
    assert.deepEqual(found('Hello'), ['camlHello__entry']);
    assert.deepEqual(found('Hello.nothing'), []);
  });
});

function pick(d: ReturnType<typeof demangle>): object | undefined {
  return d && { kind: d.kind, module: d.module, name: d.name, stamp: d.stamp, display: d.display };
}

function hasGdb(): boolean {
  try {
    execFileSync('gdb', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
