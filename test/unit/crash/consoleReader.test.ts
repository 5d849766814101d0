import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConsoleReader } from '../../../src/crash/consoleReader';

describe('ConsoleReader', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-reader-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers clean lines from 1 and strips escapes and NULs', () => {
    const seen: [string, number][] = [];
    const r = new ConsoleReader({ onLine: (l, n) => seen.push([l, n]) });
    r.push('\x1b[32mboot\x1b[0m\r\n\0\0Solo5: Hal');
    r.push(Buffer.from('ted\r\n'));
    r.end();
    assert.deepEqual(seen, [['boot', 1], ['Solo5: Halted', 2]]);
    assert.equal(r.lines, 2);
  });

  it('keeps a bounded ring of recent lines with their numbers', () => {
    const r = new ConsoleReader({ historyLines: 3 });
    for (let i = 1; i <= 10; i++) r.push(`line ${i}\n`);
    assert.deepEqual(r.recentLines().map((l) => [l.lineNo, l.text]), [[8, 'line 8'], [9, 'line 9'], [10, 'line 10']]);
  });

  it('tees raw bytes to consoleLog unchanged', async () => {
    const log = join(dir, 'tee.log');
    const raw = Buffer.from('a\r\n\x1b[1mb\x00\xff\r\n', 'latin1');
    const r = new ConsoleReader({ consoleLog: log });
    r.push(raw.subarray(0, 3));
    r.push(raw.subarray(3));
    r.end();
    await r.flushTee();
    assert.deepEqual(readFileSync(log), raw);
  });

  it('reads a file, ending with an unterminated last line', async () => {
    const file = join(dir, 'in.log');
    writeFileSync(file, 'one\ntwo\r\nthree');
    const seen: string[] = [];
    let ended = 0;
    const r = new ConsoleReader({ onLine: (l) => seen.push(l), onEnd: () => ended++ });
    await r.readFile(file);
    assert.deepEqual(seen, ['one', 'two', 'three']);
    assert.equal(ended, 1);
  });

  it('drains a live stream in flowing mode and never pauses it', async () => {
    const stream = new PassThrough({ highWaterMark: 16 });
    const seen: string[] = [];
    const r = new ConsoleReader({ onLine: (l) => seen.push(l) });
    r.attach(stream);
    for (let i = 0; i < 1000; i++) {
      // write() returning false would mean a guest blocked on a full socket.
      assert.equal(stream.isPaused(), false);
      stream.write(`line ${i}\n`);
    }
    stream.end();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(seen.length, 1000);
    assert.equal(seen[999], 'line 999');
  });

  it('a failing tee file does not stop the console', async () => {
    const seen: string[] = [];
    const r = new ConsoleReader({ consoleLog: join(dir, 'no', 'such', 'dir', 'x.log'), onLine: (l) => seen.push(l) });
    r.push('a\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    r.push('b\n');
    r.end();
    assert.ok(r.teeFailure);
    assert.deepEqual(seen, ['a', 'b']);
  });
});
