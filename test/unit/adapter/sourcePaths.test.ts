import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourcePaths, type SourceFileName } from '../../../src/adapter/sourcePaths';

describe('source paths between gdb and the editor', () => {
  let tree: string;
  const touch = (rel: string): string => {
    const path = join(tree, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    return path;
  };
  beforeEach(() => {
    tree = mkdtempSync(join(tmpdir(), 'srcpaths-'));
  });
  afterEach(() => rmSync(tree, { recursive: true, force: true }));

  it('finds a relative DWARF name with a repeated directory under the root (Solo5: ./bindings/./bindings/x.c)', () => {
    const file = touch('bindings/cpu_x86_64.c');
    const paths = new SourcePaths({ roots: [tree] });
    assert.equal(paths.toLocal({ file: './bindings/./bindings/cpu_x86_64.c', fullname: './bindings/./bindings/cpu_x86_64.c' }), file);
    assert.equal(paths.toLocal({ file: './bindings/virtio/../crt_init.h' }), undefined);
    const header = touch('bindings/crt_init.h');
    assert.equal(new SourcePaths({ roots: [tree] }).toLocal({ file: './bindings/virtio/../crt_init.h' }), header);
  });

  it('maps a build prefix through sourceMap, the most specific prefix first', () => {
    const app = touch('app/main.c');
    const other = mkdtempSync(join(tmpdir(), 'srcpaths-other-'));
    try {
      writeFileSync(join(other, 'main.c'), '');
      const paths = new SourcePaths({ sourceMap: { '/build/imgs': tree, '/build/imgs/app': other }, roots: [] });
      assert.equal(paths.toLocal({ file: '/build/imgs/app/main.c', fullname: '/build/imgs/app/main.c' }), join(other, 'main.c'));
      assert.equal(paths.display({ file: '/build/imgs/lib/none.c' }), '/build/imgs/lib/none.c', 'a file that exists nowhere keeps its name');
      assert.ok(app);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('finds an absolute path of another machine by its longest existing tail', () => {
    const t = touch('tests/test_exception/test_exception.c');
    touch('test_exception.c');
    const paths = new SourcePaths({ roots: [tree] });
    assert.equal(paths.toLocal({ file: '/elsewhere/solo5/tests/test_exception/test_exception.c' }), t);
  });

  it('gives gdb back its own name for a local file, through the list of known files', async () => {
    const file = touch('bindings/cpu_x86_64.c');
    const known: SourceFileName[] = [
      { file: './bindings/./bindings/cpu_x86_64.c', fullname: './bindings/./bindings/cpu_x86_64.c' },
      { file: '/build/imgs/solo5/tests/t/t.c', fullname: '/build/imgs/solo5/tests/t/t.c' },
    ];
    let asked = 0;
    const paths = new SourcePaths({ sourceMap: { '/build/imgs/solo5': tree }, roots: [tree] });
    assert.equal(await paths.toGdb(file, async () => (asked++, known)), './bindings/./bindings/cpu_x86_64.c');
    // A file the debug information does not name goes back through the source map.
    assert.equal(await paths.toGdb(join(tree, 'tests/t/new.c'), async () => known), '/build/imgs/solo5/tests/t/new.c');
    // Outside every mapping it is given as it is.
    assert.equal(await paths.toGdb('/somewhere/else.c', async () => known), '/somewhere/else.c');
    assert.equal(asked, 1);
  });

  it('keeps a path that exists as it is (a local build)', async () => {
    const file = touch('src/kernel.c');
    const paths = new SourcePaths({ roots: ['/nonexistent'] });
    assert.equal(paths.toLocal({ file: 'kernel.c', fullname: file }), file);
    assert.equal(await paths.toGdb(file, async () => [{ file: 'kernel.c', fullname: file }]), file);
  });
});
