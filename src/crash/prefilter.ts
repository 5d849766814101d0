/**
 * One test per console line instead of one per detector pattern: every
 * detector's triggers joined into a few regular expressions. Console ingestion
 * is dominated by lines that can start no crash at all; the rare line that may
 * is then handed only to the detectors whose own triggers it matches.
 */
import type { Triggers } from './detectors/types';

/** A line tester for one set of triggers (at most three regular expressions). */
class TriggerTest {
  private constructor(
    private readonly start: RegExp | undefined,
    private readonly startIgnoreCase: RegExp | undefined,
    private readonly anywhere: RegExp | undefined,
  ) {}

  static of(all: readonly Triggers[]): TriggerTest {
    const join = (sources: string[], flags: string, anchored: boolean): RegExp | undefined =>
      sources.length === 0 ? undefined : new RegExp(`${anchored ? '^' : ''}(?:${sources.map((s) => `(?:${s})`).join('|')})`, flags);
    return new TriggerTest(
      join(all.flatMap((t) => [...t.start]), '', true),
      join(all.flatMap((t) => [...(t.startIgnoreCase ?? [])]), 'i', true),
      join(all.flatMap((t) => [...(t.anywhere ?? [])]), 'i', false),
    );
  }

  test(line: string): boolean {
    return (this.start?.test(line) ?? false) || (this.startIgnoreCase?.test(line) ?? false) || (this.anywhere?.test(line) ?? false);
  }
}

export class Prefilter {
  private constructor(
    private readonly any: TriggerTest,
    private readonly each: ReadonlyArray<TriggerTest | undefined>,
  ) {}

  /** A prefilter for these trigger sets (undefined: that consumer wants every line). */
  static for(all: ReadonlyArray<Triggers | undefined>): Prefilter | undefined {
    if (all.some((t) => t === undefined)) return undefined; // someone wants every line: nothing to skip
    const sets = all as readonly Triggers[];
    return new Prefilter(TriggerTest.of(sets), sets.map((t) => TriggerTest.of([t])));
  }

  /** True when some consumer may act on this clean line. */
  test(line: string): boolean {
    return this.any.test(line);
  }

  /** True when the consumer at `index` (in the order given to `for`) may act on this line. */
  wants(index: number, line: string): boolean {
    return this.each[index]?.test(line) ?? true;
  }
}
