/**
 * The real third-party images of this tier, which live outside the repository (`../shared/real-images`
 * next to the clone, or UNIKERNEL_REAL_IMAGES), and what the tests learn about them from their DWARF
 * through gdb itself: the sources are not shipped, so the tests lay out empty files with the names gdb
 * reports and check that the adapter finds them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ROOT, type Session } from '../integration/helpers';

export const REAL_IMAGES = process.env.UNIKERNEL_REAL_IMAGES ? resolve(process.env.UNIKERNEL_REAL_IMAGES) : resolve(ROOT, '../shared/real-images');
/** A user's clone has no images: the runner (run.mjs) says so in one line; mocha run directly skips. */
export const PRESENT = existsSync(REAL_IMAGES);
export const describeReal = PRESENT ? describe : describe.skip;

export const SOLO5 = join(REAL_IMAGES, 'solo5');
/** Every Solo5 test image there is (test_hello, test_exception, test_globals at least). */
export const SOLO5_TESTS = PRESENT ? readdirSync(SOLO5).filter((f) => f.endsWith('.virtio')).map((f) => f.replace(/\.virtio$/, '')).sort() : [];
export const solo5Image = (test: string): string => join(SOLO5, `${test}.virtio`);
export const UK_KERNEL = join(REAL_IMAGES, 'unikraft/helloworld_qemu-x86_64');
/** Unikraft's boot image is ELF32; gdb reads the 64-bit ELF next to it. */
export const UK_DBG = `${UK_KERNEL}.dbg`;
export const MIRAGE = join(REAL_IMAGES, 'mirage');
export const MIRAGE_KERNEL = join(MIRAGE, 'hello.virtio');

/** The build prefixes the images' DWARF was rewritten to (see the images' README). */
export const SOLO5_BUILD = '/build/imgs/solo5';
export const UK_BUILD = '/build/imgs/app-helloworld';
export const MIRAGE_BUILD = '/build/imgs/mirage-hello';

/** Output of gdb run on an ELF with the given CLI commands (no init files, like the adapter). */
export function gdbBatch(elf: string, commands: string[]): string {
  return execFileSync('gdb', ['-nx', '-batch', ...commands.flatMap((c) => ['-ex', c]), elf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The source file names gdb knows for an ELF, as it reports them (`info sources`). */
export function gdbSources(elf: string): string[] {
  const out = gdbBatch(elf, ['info sources']);
  return out
    .split('\n')
    .filter((l) => !l.endsWith(':') && !l.startsWith('('))
    .join(',')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && !n.includes('<built-in>'));
}

export interface CodeLine {
  file: string;
  line: number;
}

/** The file and line gdb's line table gives each address (undefined: no line information there). */
export function linesAt(elf: string, addresses: bigint[]): (CodeLine | undefined)[] {
  if (addresses.length === 0) return [];
  const out = gdbBatch(elf, addresses.map((a) => `info line *0x${a.toString(16)}`));
  const answers = out.split('\n').filter((l) => /^(Line \d+ of "|No line number information)/.test(l));
  assert.equal(answers.length, addresses.length, `one answer per address from gdb:\n${out}`);
  return answers.map((l) => {
    const m = /^Line (\d+) of "([^"]+)"/.exec(l);
    return m ? { file: m[2]!, line: Number(m[1]) } : undefined;
  });
}

/** Addresses of the calls to `callee` in the disassembly of `fn` (a gdb location such as 'main.c'::main). */
export function callsIn(elf: string, fn: string, callee: string): bigint[] {
  const out = gdbBatch(elf, [`disassemble ${fn}`]);
  return [...out.matchAll(new RegExp(`^\\s+0x([0-9a-f]+) <\\+\\d+>:\\s+call\\s+0x[0-9a-f]+ <${callee}>`, 'gm'))].map((m) => BigInt(`0x${m[1]}`));
}

/**
 * A temporary directory with an empty file for every source name `toRelative` places in it (names it
 * returns undefined for are left out). The path is resolved through symlinks, so paths the adapter
 * gives back compare as they are.
 */
export function layOutSources(names: string[], toRelative: (name: string) => string | undefined, label: string): string {
  const tree = realpathSync(mkdtempSync(join(tmpdir(), `real-${label}-`)));
  for (const name of names) {
    const rel = toRelative(name);
    if (rel === undefined || rel.startsWith('..') || isAbsolute(rel)) continue;
    const file = join(tree, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '');
  }
  return tree;
}

/** The path below `prefix/` normalized, or undefined when `name` is not under it. */
export function under(prefix: string, name: string): string | undefined {
  return name.startsWith(`${prefix}/`) ? normalize(name.slice(prefix.length + 1)) : undefined;
}

/**
 * Where a name gdb reports for a Solo5 image lies in a Solo5 tree. The bindings were compiled with
 * comp_dir `./bindings` and file names relative to the tree root, so gdb doubles the directory
 * (`./bindings/./bindings/cpu_x86_64.c` is `bindings/cpu_x86_64.c`, `./bindings/./toolchain/...` is
 * `toolchain/...`); other relative names are relative to the tree root (`./bindings/virtio/start.c`);
 * the tests' own files are absolute under the build prefix.
 */
export function solo5Relative(name: string): string | undefined {
  if (name.startsWith('./bindings/./')) return normalize(name.slice('./bindings/./'.length));
  if (name.startsWith('./')) return normalize(name);
  return under(SOLO5_BUILD, name);
}

/**
 * Checks a stop's stack against a laid-out source tree: every frame that has a source path has an
 * existing file inside the tree, and a frame without one is one gdb knows no file for either.
 */
export async function assertSourcesInTree(s: Session, threadId: number, elf: string, tree: string): Promise<DebugProtocol.StackFrame[]> {
  const frames = await s.topFrames(threadId, 50);
  const wrong: string[] = [];
  const unsourced: { frame: DebugProtocol.StackFrame; at: bigint }[] = [];
  frames.forEach((f, i) => {
    const path = f.source?.path;
    if (path) {
      const inside = existsSync(path) && !relative(tree, realpathSync(path)).startsWith('..');
      if (!inside) wrong.push(`#${i} ${f.name}: ${path} is not a file of ${tree}`);
      return;
    }
    if (f.presentationHint === 'label') return;
    if (!f.instructionPointerReference) {
      wrong.push(`#${i} ${f.name}: no source and no address to check that gdb knows no file for it`);
      return;
    }
    // A caller's address is its return address: its line is the one of the byte before (as gdb does).
    const top = i === 0 || frames[i - 1]?.presentationHint === 'label';
    const pc = BigInt(f.instructionPointerReference);
    unsourced.push({ frame: f, at: top || pc === 0n ? pc : pc - 1n });
  });
  const known = linesAt(elf, unsourced.map((u) => u.at));
  unsourced.forEach((u, j) => {
    const where = known[j];
    if (where) wrong.push(`${u.frame.name} (${u.frame.instructionPointerReference}): no source, but gdb places it at ${where.file}:${where.line}`);
  });
  assert.deepEqual(wrong, [], `frames of the stack:\n${frames.map((f) => `  ${f.name} ${f.source?.path ?? '-'}:${f.line}`).join('\n')}`);
  return frames;
}

/**
 * Reads every non-register scope of a frame (each request must succeed) and returns the number of
 * variables found in them.
 */
export async function readVariables(s: Session, frameId: number): Promise<number> {
  const scopes = await s.dc.scopesRequest({ frameId });
  let count = 0;
  for (const scope of scopes.body.scopes) {
    if (scope.presentationHint === 'registers') continue;
    count += (await s.children(scope.variablesReference)).size;
  }
  return count;
}
