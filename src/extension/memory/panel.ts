/**
 * One Memory view: a webview panel bound to a debug session, showing the guest's memory from an
 * address. The panel owns the state (where it looks, the cursor, what was read at which stop); the
 * webview only draws and reports input. Reads happen only while the panel is visible (its webview is
 * not kept when hidden) and the guest is stopped, a page at a time, for the rows on screen.
 */
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { locate, probeAddress, readMemory, refAddress, resolveTarget, writeMemory, type LocatedTarget, type MemoryTarget } from './dap';
import { alignDown, clampTop, littleEndian, ROW_BYTES, toHex, UNREADABLE, type WordSize } from './format';
import { memoryHtml } from './html';
import { PAGE_BYTES, PageCache, pagesCovering } from './pageCache';
import { parseFromWebview, type FromWebview, type ToWebview, type ViewState } from './protocol';
import type { SessionEvent, SessionEvents } from './sessionEvents';

export const VIEW_TYPE = 'unikernel.memory';

interface Place {
  target: LocatedTarget;
  top: bigint;
  cursor: bigint;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let script: string | undefined;
/** The webview's script, bundled by esbuild; read once, put inline (the page loads no resource). */
function webviewScript(extensionUri: vscode.Uri): string {
  script ??= readFileSync(vscode.Uri.joinPath(extensionUri, 'dist', 'memoryView.js').fsPath, 'utf8');
  return script;
}

export class MemoryPanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private target: LocatedTarget;
  private top: bigint;
  private rows = 32;
  private cursor: bigint;
  private anchor: bigint | undefined;
  private wordSize: WordSize = 1;
  private error: string | undefined;
  private readonly history: Place[] = [];
  private readonly cache = new PageCache();
  private readonly reads = new Map<string, Promise<void>>();
  /** The webview is loaded and listening (it is not while the panel is hidden). */
  private ready = false;
  private windowSerial = 0;
  private jumps = 0;
  private isDisposed = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  /** Opens a view on `target` (an opaque reference is resolved to its address first). */
  static async open(session: vscode.DebugSession, target: MemoryTarget, events: SessionEvents, extensionUri: vscode.Uri, column: vscode.ViewColumn): Promise<MemoryPanel> {
    return new MemoryPanel(session, await probeAddress(session, target), events, extensionUri, column);
  }

  private constructor(
    private session: vscode.DebugSession,
    target: LocatedTarget,
    private readonly events: SessionEvents,
    extensionUri: vscode.Uri,
    column: vscode.ViewColumn,
  ) {
    this.target = target;
    this.cursor = target.address;
    this.top = clampTop(alignDown(target.address, ROW_BYTES), this.rows);
    this.panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      this.title(),
      { viewColumn: column, preserveFocus: false },
      // Nothing is kept while hidden: the panel re-sends what the webview needs when it is shown again.
      { enableScripts: true, retainContextWhenHidden: false, enableFindWidget: false, localResourceRoots: [] },
    );
    this.panel.webview.html = memoryHtml(webviewScript(extensionUri));
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => {
        const msg = parseFromWebview(m);
        if (msg) void this.onMessage(msg);
      }),
      this.panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
      }),
      this.panel.onDidDispose(() => this.dispose()),
      events.onDidChange((e) => {
        if (e.sessionId === this.session.id) this.onSessionEvent(e.event);
      }),
      events.dataBreakpoints.onDidChange((id) => {
        if (id === this.session.id) this.postState();
      }),
    );
  }

  private title(): string {
    return `Memory · ${this.target.label}`;
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** Points the view at another address; the place it leaves goes on the Back list. */
  navigate(target: LocatedTarget, remember = true, at?: { top: bigint; cursor: bigint }): void {
    if (remember) this.history.push({ target: this.target, top: this.top, cursor: this.cursor });
    if (this.history.length > 50) this.history.shift();
    this.target = target;
    this.cursor = at?.cursor ?? target.address;
    this.anchor = undefined;
    this.top = clampTop(at?.top ?? alignDown(target.address, ROW_BYTES), this.rows);
    this.jumps++;
    this.panel.title = this.title();
    this.postState();
  }

  private onSessionEvent(event: SessionEvent): void {
    switch (event.kind) {
      case 'stopped':
        this.cache.nextStop();
        this.error = undefined;
        this.postState();
        void this.refresh();
        break;
      case 'memory': {
        const base = event.ref === undefined ? undefined : event.ref === this.target.ref ? this.target.address : refAddress(event.ref);
        if (base !== undefined && event.count !== undefined) this.cache.invalidate(base + BigInt(event.offset ?? 0), event.count);
        else this.cache.invalidate();
        void this.refresh();
        break;
      }
      case 'running':
      case 'ended':
        this.postState();
        break;
    }
  }

  private async onMessage(m: FromWebview): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.postState();
          return;
        case 'window':
          this.rows = m.rows;
          this.top = clampTop(BigInt(m.top), m.rows);
          this.cursor = BigInt(m.cursor);
          this.anchor = m.anchor === undefined ? undefined : BigInt(m.anchor);
          await this.refresh();
          return;
        case 'goto':
          await this.goto(m.target);
          return;
        case 'write':
          await this.write(BigInt(m.address), m.bytes);
          return;
        case 'follow':
          await this.follow(BigInt(m.address));
          return;
        case 'back': {
          const place = this.history.pop();
          if (place) this.navigate(place.target, false, place);
          return;
        }
        case 'wordSize':
          this.wordSize = m.size;
          this.postState();
          return;
        case 'dataBreakpoint':
          if (!this.events.isTracked(this.session.id)) {
            throw new Error('This session started before the extension was loaded, so the view cannot set data breakpoints in it. Use "Add Data Breakpoint at Address" in the Breakpoints view.');
          }
          this.error = undefined;
          await this.events.dataBreakpoints.add(this.session, BigInt(m.address), m.bytes, m.access);
          return;
        case 'removeDataBreakpoint':
          await this.events.dataBreakpoints.remove(this.session, m.id);
          return;
      }
    } catch (e) {
      this.error = errorText(e);
      this.postState();
    }
  }

  /** Goes to an address or expression; after its session ended, in the active session. */
  async goto(text: string): Promise<void> {
    if (this.events.state(this.session.id) === 'ended' && vscode.debug.activeDebugSession) {
      this.session = vscode.debug.activeDebugSession;
      this.cache.clear();
      this.history.length = 0;
    }
    const target = await probeAddress(this.session, await resolveTarget(this.session, text));
    this.error = undefined;
    this.navigate(target);
  }

  private async write(address: bigint, bytes: number[]): Promise<void> {
    if (this.events.state(this.session.id) !== 'stopped') throw new Error('Memory can be changed while the guest is stopped.');
    const { ref, offset } = locate(this.target, address);
    await writeMemory(this.session, ref, offset, bytes);
    this.error = undefined;
    // Adapters announce the change with a `memory` event; one that does not is covered here.
    this.cache.invalidate(address, bytes.length);
    await this.refresh();
  }

  /** Follows the 8-byte little-endian pointer stored at `address`. */
  private async follow(address: bigint): Promise<void> {
    const { ref, offset } = locate(this.target, address);
    const r = await readMemory(this.session, ref, offset, 8);
    const value = littleEndian([...r.values]);
    if (value === undefined) throw new Error(`The 8 bytes at ${toHex(address)} cannot be read.`);
    this.error = undefined;
    this.navigate({ ref: toHex(value), address: value, label: `*(void **)${toHex(address)}` });
  }

  /** Sends the rows on screen once this stop's pages are read (until then the webview keeps the last ones). */
  private async refresh(): Promise<void> {
    if (!this.ready) return;
    const serial = ++this.windowSerial;
    const start = this.top;
    const count = this.rows * ROW_BYTES;
    const missing = pagesCovering(start, count).filter((p) => !this.cache.fresh(p));
    // Running or ended: what was read at the last stop is all there is.
    if (missing.length > 0 && this.events.state(this.session.id) === 'stopped') {
      await Promise.all(missing.map((p) => this.readPage(p)));
      if (serial !== this.windowSerial) return;
    }
    this.postBytes(start, count);
  }

  private readPage(base: bigint): Promise<void> {
    const stop = this.cache.stop;
    const key = `${stop}:${base.toString(16)}`;
    let pending = this.reads.get(key);
    if (!pending) {
      pending = (async () => {
        const { ref, offset } = locate(this.target, base);
        let values: Int16Array;
        try {
          values = (await readMemory(this.session, ref, offset, PAGE_BYTES)).values;
        } catch (e) {
          this.error = `Reading ${toHex(base)}: ${errorText(e)}`;
          values = new Int16Array(PAGE_BYTES).fill(UNREADABLE);
          this.postState();
        }
        // Read before the guest moved on: that is not this stop's memory.
        if (stop === this.cache.stop) this.cache.store(base, values);
      })().finally(() => this.reads.delete(key));
      this.reads.set(key, pending);
    }
    return pending;
  }

  private post(m: ToWebview): void {
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private postBytes(start: bigint, count: number): void {
    const w = this.cache.window(start, count);
    this.post({ type: 'bytes', start: toHex(start), values: w.values, changed: w.changed });
  }

  private postState(): void {
    const run = this.events.state(this.session.id);
    const state: ViewState = {
      title: this.target.label,
      origin: toHex(this.target.address),
      jump: this.jumps,
      top: toHex(this.top),
      cursor: toHex(this.cursor),
      anchor: this.anchor === undefined ? undefined : toHex(this.anchor),
      wordSize: this.wordSize,
      session: this.session.name,
      run,
      canGoBack: this.history.length > 0,
      canWrite: run === 'stopped',
      breakpoints: this.events.dataBreakpoints.list(this.session.id),
      error: this.error,
    };
    this.post({ type: 'state', state });
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.ready = false;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
