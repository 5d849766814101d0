/**
 * Finds the unikernel images in a workspace, so that F5 on a fresh checkout has something to offer:
 * `dist/*.virtio` (MirageOS), `*.bin` from rumprun-bake, Unikraft `build/*_qemu-x86_64`, and any
 * other bootable ELF. Bounded: a workspace can be huge.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isElfFile } from '../elf';
import { bootProblem, readBootImage } from './bootImage';
import { debugFileFor, detectPlatform, imageFacts, type PlatformName } from './profiles';

export interface FoundImage {
  kernel: string;
  /** The debug ELF when it is not the image itself (Unikraft's `.dbg`). */
  symbols?: string;
  platform: PlatformName;
  /** A short name for the configuration. */
  name: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '_opam', '.vscode-test', 'dist-newstyle']);

/** Walks `root` breadth-first, at most `maxDepth` deep and `maxFiles` files, for bootable ELF images. */
export async function findImages(root: string, opts: { maxDepth?: number; maxFiles?: number } = {}): Promise<FoundImage[]> {
  const maxDepth = opts.maxDepth ?? 4;
  let budget = opts.maxFiles ?? 5000;
  const candidates: string[] = [];
  let level = [root];
  for (let depth = 0; depth <= maxDepth && level.length > 0 && budget > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (budget-- <= 0) break;
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) next.push(p);
        } else if (e.isFile() && !/\.(o|a|so|dbg|c|h|S|ml|mli|json|md|log|txt|d)$/.test(e.name)) {
          candidates.push(p);
        }
      }
    }
    level = next;
  }
  const found: FoundImage[] = [];
  for (const path of candidates) {
    if (!(await isElfFile(path))) continue;
    const info = await readBootImage(path).catch(() => undefined);
    // Only what QEMU's -kernel boots; an ELF32 boot image needs its .dbg to be worth offering.
    if (!info || bootProblem(info)) continue;
    const dbg = debugFileFor(path);
    if (info.bits === 32 && !dbg && !info.hasDebugInfo) continue;
    const facts = await imageFacts(path, info);
    const platform = detectPlatform(facts).name;
    found.push({ kernel: path, symbols: dbg, platform, name: relative(root, path) || path });
  }
  // The typical unikernel outputs first.
  const rank = (f: FoundImage): number => (f.platform === 'generic' ? 1 : 0);
  return found.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
