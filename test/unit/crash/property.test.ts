// Property tests of the detectors on random and mutated real logs: they never
// throw, stay linear, and the prefilter and the line splitter's fast paths
// change nothing.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyzeLog } from '../../../src/crash/collector';
import { CrashWatcher } from '../../../src/crash/crashWatcher';
import { LineSplitter, type SplitLine } from '../../../src/crash/lineSplitter';
import { cleanLine } from '../../../src/crash/lineCleaner';
import type { DetectedCrash, DetectorClass } from '../../../src/crash/detectors/types';
import { Solo5Detector } from '../../../src/crash/detectors/solo5';
import { TenderDetector } from '../../../src/crash/detectors/tender';
import { OcamlDetector } from '../../../src/crash/detectors/ocaml';
import { RumprunDetector } from '../../../src/crash/detectors/rumprun';
import { UnikraftDetector } from '../../../src/crash/detectors/unikraft';
import { XenDetector } from '../../../src/crash/detectors/xen';
import { IncludeOsDetector } from '../../../src/crash/detectors/includeos';
import { GenericDetector } from '../../../src/crash/detectors/generic';
import { KernelPanicDetector } from '../../../src/crash/detectors/kernelPanic';
import { KvmDetector } from '../../../src/crash/detectors/kvm';
import { FaultDumpDetector } from '../../../src/crash/detectors/faultDump';
import { corpusText, loadManifest } from './corpus/scorer';

const DETECTORS: DetectorClass[] = [
  Solo5Detector, TenderDetector, OcamlDetector, RumprunDetector, UnikraftDetector, XenDetector,
  IncludeOsDetector, GenericDetector, KernelPanicDetector, KvmDetector, FaultDumpDetector,
];
const realLogs = loadManifest().logs.map(corpusText);
const realLines = realLogs.flatMap((t) => t.split(/\r?\n|\r/)).filter((l) => l.trim().length > 0);

/** A real log with random characters changed, inserted, removed, or whole lines repeated. */
const mutatedLog = fc
  .tuple(fc.constantFrom(...realLogs), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 8, unit: 'binary' })), { maxLength: 20 }))
  .map(([text, edits]) => {
    let t = text;
    for (const [pos, op, s] of edits) {
      const at = t.length ? pos % t.length : 0;
      if (op === 0) t = t.slice(0, at) + s + t.slice(at + 1);
      else if (op === 1) t = t.slice(0, at) + s + t.slice(at);
      else if (op === 2) t = t.slice(0, at) + t.slice(at + s.length + 1);
      else {
        const start = t.lastIndexOf('\n', at) + 1;
        const end = t.indexOf('\n', at);
        const line = t.slice(start, end < 0 ? t.length : end + 1);
        t = t.slice(0, start) + line.repeat(1 + (s.length % 4)) + t.slice(start);
      }
    }
    return t;
  });
/** Lines of real logs shuffled together, so one detector's crash meets another's lines. */
const shuffledLines = fc.array(fc.constantFrom(...realLines), { minLength: 1, maxLength: 200 }).map((l) => l.join('\n'));
const anyLog = fc.oneof(mutatedLog, shuffledLines, fc.string({ unit: 'binary', maxLength: 2000 }));

describe('detector properties', function () {
  this.timeout(120_000);

  it('no detector throws, alone or with a context, on any line of random or mutated real logs', () => {
    fc.assert(
      fc.property(anyLog, (text) => {
        for (const D of DETECTORS) {
          const out: DetectedCrash[] = [];
          const d = new D((c) => out.push(c), { run: undefined, platforms: new Set(['rumprun', 'generic']) });
          let n = 0;
          for (const line of text.split(/\r?\n|\r/)) {
            const clean = cleanLine(line);
            if (clean) d.feed(clean, ++n);
          }
          d.flush();
          assert.equal(d.pending, false);
          for (const c of out) assert.ok(c.report.line >= 1 && c.report.line <= Math.max(n, 1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the prefilter changes no report', () => {
    fc.assert(
      fc.property(anyLog, (text) => {
        assert.deepEqual(analyzeLog(text), analyzeLog(text, { prefilter: false }));
      }),
      { numRuns: 400 },
    );
  });

  it('the console path gives the same reports as analyzeLog in any chunking, ASCII or not', () => {
    fc.assert(
      fc.property(anyLog, fc.array(fc.nat({ max: 400 }), { maxLength: 12 }), (text, cuts) => {
        const bytes = Buffer.from(text, 'utf8');
        const w = new CrashWatcher({ idleFlushMs: 0 });
        let at = 0;
        for (const c of cuts) {
          w.push(bytes.subarray(at, at + c));
          at += c;
        }
        w.push(bytes.subarray(at));
        w.end();
        assert.deepEqual(w.reports(), analyzeLog(bytes.toString('utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('the line splitter gives the same lines whatever the chunking (its ASCII fast path included)', () => {
    const pieces = fc.constantFrom('a', 'bc', ' ', '\n', '\r', '\r\n', 'é', '€', '\x1b[1m', '\x00', 'x'.repeat(40), '😀');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 120 }), fc.array(fc.nat({ max: 50 }), { maxLength: 10 }), fc.constantFrom<'truncate' | 'split'>('truncate', 'split'), (parts, cuts, overlong) => {
        const bytes = Buffer.from(parts.join(''), 'utf8');
        const split = (sizes: number[]): SplitLine[] => {
          const out: SplitLine[] = [];
          const s = new LineSplitter((l) => out.push(l), { maxLineBytes: 32, overlong });
          let at = 0;
          for (const c of sizes) {
            s.push(bytes.subarray(at, at + c));
            at += c;
          }
          s.push(bytes.subarray(at));
          s.end();
          return out;
        };
        // Byte by byte is the slow path's reference.
        assert.deepEqual(split(cuts), split(Array.from({ length: bytes.length }, () => 1)));
      }),
      { numRuns: 500 },
    );
  });

  it('stays linear: 4 MiB of each hostile shape in well under a second per MiB', () => {
    const shapes = [
      `${'general protection at 0x1 (0x'.repeat(1 << 16)}`,
      `${'www  '.repeat(1 << 18)}Fatal error: exception Failure("x")`,
      `${'[<c001c84c>] (f) from [<'.repeat(1 << 16)}`,
      `${'0x1 <'.repeat(1 << 18)}`,
      `${'001ffe70  '}${'8f '.repeat(1 << 20)}`,
      `**** PANIC ****\n${'R 8:  0 '.repeat(1 << 16)}`,
      `KVM internal error. Suberror: 1\n${'RAX=0 '.repeat(1 << 18)}`,
      `${'(status 13'.repeat(1 << 18)}`,
      `${'CRIT: [x] <a @ 1> '.repeat(1 << 16)}`,
      `${'page fault outside application, addr: 0x0\n'.repeat(1 << 14)}`,
      `${'trap: #UD\n'.repeat(1 << 18)}`,
    ];
    for (const shape of shapes) {
      const t = process.hrtime.bigint();
      analyzeLog(shape);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      assert.ok(ms < 4_000, `${shape.slice(0, 30)}…: ${ms.toFixed(0)} ms`);
    }
  });

  it('time grows linearly with the size of a real log', () => {
    const block = realLogs.join('\n');
    const time = (copies: number): number => {
      const text = block.repeat(copies);
      const t = process.hrtime.bigint();
      analyzeLog(text);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    time(4); // warm up
    const small = Math.max(time(8), 1);
    const large = time(64);
    assert.ok(large < small * 8 * 4, `8× the input took ${(large / small).toFixed(1)}× the time`);
  });
});
