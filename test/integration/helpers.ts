/**
 * Shared pieces of the integration tests: the fixture images, source markers, a DAP client on the
 * real adapter, and a check that every QEMU and gdb a test started is gone afterwards.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { InlineDebugSession } from '../../src/adapter/inline';

export const ROOT = resolve(__dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures');
export const BUILD = join(FIXTURES, 'build');
export const KERNEL = join(BUILD, 'kernel.elf');
export const UK_IMAGE = join(BUILD, 'kernel-uk');
export const UK_DBG = join(BUILD, 'kernel-uk.dbg');
export const ADAPTER = join(ROOT, 'dist/debugAdapter.js');
const INLINE_ADAPTER = join(ROOT, 'dist/inlineAdapter.js');

/** Bound for one stop to arrive (TCG is slow on a loaded machine, but never this slow). */
export const STOP_TIMEOUT = 30_000;

export interface Marker {
  path: string;
  line: number;
}

/** The line carrying `@bp:<name>` (or `@<kind>:<name>` when the name has a colon) in the fixture sources. */
export function marker(name: string): Marker {
  const tag = name.includes(':') ? `@${name}` : `@bp:${name}`;
  for (const file of readdirSync(FIXTURES)) {
    if (!/\.(c|S|h)$/.test(file)) continue;
    const path = join(FIXTURES, file);
    const lines = readFileSync(path, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes(`${tag} `) || l.endsWith(tag));
    if (i >= 0) return { path, line: i + 1 };
  }
  throw new Error(`marker ${tag} not found in ${FIXTURES}`);
}

/** A client on the real adapter that also records every output event. */
export class Session {
  readonly dc: DebugClient;
  readonly output: DebugProtocol.OutputEvent[] = [];

  /** UNIKERNEL_TEST_INLINE=1: the session class in this process, as VS Code's extension host runs it. */
  private inline: InlineAdapter | undefined;

  constructor(private readonly env: Record<string, string> = {}) {
    this.dc = new DebugClient('node', ADAPTER, 'unikernel', { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, [RUN_TAG_VAR]: RUN_TAG } }, true);
    this.dc.on('output', (e: DebugProtocol.OutputEvent) => this.output.push(e));
  }

  async start(): Promise<void> {
    if (INLINE) {
      this.inline = new InlineAdapter(this.env);
      (this.dc as unknown as { connect(r: Readable, w: Writable): void }).connect(this.inline.toClient, this.inline.toAdapter);
    } else {
      await this.dc.start();
    }
    // As VS Code does: progress bars supported.
    await this.dc.initializeRequest({ adapterID: 'unikernel', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsProgressReporting: true });
  }

  /** Text of all output events of one category so far. */
  text(category?: string): string {
    return this.output.filter((e) => !category || e.body.category === category).map((e) => e.body.output).join('');
  }

  /** Resolves with the first output event whose text, accumulated, matches. */
  waitForOutput(pattern: RegExp, timeout = STOP_TIMEOUT): Promise<void> {
    if (pattern.test(this.text())) return Promise.resolve();
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.dc.removeListener('output', on);
        reject(new Error(`no output matching ${pattern} within ${timeout} ms; got:\n${this.text().slice(-2000)}`));
      }, timeout);
      const on = (): void => {
        if (pattern.test(this.text())) {
          clearTimeout(timer);
          this.dc.removeListener('output', on);
          resolvePromise();
        }
      };
      this.dc.on('output', on);
    });
  }

  /** Launches (or attaches), sets the breakpoints, finishes configuration, and waits for the first stop. */
  async startTo(
    request: 'launch' | 'attach',
    args: Record<string, unknown>,
    breakpoints: Marker[],
    functionBreakpoints: string[] = [],
  ): Promise<DebugProtocol.StoppedEvent> {
    const initialized = this.dc.waitForEvent('initialized', STOP_TIMEOUT);
    const req = request === 'launch' ? this.dc.launchRequest(args as DebugProtocol.LaunchRequestArguments) : this.dc.attachRequest(args as DebugProtocol.AttachRequestArguments);
    await Promise.all([req, initialized]);
    const byFile = new Map<string, number[]>();
    for (const bp of breakpoints) byFile.set(bp.path, [...(byFile.get(bp.path) ?? []), bp.line]);
    for (const [path, lines] of byFile) {
      const r = await this.dc.setBreakpointsRequest({ source: { path }, breakpoints: lines.map((line) => ({ line })) });
      for (const b of r.body.breakpoints) assert.equal(b.verified, true, `breakpoint in ${path} not verified: ${b.message}`);
    }
    if (functionBreakpoints.length > 0) {
      await this.dc.setFunctionBreakpointsRequest({ breakpoints: functionBreakpoints.map((name) => ({ name })) });
    }
    const stopped = this.dc.waitForEvent('stopped', STOP_TIMEOUT) as Promise<DebugProtocol.StoppedEvent>;
    await this.dc.configurationDoneRequest();
    return stopped;
  }

  /** Sends a request that resumes the guest and waits for the next stop. */
  async resumeTo(send: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stopped = this.dc.waitForEvent('stopped', STOP_TIMEOUT) as Promise<DebugProtocol.StoppedEvent>;
    await send();
    return stopped;
  }

  async topFrames(threadId: number, levels = 20): Promise<DebugProtocol.StackFrame[]> {
    const r = await this.dc.stackTraceRequest({ threadId, startFrame: 0, levels });
    return r.body.stackFrames;
  }

  /** Locals of a frame, by name. */
  async locals(frameId: number): Promise<Map<string, DebugProtocol.Variable>> {
    const scopes = await this.dc.scopesRequest({ frameId });
    const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
    assert.ok(locals, 'a Locals scope');
    return this.children(locals.variablesReference);
  }

  async children(ref: number): Promise<Map<string, DebugProtocol.Variable>> {
    const r = await this.dc.variablesRequest({ variablesReference: ref });
    return new Map(r.body.variables.map((v) => [v.name, v]));
  }

  async stop(): Promise<void> {
    try {
      await this.dc.stop();
    } finally {
      await this.inline?.dispose();
    }
  }

  /** A request the test support has no method for. */
  async request<T extends DebugProtocol.Response>(command: string, args: object): Promise<T> {
    return (await this.dc.customRequest(command, args)) as T;
  }

  /** Lets go of an adapter that is already dead (a disconnect would wait for an answer forever). */
  forget(): void {
    (this.dc as unknown as { stopAdapter(): void }).stopAdapter();
    void this.inline?.dispose();
  }

  /** The adapter's process id (the test support keeps it in a private field). */
  get adapterPid(): number | undefined {
    return (this.dc as unknown as { _adapterProcess?: { pid?: number } })._adapterProcess?.pid;
  }
}

/**
 * The adapter run in this process, the way VS Code runs it inline (`DebugAdapterInlineImplementation`):
 * messages in through `handleMessage`, out through `onDidSendMessage`, `dispose` when the session is
 * over. The DebugClient talks to it through a pair of streams carrying DAP's framing.
 */
class InlineAdapter {
  readonly toAdapter = new PassThrough();
  readonly toClient = new PassThrough();
  private readonly session: InlineDebugSession;
  private readonly savedEnv = new Map<string, string | undefined>();
  private buf = Buffer.alloc(0);
  private disposed = false;

  constructor(env: Record<string, string>) {
    // The adapter reads its environment (and its children inherit it) from this process's.
    for (const [k, v] of Object.entries(env)) {
      this.savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
    // The bundle (built with dist/debugAdapter.js), as the extension host runs the bundled class.
    const lib = require(INLINE_ADAPTER) as typeof import('../../src/adapter/inline');
    this.session = new lib.InlineDebugSession(ADAPTER);
    this.session.onDidSendMessage((msg) => {
      const json = JSON.stringify(msg);
      this.toClient.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`);
    });
    this.toAdapter.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: *(\d+)/i.exec(this.buf.toString('latin1', 0, end))?.[1]);
      if (this.buf.length < end + 4 + length) return;
      const body = this.buf.toString('utf8', end + 4, end + 4 + length);
      this.buf = this.buf.subarray(end + 4 + length);
      this.session.handleMessage(JSON.parse(body) as DebugProtocol.ProtocolMessage);
    }
  }

  /** As VS Code does when the session is over; waits until what the session started is gone. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
    // dispose() starts the teardown; a disconnect has already waited for it, so this is quick.
    await new Promise((r) => setTimeout(r, 50));
    this.toClient.end();
    for (const [k, v] of this.savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * Every adapter this test run starts carries this tag in its environment, and so do its children:
 * the leftover check sees this run's processes only, not those of another run on the same machine.
 */
const RUN_TAG_VAR = 'UNIKERNEL_DEBUG_TEST_RUN';
const RUN_TAG = `${process.pid}-${Date.now()}`;
/** UNIKERNEL_TEST_INLINE=1 runs every Session's adapter in this process instead of dist/debugAdapter.js. */
export const INLINE = process.env.UNIKERNEL_TEST_INLINE === '1';
if (INLINE) {
  // The adapter's children inherit this process's environment: tag them as this run's.
  process.env[RUN_TAG_VAR] = RUN_TAG;
  // As the extension host and the standalone adapter do: a stray rejection is reported, not fatal.
  process.on('unhandledRejection', (reason) => process.stderr.write(`inline adapter: unhandled rejection: ${String(reason)}\n`));
}
/** The environment that marks a process as started by this test run. */
export const RUN_ENV: Record<string, string> = { [RUN_TAG_VAR]: RUN_TAG };

function hasRunTag(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${RUN_TAG_VAR}=${RUN_TAG}`);
  } catch {
    return false;
  }
}

/** This run's QEMU and gdb processes: QEMU with our private socket dir, gdb in MI mode. */
export function sessionProcesses(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      // A zombie has ended; it only waits for its (new) parent to collect it.
      if (/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (((/qemu-system/.test(cmd) && cmd.includes('unikernel-debug-')) || /\bgdb\b.*--interpreter=mi3/.test(cmd)) && hasRunTag(entry)) {
      found.set(Number(entry), cmd.trim());
    }
  }
  return found;
}

/** Asserts that no session process exists now that was not there in `before`. */
export function assertNoLeftovers(before: Map<number, string>): void {
  const left = [...sessionProcesses()].filter(([pid]) => !before.has(pid));
  assert.deepEqual(left, [], `processes left behind:\n${left.map(([p, c]) => `${p} ${c}`).join('\n')}`);
}

/**
 * The hooks every session test needs: a fresh client on the real adapter before each test, and
 * after it the check that nothing the test started is left running.
 */
export function withSession(use: (s: Session, before: Map<number, string>) => void, env: Record<string, string> = {}): void {
  let session: Session;
  let before: Map<number, string>;
  beforeEach(async () => {
    before = sessionProcesses();
    session = new Session(env);
    use(session, before);
    await session.start();
  });
  afterEach(async () => {
    await session.stop();
    assertNoLeftovers(before);
  });
}

/** Fixture variants with the traits of real images (test/fixtures/README.md, "Variants like real images"). */
export const SOLO5_O2 = join(BUILD, 'solo5-o2.virtio');
export const RUMPRUN_BAKED = join(BUILD, 'hello-rumprun-baked.bin');
export const UK017 = join(BUILD, 'uk017_qemu-x86_64');
export const UK017_DBG = join(BUILD, 'uk017_qemu-x86_64.dbg');
export const PANIC_KERNEL = join(BUILD, 'panic-kernel.elf');
