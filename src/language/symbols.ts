/**
 * Which symbols ELF belongs to a console log, and one long-lived symbolizer per ELF.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { Symbolizer, type SymbolizeRequest, type SymbolizedFrame } from '../crash';
import { symbolsFromMeta } from './analysis';

export type SymbolsSource = 'command' | 'meta' | 'setting';

export interface SymbolsChoice {
  path: string;
  source: SymbolsSource;
}

/**
 * The ELF for a log, in order: the one picked for this log by command, the one the adapter recorded in
 * `<log>.meta.json`, then the `unikernel.consoleLog.symbols` setting (relative to the workspace folder,
 * `${workspaceFolder}` allowed).
 */
export async function chooseSymbols(
  logPath: string | undefined,
  picked: string | undefined,
  setting: string | undefined,
  workspaceFolder: string | undefined,
): Promise<SymbolsChoice | undefined> {
  if (picked) return { path: picked, source: 'command' };
  if (logPath) {
    const meta = await readFile(`${logPath}.meta.json`, 'utf8').catch(() => undefined);
    const fromMeta = meta === undefined ? undefined : symbolsFromMeta(meta);
    if (fromMeta) return { path: isAbsolute(fromMeta) ? fromMeta : resolve(logPath, '..', fromMeta), source: 'meta' };
  }
  const s = setting?.trim();
  if (s) {
    const expanded = workspaceFolder ? s.replace(/\$\{workspaceFolder\}/g, workspaceFolder) : s;
    if (isAbsolute(expanded)) return { path: expanded, source: 'setting' };
    if (workspaceFolder) return { path: resolve(workspaceFolder, expanded), source: 'setting' };
  }
  return undefined;
}

interface Cached {
  mtimeMs: number;
  symbolizer: Promise<Symbolizer>;
}

/** Symbolizers by ELF path; a rebuilt ELF (new mtime) gets a fresh one. */
export class SymbolizerPool {
  private readonly pool = new Map<string, Cached>();

  async get(elf: string): Promise<Symbolizer> {
    const s = await stat(elf).catch(() => undefined);
    const mtimeMs = s?.mtimeMs ?? -1;
    const cached = this.pool.get(elf);
    if (cached && cached.mtimeMs === mtimeMs) return cached.symbolizer;
    if (cached) void cached.symbolizer.then((x) => x.dispose(), () => undefined);
    const symbolizer = Symbolizer.open(elf, { timeoutMs: 10_000 });
    this.pool.set(elf, { mtimeMs, symbolizer });
    // A failed open is not cached forever: the next request tries again (the ELF may appear).
    symbolizer.catch(() => {
      if (this.pool.get(elf)?.symbolizer === symbolizer) this.pool.delete(elf);
    });
    return symbolizer;
  }

  async symbolize(elf: string, requests: readonly SymbolizeRequest[]): Promise<SymbolizedFrame[]> {
    return (await this.get(elf)).symbolize(requests);
  }

  dispose(): void {
    for (const c of this.pool.values()) void c.symbolizer.then((x) => x.dispose(), () => undefined);
    this.pool.clear();
  }
}
