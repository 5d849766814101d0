/** Medians, paired ratios and the printed table. */

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

/** Samples keyed by where they were taken (round, or round:step), so that subjects pair up. */
export type Samples = Map<string, number>;

/** Median of a / b over the keys both have. */
export function pairedRatio(a: Samples | undefined, b: Samples | undefined): number | undefined {
  if (!a || !b) return undefined;
  const ratios: number[] = [];
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (vb !== undefined && vb > 0) ratios.push(va / vb);
  }
  return median(ratios);
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined) return 'n/a';
  if (r < 0.01) return r.toFixed(4);
  return r.toFixed(2);
}

/** A markdown table (it reads as a table in a terminal too). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
