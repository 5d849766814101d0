import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findImages } from '../../../src/qemu/workspaceImages';

const BUILD = join(__dirname, '../../fixtures/build');

describe('finding images in a workspace', () => {
  let ws: string;

  before(() => {
    // A sample workspace with one image of each kind, laid out the way each platform builds.
    ws = mkdtempSync(join(tmpdir(), 'ws-'));
    mkdirSync(join(ws, 'mirage/dist'), { recursive: true });
    writeFileSync(join(ws, 'mirage/config.ml'), 'open Mirage\n');
    copyFileSync(join(BUILD, 'hello.virtio'), join(ws, 'mirage/dist/hello.virtio'));
    mkdirSync(join(ws, 'rump'), { recursive: true });
    copyFileSync(join(BUILD, 'hello-rumprun.bin'), join(ws, 'rump/hello.bin'));
    mkdirSync(join(ws, 'uk/build'), { recursive: true });
    copyFileSync(join(BUILD, 'hello_qemu-x86_64'), join(ws, 'uk/build/hello_qemu-x86_64'));
    copyFileSync(join(BUILD, 'hello_qemu-x86_64.dbg'), join(ws, 'uk/build/hello_qemu-x86_64.dbg'));
    mkdirSync(join(ws, 'plain'), { recursive: true });
    copyFileSync(join(BUILD, 'kernel.elf'), join(ws, 'plain/kernel.elf'));
    // Things that are not images.
    writeFileSync(join(ws, 'plain/notes.txt'), 'hello');
    copyFileSync('/usr/bin/true', join(ws, 'plain/host-tool'));
    mkdirSync(join(ws, 'node_modules/x'), { recursive: true });
    copyFileSync(join(BUILD, 'kernel.elf'), join(ws, 'node_modules/x/kernel.elf'));
  });

  after(() => rmSync(ws, { recursive: true, force: true }));

  it('offers one configuration per image, with its platform and debug file', async () => {
    const found = await findImages(ws);
    assert.deepEqual(
      found.map((f) => [f.name, f.platform, f.symbols ? 'dbg' : '-']),
      [
        ['mirage/dist/hello.virtio', 'mirage', '-'],
        ['rump/hello.bin', 'rumprun', '-'],
        ['uk/build/hello_qemu-x86_64', 'unikraft', 'dbg'],
        ['plain/kernel.elf', 'generic', '-'],
      ],
    );
  });
});
