// The real-world corpus (corpus/manifest.json): every family of issue 17 is
// represented by a real log and detected, clean real boots give [], and the
// scores stay where the README says they are.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeLog, splitLines } from '../../../src/crash/collector';
import { isCrashKind, PLATFORMS } from '../../../src/crash/report';
import { CORPUS, corpusText, loadManifest, scoreCorpus } from './corpus/scorer';
import { schemaProblems } from './helpers';

const manifest = loadManifest();

describe('real-world crash corpus', () => {
  it('every log exists, has its provenance, and labels that fit the log and the vocabulary', () => {
    for (const log of manifest.logs) {
      assert.ok(existsSync(join(CORPUS, log.file)), log.file);
      const source = log.source;
      assert.ok(source.type === 'real-image' ? source.command : source.url && source.thread, `${log.file}: provenance`);
      assert.equal(log.clean, log.crashes.length === 0, log.file);
      const lines = [...splitLines(corpusText(log))].length;
      for (const c of log.crashes) {
        assert.ok(c.line >= 1 && (c.end ?? c.line) >= c.line && (c.end ?? c.line) <= lines, `${log.file}:${c.line}: span`);
        assert.ok(isCrashKind(c.kind), `${log.file}: kind ${c.kind}`);
        assert.ok((PLATFORMS as readonly string[]).includes(c.platform), `${log.file}: platform ${c.platform}`);
      }
    }
  });

  it('every family of the issue has a real crash log, and each is detected', () => {
    const families = ['linux', 'includeos', 'nabla', 'qemu-kvm', 'unikraft', 'mirage', 'rumprun', 'solo5', 'mini-os', 'osv', 'nanos'];
    for (const family of families) {
      const s = scoreCorpus((l) => l.family === family && !l.clean);
      assert.ok(s.crashes > 0, `${family}: no crash log`);
      assert.equal(s.detected.hit, s.detected.total, `${family}: ${s.problems.join('; ')}`);
    }
  });

  it('at least ten clean real boots, from several platforms, give []', () => {
    const clean = manifest.logs.filter((l) => l.clean);
    assert.ok(clean.length >= 10);
    assert.ok(new Set(clean.map((l) => l.family)).size >= 4);
    for (const log of clean) assert.deepEqual(analyzeLog(corpusText(log)), [], log.file);
  });

  it('reports are schema-valid and in log order', () => {
    for (const log of manifest.logs) {
      const reports = analyzeLog(corpusText(log));
      assert.deepEqual(schemaProblems(JSON.parse(JSON.stringify(reports))), [], log.file);
      const lines = reports.map((r) => r.line);
      assert.deepEqual(lines, [...lines].sort((a, b) => a - b), log.file);
    }
  });

  it('scores: every crash found once, nothing invented, kinds, platforms, registers, frames and messages right', () => {
    const s = scoreCorpus();
    const exact = [s.detected, s.precision, s.cleanEmpty, s.platform, s.kind];
    for (const r of exact) assert.equal(r.hit, r.total, s.problems.join('\n'));
    for (const r of [s.registers, s.frames, s.message]) assert.ok(r.hit / r.total >= 0.95, s.problems.join('\n'));
  });
});
