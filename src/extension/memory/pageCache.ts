/**
 * The bytes one Memory view has read, page by page, and what they were at the stop before: a page read
 * at a new stop is compared with its last reading, so the view can mark the bytes that changed.
 * Nothing is read here; pages come from the reader, and a stop only bumps a counter (a hidden view
 * costs nothing until it is shown again).
 */
import { ADDRESS_LIMIT, PENDING, UNREADABLE } from './format';

export const PAGE_BYTES = 256;
/** Pages kept per view; a view shows a few, and scrolling back should not read them again at once. */
const MAX_PAGES = 256;

export interface Page {
  /** The stop the page was read at. */
  stop: number;
  /** PAGE_BYTES values, each 0–255 or UNREADABLE. */
  values: Int16Array;
}

export interface WindowBytes {
  /** Per byte: 0–255, UNREADABLE, or PENDING (not read at this stop yet). */
  values: number[];
  /** Per byte: 1 when it differs from its value at the stop before. */
  changed: number[];
}

const key = (base: bigint): string => base.toString(16);

export function pageBase(address: bigint): bigint {
  return address - (address % BigInt(PAGE_BYTES));
}

/** The page starts that cover [start, start + count), inside the address space. */
export function pagesCovering(start: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  const end = start + BigInt(Math.max(0, count));
  for (let p = pageBase(start < 0n ? 0n : start); p < end && p < ADDRESS_LIMIT; p += BigInt(PAGE_BYTES)) out.push(p);
  return out;
}

export class PageCache {
  /** Counts the stops seen; pages read at an older one are stale. */
  stop = 0;
  private readonly current = new Map<string, Page>();
  /** Each page as last read at an earlier stop: what `changed` compares with. */
  private readonly previous = new Map<string, Page>();

  /** The guest ran and stopped again: everything read so far is stale (and kept to compare with). */
  nextStop(): void {
    this.stop++;
  }

  /** A page read at this stop, if any. */
  fresh(base: bigint): Page | undefined {
    const p = this.current.get(key(base));
    return p && p.stop === this.stop ? p : undefined;
  }

  /** A page read at this stop; the reading it replaces becomes the one to compare with if it is older. */
  store(base: bigint, values: Int16Array): void {
    const k = key(base);
    const old = this.current.get(k);
    if (old && old.stop < this.stop) this.previous.set(k, old);
    this.current.delete(k);
    this.current.set(k, { stop: this.stop, values });
    while (this.current.size > MAX_PAGES) {
      const oldest = this.current.keys().next().value as string;
      this.current.delete(oldest);
      this.previous.delete(oldest);
    }
  }

  /** Something wrote to [start, start + count) at this stop: those pages are read again. */
  invalidate(start?: bigint, count = 0): void {
    const pages = start === undefined ? [...this.current.keys()] : pagesCovering(start, count).map(key);
    for (const k of pages) {
      const p = this.current.get(k);
      if (!p) continue;
      // A reading from an earlier stop is still what this stop's bytes compare with.
      if (p.stop < this.stop) this.previous.set(k, p);
      this.current.delete(k);
    }
  }

  /** The bytes of [start, start + count) as far as they are known, and which changed since the stop before. */
  window(start: bigint, count: number): WindowBytes {
    const values = new Array<number>(count).fill(PENDING);
    const changed = new Array<number>(count).fill(0);
    for (const base of pagesCovering(start, count)) {
      const page = this.fresh(base);
      if (!page) continue;
      const before = this.previous.get(key(base));
      for (let i = 0; i < page.values.length; i++) {
        const at = base + BigInt(i) - start;
        if (at < 0n || at >= BigInt(count)) continue;
        const v = page.values[i] as number;
        const j = Number(at);
        values[j] = v;
        const was = before?.values[i];
        if (was !== undefined && was !== UNREADABLE && v !== UNREADABLE && was !== v) changed[j] = 1;
      }
    }
    return { values, changed };
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }
}
