/**
 * The platform profiles and detection: from the ELF itself (tell-tale symbols, in the image or its
 * debug file) and from the files around it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findSymbols } from '../../elf';
import { readBootImage, type BootImage } from '../bootImage';
import { generic } from './generic';
import { mirage } from './mirage';
import { rumprun } from './rumprun';
import type { ImageFacts, PlatformName, PlatformProfile } from './types';
import { unikraft } from './unikraft';

export * from './types';
export { rumprunConfig } from './rumprun';

export const PROFILES: Record<PlatformName, PlatformProfile> = { rumprun, mirage, unikraft, generic };

const TELL_TALES = [...new Set(Object.values(PROFILES).flatMap((p) => p.tellTales))];

/** A MirageOS project has `config.ml` in the image's directory or up to three levels above. */
function nearConfigMl(path: string): boolean {
  let dir = dirname(path);
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'config.ml'))) return true;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return false;
}

/** The debug ELF for a boot image: `<image>.dbg`, else the image itself. */
export function debugFileFor(image: string): string | undefined {
  const dbg = `${image}.dbg`;
  return existsSync(dbg) ? dbg : undefined;
}

export async function imageFacts(path: string, info?: BootImage, symbolsPath?: string): Promise<ImageFacts> {
  const elf = info ?? (await readBootImage(path));
  const symbols = await findSymbols(symbolsPath ?? debugFileFor(path) ?? path, TELL_TALES).catch(() => new Set<string>());
  return { path, info: elf, symbols, nearConfigMl: nearConfigMl(path) };
}

export function detectPlatform(facts: ImageFacts): PlatformProfile {
  let best: PlatformProfile = generic;
  let bestScore = 0;
  for (const p of Object.values(PROFILES)) {
    const s = p.score(facts);
    if (s > bestScore) {
      best = p;
      bestScore = s;
    }
  }
  return best;
}
