/**
 * Property-based fuzzing (fast-check) of everything that reads untrusted bytes: the MI parser and
 * the console crash collector. They never throw, answer in linear time, and stay bounded; mutated
 * real outputs are part of the input space.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MiStreamParser, parseMiLine } from '../../src/mi/parser';
import { analyzeLog } from '../../src/crash/collector';
import { CrashWatcher } from '../../src/crash/crashWatcher';

const SAMPLES = join(__dirname, '../unit/crash/samples');
const MI_RECORDING = join(__dirname, '../../bench/data/mi-session.log');

const consoleSamples = readdirSync(SAMPLES).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(SAMPLES, f), 'latin1'));
const miLines = readFileSync(MI_RECORDING, 'utf8').split('\n').filter(Boolean).slice(0, 2000);

/** A real text with random bytes changed, inserted or removed. */
function mutated(texts: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...texts), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.string({ maxLength: 8, unit: 'binary' })), { maxLength: 20 }))
    .map(([text, edits]) => {
      let t = text;
      for (const [pos, op, s] of edits) {
        const at = t.length ? pos % t.length : 0;
        t = op === 0 ? t.slice(0, at) + s + t.slice(at + 1) : op === 1 ? t.slice(0, at) + s + t.slice(at) : t.slice(0, at) + t.slice(at + s.length + 1);
      }
      return t;
    });
}

const MI_ALPHABET = ['^', '*', '+', '=', '~', '@', '&', '"', '\\', '{', '}', '[', ']', ',', '=', 'a', '1', '\n', '\r', '\\n', '\\303', '(gdb)', 'done', 'stopped'];
const miNoise = fc.array(fc.constantFrom(...MI_ALPHABET), { maxLength: 200 }).map((a) => a.join(''));

describe('fuzzing', function () {
  this.timeout(120_000);

  it('the MI parser never throws on any line, random or mutated from a real session', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), miNoise, mutated(miLines)), (line) => {
        const rec = parseMiLine(line);
        assert.ok(rec && typeof rec.kind === 'string');
      }),
      { numRuns: 3000 },
    );
  });

  it('the MI stream parser gives the same records whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...miLines), { minLength: 1, maxLength: 30 }), fc.array(fc.nat({ max: 64 }), { maxLength: 20 }), (lines, cuts) => {
        const bytes = Buffer.from(`${lines.join('\n')}\n`);
        const whole: unknown[] = [];
        new MiStreamParser((r) => whole.push(r)).push(bytes);
        const pieces: unknown[] = [];
        const p = new MiStreamParser((r) => pieces.push(r));
        let at = 0;
        for (const c of cuts) {
          p.push(bytes.subarray(at, at + c));
          at += c;
        }
        p.push(bytes.subarray(at));
        assert.deepEqual(pieces, whole);
      }),
      { numRuns: 300 },
    );
  });

  it('the crash collector never throws on random or mutated consoles, and finds the same crashes in any chunking', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(consoleSamples), fc.string({ unit: 'binary', maxLength: 2000 })), fc.array(fc.nat({ max: 300 }), { maxLength: 10 }), (text, cuts) => {
        const bytes = Buffer.from(text, 'utf8');
        const reports = analyzeLog(bytes.toString('utf8'));
        assert.ok(Array.isArray(reports));
        const w = new CrashWatcher({ idleFlushMs: 0 });
        let at = 0;
        for (const c of cuts) {
          w.push(bytes.subarray(at, at + c));
          at += c;
        }
        w.push(bytes.subarray(at));
        w.end();
        assert.deepEqual(w.reports(), reports);
      }),
      { numRuns: 500 },
    );
  });

  it('hostile inputs take linear time: 4 MiB of the worst shapes in well under a second each', () => {
    const shapes = ['['.repeat(1 << 22), '{'.repeat(1 << 22), `~"${'\\'.repeat(1 << 22)}`, `^done,a="${'x'.repeat(1 << 22)}`];
    for (const shape of shapes) {
      const t = process.hrtime.bigint();
      parseMiLine(shape);
      assert.ok(Number(process.hrtime.bigint() - t) / 1e6 < 2_000, 'parser took too long');
    }
    const consoleShapes = [
      'Solo5: trap: type=#PF ec=0x2 rip=0x'.repeat(1 << 16),
      `${'CRIT: [libkvmplat] <traps.c @ 84> Unhandled Trap 13 (general protection), error code=0x0\n'.repeat(1 << 14)}`,
      `Fatal error: exception Failure("${'('.repeat(1 << 20)}`,
      '\x1b['.repeat(1 << 20),
    ];
    for (const shape of consoleShapes) {
      const t = process.hrtime.bigint();
      analyzeLog(shape);
      assert.ok(Number(process.hrtime.bigint() - t) / 1e6 < 5_000, 'collector took too long');
    }
  });
});
