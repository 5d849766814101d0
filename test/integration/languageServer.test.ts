// The console-log language server (dist/languageServer.js) over LSP on stdio, on a console log the
// fixture printed when it crashed: diagnostics, hovers, document links, and the symbols it uses.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '../..');
const SERVER = join(ROOT, 'dist/languageServer.js');
const FIXTURES = join(ROOT, 'test/fixtures');
const KERNEL = join(FIXTURES, 'build/kernel.elf');

interface Message {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** A minimal LSP client: Content-Length framing, requests by id, notifications by method. */
class Client {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, (m: Message) => void>();
  private readonly waiters: { method: string; match: (p: unknown) => boolean; resolve: (p: unknown) => void }[] = [];
  readonly received: Message[] = [];

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const head = this.buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, head).toString())?.[1]);
      if (this.buffer.length < head + 4 + length) return;
      const msg = JSON.parse(this.buffer.subarray(head + 4, head + 4 + length).toString()) as Message;
      this.buffer = this.buffer.subarray(head + 4 + length);
      this.dispatch(msg);
    }
  }

  private dispatch(msg: Message): void {
    this.received.push(msg);
    if (msg.id !== undefined && !msg.method) {
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
      return;
    }
    if (msg.id !== undefined && msg.method) {
      // Requests from the server: no settings, and registrations accepted.
      const result = msg.method === 'workspace/configuration' ? ((msg.params as { items: unknown[] }).items.map(() => null)) : null;
      this.write({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    for (const w of [...this.waiters]) {
      if (w.method === msg.method && w.match(msg.params)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(msg.params);
      }
    }
  }

  private write(msg: object): void {
    const body = Buffer.from(JSON.stringify(msg));
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  request<T>(method: string, params: unknown, ms = 15_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${method}: no answer in ${ms} ms`)), ms);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        if (m.error) fail(new Error(JSON.stringify(m.error)));
        else ok(m.result as T);
      });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  waitFor<T>(method: string, match: (p: T) => boolean, ms = 15_000): Promise<T> {
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no ${method} in ${ms} ms`)), ms);
      this.waiters.push({ method, match: match as (p: unknown) => boolean, resolve: (p) => (clearTimeout(timer), ok(p as T)) });
    });
  }
}

interface Diagnostic {
  range: { start: { line: number; character: number } };
  message: string;
  severity: number;
  relatedInformation?: { location: { uri: string } }[];
}

describe('console-log language server over LSP', function () {
  let dir: string;
  let log: string;
  let uri: string;
  let proc: ChildProcessWithoutNullStreams;
  let client: Client;
  let text: string;
  let trapLine: number;
  const crashLine = readFileSync(join(FIXTURES, 'kernel.c'), 'utf8').split('\n').findIndex((l) => l.includes('@bp:crash-write */')) + 1;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'language-server-test-'));
    log = join(dir, 'crash.console.log');
    const r = spawnSync('qemu-system-x86_64', [
      '-accel', 'tcg', '-nodefaults', '-display', 'none', '-no-reboot', '-m', '128',
      '-kernel', KERNEL, '-append', 'mode=crash', '-serial', `file:${log}`,
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ], { timeout: 60_000 });
    assert.equal(r.status, 83, `QEMU ended with ${r.status}`);
    writeFileSync(`${log}.meta.json`, JSON.stringify({ symbols: KERNEL, kernel: KERNEL }));
    text = readFileSync(log, 'utf8');
    trapLine = text.split(/\r?\n/).findIndex((l) => l.includes('Solo5: trap: type=#PF'));
    assert.ok(trapLine >= 0);
    uri = pathToFileURL(log).href;
    proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    client = new Client(proc);
    await client.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(FIXTURES).href,
      workspaceFolders: [{ uri: pathToFileURL(FIXTURES).href, name: 'fixtures' }],
      capabilities: { workspace: { configuration: true } },
    });
    client.notify('initialized', {});
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      await client.request('shutdown', null).catch(() => undefined);
      client.notify('exit', null);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes one diagnostic on the crash line, naming the symbolized frame', async () => {
    const published = client.waitFor<{ uri: string; diagnostics: Diagnostic[] }>('textDocument/publishDiagnostics', (p) => p.uri === uri);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'unikernel-console', version: 1, text } });
    const { diagnostics } = await published;
    assert.equal(diagnostics.length, 1);
    const [d] = diagnostics;
    assert.equal(d.range.start.line, trapLine);
    assert.equal(d.severity, 1);
    assert.match(d.message, /^page-fault: /);
    assert.match(d.message, new RegExp(`at crash_null_write \\(kernel\\.c:${crashLine}\\)`));
    assert.ok(d.relatedInformation?.some((i) => i.location.uri.endsWith('/kernel.c')));
  });

  it('hovers an address with its function and source line', async () => {
    const lineText = text.split(/\r?\n/)[trapLine];
    const character = lineText.indexOf('rip=0x') + 6;
    const hover = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: trapLine, character } });
    assert.match(hover.contents.value, /\*\*crash_null_write\*\*/);
    assert.match(hover.contents.value, new RegExp(`\\[kernel\\.c:${crashLine}\\]\\(file://\\S+/kernel\\.c#L${crashLine}\\)`));
    const none = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 1 } });
    assert.equal(none, null);
  });

  it('links frame addresses and printed source locations to the source', async () => {
    const links = await client.request<{ range: { start: { line: number } }; target: string }[]>('textDocument/documentLink', { textDocument: { uri } });
    const rip = links.find((l) => l.range.start.line === trapLine && l.target.endsWith(`/kernel.c#L${crashLine}`));
    assert.ok(rip, JSON.stringify(links));
    const abortLine = text.split(/\r?\n/).findIndex((l) => /ABORT: kernel\.c:\d+/.test(l));
    const printed = links.find((l) => l.range.start.line === abortLine);
    assert.ok(printed?.target.startsWith(pathToFileURL(join(FIXTURES, 'kernel.c')).href));
  });

  it('uses the symbols ELF picked for the log, then the recorded one again', async () => {
    const lineText = text.split(/\r?\n/)[trapLine];
    const position = { line: trapLine, character: lineText.indexOf('rip=0x') + 6 };
    client.notify('unikernel/setSymbols', { uri, symbols: join(dir, 'missing.elf') });
    const picked = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position });
    assert.match(picked.contents.value, /Cannot use .*missing\.elf/);
    client.notify('unikernel/setSymbols', { uri, symbols: null });
    const back = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position });
    assert.match(back.contents.value, /crash_null_write/);
  });

  it('explains how to give symbols when none are known', async () => {
    const bare = join(dir, 'bare.console.log');
    writeFileSync(bare, text);
    const bareUri = pathToFileURL(bare).href;
    client.notify('textDocument/didOpen', { textDocument: { uri: bareUri, languageId: 'unikernel-console', version: 1, text } });
    const lineText = text.split(/\r?\n/)[trapLine];
    const hover = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri: bareUri },
      position: { line: trapLine, character: lineText.indexOf('rip=0x') + 6 },
    });
    assert.match(hover.contents.value, /No symbols ELF is known/);
  });
});
