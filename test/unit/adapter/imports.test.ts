import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../../src');
const ADAPTER = join(SRC, 'adapter');

/** The src/ files a file imports (type imports included: a cycle of types is still a cycle to read). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms)) {
    const base = resolve(dirname(file), m[1]!);
    const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
    if (target) out.push(target);
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** A cycle in the graph, as the files on it, or undefined. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the import graph', () => {
  const name = (f: string): string => relative(SRC, f);

  it('src/adapter has no import cycle', () => {
    const files = filesUnder(ADAPTER);
    const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(`${ADAPTER}/`))]));
    const cycle = findCycle(graph);
    assert.equal(cycle?.map(name).join(' → '), undefined);
  });

  it('no part imports the session: only the entry points do (standalone, and inline in another process)', () => {
    const importers = filesUnder(SRC).filter((f) => importsOf(f).includes(join(ADAPTER, 'session.ts')));
    assert.deepEqual(importers.map(name).sort(), ['adapter/inline.ts', 'adapter/main.ts']);
  });

  it('src/ as a whole has no import cycle, and the libraries below the adapter never import it', () => {
    const files = filesUnder(SRC);
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    assert.equal(findCycle(graph)?.map(name).join(' → '), undefined);
    for (const lib of ['mi', 'qemu', 'crash', 'elf', 'ocaml']) {
      for (const f of files.filter((x) => x.startsWith(join(SRC, lib) + '/'))) {
        const up = (graph.get(f) ?? []).filter((t) => t.startsWith(`${ADAPTER}/`) || t.startsWith(join(SRC, 'extension') + '/'));
        assert.deepEqual(up.map(name), [], `${name(f)} imports the adapter or the extension`);
      }
    }
  });

  it('MI syntax stays in src/mi and QMP commands in src/qemu', () => {
    for (const f of filesUnder(SRC)) {
      // Code only: comments may name a command to say what something does.
      const text = readFileSync(f, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\*|\/\/)/.test(line))
        .join('\n');
      if (!f.startsWith(join(SRC, 'mi') + '/')) {
        assert.doesNotMatch(text, /['"`]-(?:exec|break|data|var|stack|target|gdb|file|symbol|environment|interpreter|thread)-[a-z-]+/, `${name(f)} holds an MI command`);
        assert.doesNotMatch(text, /\.send\(\s*['"`]-[a-z]+-/, `${name(f)} sends to gdb by hand`);
      }
      if (!f.startsWith(join(SRC, 'qemu') + '/')) {
        assert.doesNotMatch(text, /\.execute\(\s*['"]/, `${name(f)} sends a QMP command by hand`);
      }
    }
  });
});
