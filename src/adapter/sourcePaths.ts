/**
 * Source paths between gdb and the editor. Real images name their files relative to a build tree
 * (Solo5: `./bindings/./bindings/cpu_x86_64.c`) or with the absolute paths of the machine that
 * built them; the editor needs a file that exists here, and gdb needs its own name back for a
 * breakpoint. The `sourceMap` attribute maps build prefixes to local directories; otherwise the
 * file is looked for under the launch's roots (its `cwd`) by the longest path suffix that exists.
 */
import { statSync } from 'node:fs';
import { basename, isAbsolute, posix, relative, resolve } from 'node:path';

export interface SourceFileName {
  /** The name as gdb reports it (`file` in MI). */
  file: string;
  /** gdb's full name for it (compilation directory joined, maybe on another machine). */
  fullname?: string;
}

export interface SourcePathsOptions {
  /** Build path prefix → local directory. */
  sourceMap?: Readonly<Record<string, string>>;
  /** Local directories to look for relative and unmapped names under (the launch's cwd). */
  roots: readonly string[];
}

/** `a/./b/../c` → `a/c`; keeps a leading `/`; backslashes of Windows builds read as separators. */
function clean(path: string): string {
  return posix.normalize(path.replaceAll('\\', '/')).replace(/\/+$/, '');
}

export class SourcePaths {
  private mappings: { from: string; to: string }[] = [];
  private roots: string[] = [];
  private cwds: string[] = [];
  private readonly resolved = new Map<string, string | null>();
  private readonly isFileCache = new Map<string, boolean>();
  /** Local path → gdb's name, for every name resolved so far. */
  private readonly toGdbName = new Map<string, string>();

  constructor(options: SourcePathsOptions) {
    this.configure(options);
  }

  /** The launch's own `sourceMap` and `cwd` (what was resolved before is forgotten). */
  configure(options: SourcePathsOptions): void {
    this.mappings = Object.entries(options.sourceMap ?? {})
      .map(([from, to]) => ({ from: clean(from), to: resolve(to) }))
      // The most specific prefix wins.
      .sort((a, b) => b.from.length - a.from.length);
    this.cwds = options.roots.map((r) => resolve(r));
    this.roots = [...new Set([...this.mappings.map((m) => m.to), ...this.cwds])];
    this.resolved.clear();
    this.isFileCache.clear();
    this.toGdbName.clear();
  }

  /** The local file gdb's name stands for, or undefined when none exists here. */
  toLocal(name: SourceFileName): string | undefined {
    const key = `${name.fullname ?? ''}\0${name.file}`;
    let local = this.resolved.get(key);
    if (local === undefined) {
      local = this.lookUp(name) ?? null;
      this.resolved.set(key, local);
      if (local) this.toGdbName.set(local, name.fullname ?? name.file);
    }
    return local ?? undefined;
  }

  /**
   * A path to show where room is short (the exception widget): relative to the launch's cwd when
   * under it (VS Code still makes it a link), else the file's own name.
   */
  short(path: string): string {
    for (const root of this.cwds) {
      const rel = relative(root, path);
      if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
    }
    return basename(path);
  }

  /** The path to show for gdb's name: the local file when there is one, else gdb's own name. */
  display(name: SourceFileName): string {
    return this.toLocal(name) ?? name.fullname ?? name.file;
  }

  /** The path to show for a frame, breakpoint or instruction gdb placed in a file; undefined when it names none. */
  displayFrame(f: { file?: string; fullname?: string }): string | undefined {
    return f.file || f.fullname ? this.display({ file: f.file ?? f.fullname ?? '', fullname: f.fullname }) : undefined;
  }

  /**
   * What to give gdb for a local file in a breakpoint location. `known` lists the files the debug
   * information names (asked only when the path is not one of gdb's own names).
   */
  async toGdb(local: string, known: () => Promise<readonly SourceFileName[]>): Promise<string> {
    const seen = this.toGdbName.get(local);
    if (seen) return seen;
    const files = await known().catch(() => []);
    const base = basename(local);
    const sameBase = files.filter((f) => basename(f.fullname ?? f.file) === base || basename(f.file) === base);
    if (sameBase.some((f) => f.fullname === local)) return local;
    for (const f of sameBase) if (this.toLocal(f) === local) return f.fullname ?? f.file;
    // A file the debug information does not name: map it back by the source map, or give it as it is.
    const target = clean(local);
    for (const m of this.mappings) {
      if (target === m.to || target.startsWith(`${m.to}/`)) return `${m.from}${target.slice(m.to.length)}`;
    }
    return local;
  }

  private lookUp(name: SourceFileName): string | undefined {
    const candidates = [...new Set([name.fullname, name.file].filter((c): c is string => !!c).map(clean))];
    for (const c of candidates) {
      for (const m of this.mappings) {
        if (c === m.from || c.startsWith(`${m.from}/`)) {
          const mapped = `${m.to}${c.slice(m.from.length)}`;
          if (this.isFile(mapped)) return mapped;
        }
      }
      if (isAbsolute(c) && this.isFile(c)) return c;
    }
    // The longest tail of the name that exists under a root: `./bindings/./bindings/x.c` is
    // `bindings/x.c` of the tree, `/build/other/tests/t/t.c` is `tests/t/t.c`.
    for (const c of candidates) {
      const parts = c.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
      for (let k = 0; k < parts.length; k++) {
        const tail = parts.slice(k).join('/');
        for (const root of this.roots) {
          const path = `${root}/${tail}`;
          if (this.isFile(path)) return path;
        }
      }
    }
    return undefined;
  }

  private isFile(path: string): boolean {
    let yes = this.isFileCache.get(path);
    if (yes === undefined) {
      try {
        yes = statSync(path).isFile();
      } catch {
        yes = false;
      }
      this.isFileCache.set(path, yes);
    }
    return yes;
  }
}
