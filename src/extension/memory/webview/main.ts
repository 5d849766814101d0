/// <reference lib="dom" />
/**
 * The Memory view's webview: draws the rows the panel sends and turns mouse and keys into messages.
 * It holds no memory of its own beyond the rows on screen; the panel re-sends everything when the
 * view is shown again.
 */
import { alignDown, asciiChar, clampTop, hexAddress, littleEndian, parseWordInput, PENDING, ROW_BYTES, toHex, UNREADABLE, wordText, type WordSize } from '../format';
import type { AccessType, FromWebview, ToWebview, ViewState } from '../protocol';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const post = (m: FromWebview): void => api.postMessage(m);
const byId = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

const grid = byId('grid');
const rowsEl = byId('rows');
const statusEl = byId('status');
const errorEl = byId('error');
const inspectEl = byId('inspect');
const breakpointsEl = byId<HTMLUListElement>('breakpoints');
const targetInput = byId<HTMLInputElement>('target');

let state: ViewState | undefined;
let top = 0n;
let rows = 16;
let rowHeight = 20;
let cursor = 0n;
let anchor: bigint | undefined;
let wordSize: WordSize = 1;
let bytes: { start: bigint; values: number[]; changed: number[] } = { start: 0n, values: [], changed: [] };
let editing: { address: bigint; input: HTMLInputElement } | undefined;
let dragging = false;
let wheelRows = 0;

function valueAt(a: bigint): { value: number; changed: boolean } {
  const i = Number(a - bytes.start);
  if (a < bytes.start || i >= bytes.values.length) return { value: PENDING, changed: false };
  return { value: bytes.values[i] ?? PENDING, changed: bytes.changed[i] === 1 };
}

/** The selected bytes: anchor to cursor, widened to whole words; just the cursor's word without an anchor. */
function selection(): { start: bigint; end: bigint } {
  const a = anchor ?? cursor;
  const lo = a < cursor ? a : cursor;
  const hi = a < cursor ? cursor : a;
  return { start: alignDown(lo, wordSize), end: alignDown(hi, wordSize) + BigInt(wordSize) };
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

/** Address digits for the rows on screen: all the same width. */
function addressDigits(): number {
  return top + BigInt(rows * ROW_BYTES) <= 1n << 32n ? 8 : 16;
}

function headRow(): HTMLDivElement {
  const row = document.createElement('div');
  row.className = 'row head';
  row.append(span('addr', ' '.repeat(addressDigits())));
  const cells = span('cells', '');
  for (let off = 0; off < ROW_BYTES; off += wordSize) {
    cells.append(span(`col${off === 8 ? ' mid' : ''}`, off.toString(16).padStart(2, '0').padStart(wordSize * 2, ' ')));
  }
  row.append(cells, span('ascii', 'ASCII'));
  return row;
}

/** Draws the rows from `top`; selection and cursor marks are painted on after (see paint). */
function render(): void {
  if (editing) return;
  const origin = state?.origin !== undefined ? BigInt(state.origin) : undefined;
  const frag = document.createDocumentFragment();
  frag.append(headRow());
  for (let r = 0; r < rows; r++) {
    const rowAddr = top + BigInt(r * ROW_BYTES);
    const row = document.createElement('div');
    row.className = 'row';
    row.setAttribute('role', 'row');
    row.append(span('addr', hexAddress(rowAddr, addressDigits())));
    const cells = span('cells', '');
    const ascii = span('ascii', '');
    for (let off = 0; off < ROW_BYTES; off += wordSize) {
      const wordAddr = rowAddr + BigInt(off);
      const word: number[] = [];
      let changed = false;
      for (let k = 0; k < wordSize; k++) {
        const v = valueAt(wordAddr + BigInt(k));
        word.push(v.value);
        changed ||= v.changed;
      }
      const cls = ['cell'];
      if (off === 8) cls.push('mid');
      if (word.includes(UNREADABLE)) cls.push('unreadable');
      else if (word.includes(PENDING)) cls.push('pending');
      if (changed) cls.push('changed');
      if (origin !== undefined && origin >= wordAddr && origin < wordAddr + BigInt(wordSize)) cls.push('origin');
      const cell = span(cls.join(' '), wordText(word));
      cell.dataset.address = toHex(wordAddr);
      cell.setAttribute('role', 'gridcell');
      cell.title = toHex(wordAddr);
      cells.append(cell);
      word.forEach((b, k) => {
        const a = wordAddr + BigInt(k);
        const c = ['ch'];
        if (b === UNREADABLE) c.push('unreadable');
        if (valueAt(a).changed) c.push('changed');
        const ch = span(c.join(' '), asciiChar(b));
        ch.dataset.address = toHex(a);
        ascii.append(ch);
      });
    }
    row.append(cells, ascii);
    frag.append(row);
  }
  rowsEl.replaceChildren(frag);
  paint();
}

/**
 * Marks the selection and the cursor on the rows as drawn. Clicks only repaint: redrawing the rows
 * under a click would take its target away and lose the click (and a double click).
 */
function paint(): void {
  const sel = selection();
  const showSel = anchor !== undefined;
  for (const el of rowsEl.querySelectorAll<HTMLElement>('[data-address]')) {
    const a = BigInt(el.dataset.address ?? '0');
    const end = a + BigInt(el.classList.contains('cell') ? wordSize : 1);
    el.classList.toggle('sel', showSel && a < sel.end && end > sel.start);
    el.classList.toggle('cursor', cursor >= a && cursor < end);
  }
  renderStatus();
}

function renderStatus(): void {
  if (!state) return;
  const sel = selection();
  const n = Number(sel.end - sel.start);
  const selText = anchor !== undefined ? ` · selected ${toHex(sel.start)}–${toHex(sel.end - 1n)} (${n} byte${n === 1 ? '' : 's'})` : '';
  statusEl.textContent = `${state.title} at ${state.origin ?? '?'} · ${state.session} · ${state.run}${selText}`;
  const at = (k: number): number => valueAt(cursor + BigInt(k)).value;
  const parts = [1, 2, 4, 8].flatMap((size) => {
    const v = littleEndian(Array.from({ length: size }, (_, k) => at(k)));
    return v === undefined ? [] : [`u${size * 8} ${v.toString()}`];
  });
  const p = littleEndian(Array.from({ length: 8 }, (_, k) => at(k)));
  inspectEl.textContent = `${toHex(cursor)}: ${parts.join(' · ') || 'not read'}${p !== undefined ? ` · pointer ${toHex(p)}` : ''}`;
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-size]')) {
    b.setAttribute('aria-pressed', String(Number(b.dataset.size) === wordSize));
  }
  byId<HTMLButtonElement>('back').disabled = !state.canGoBack;
  const stopped = state.run === 'stopped';
  byId<HTMLButtonElement>('follow').disabled = !stopped;
  byId<HTMLButtonElement>('break-write').disabled = state.run === 'ended';
  byId<HTMLButtonElement>('break-access').disabled = state.run === 'ended';
}

function renderBreakpoints(): void {
  const items = (state?.breakpoints ?? []).map((b) => {
    const li = document.createElement('li');
    if (!b.verified) li.className = 'unverified';
    li.append(span('', `● ${b.label}${b.verified ? '' : ` (${b.message ?? 'not set'})`}`));
    const remove = document.createElement('button');
    remove.textContent = 'Remove';
    remove.title = 'Remove this data breakpoint';
    remove.addEventListener('click', () => post({ type: 'removeDataBreakpoint', id: b.id }));
    li.append(remove);
    return li;
  });
  breakpointsEl.replaceChildren(...items);
}

function sendWindow(): void {
  post({ type: 'window', top: toHex(top), rows, cursor: toHex(cursor), anchor: anchor === undefined ? undefined : toHex(anchor) });
}

/** How many rows fit: the grid's height less the heading row. */
function measure(): boolean {
  const probe = rowsEl.querySelector<HTMLElement>('.row');
  if (probe) rowHeight = probe.getBoundingClientRect().height || rowHeight;
  const style = getComputedStyle(grid);
  const inner = grid.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  const fit = Math.max(1, Math.floor(inner / rowHeight) - 1);
  if (fit === rows) return false;
  rows = fit;
  top = clampTop(top, rows);
  return true;
}

/** Keeps the cursor on screen, scrolling by whole rows. */
function reveal(): void {
  const rowOf = alignDown(cursor, ROW_BYTES);
  if (rowOf < top) top = rowOf;
  else if (rowOf >= top + BigInt(rows * ROW_BYTES)) top = rowOf - BigInt((rows - 1) * ROW_BYTES);
  top = clampTop(top, rows);
}

function moveCursor(to: bigint, extend: boolean): void {
  if (to < 0n) to = 0n;
  if (extend) anchor ??= cursor;
  else anchor = undefined;
  cursor = alignDown(to, wordSize);
  const before = top;
  reveal();
  if (top !== before) render();
  else paint();
  sendWindow();
}

function scrollRows(n: number): void {
  const next = clampTop(top + BigInt(n * ROW_BYTES), rows);
  if (next === top) return;
  top = next;
  render();
  sendWindow();
}

function startEdit(address: bigint, first?: string): void {
  if (!state?.canWrite) {
    errorEl.textContent = 'Memory can be changed while the guest is stopped.';
    return;
  }
  const wordAddr = alignDown(address, wordSize);
  const cell = rowsEl.querySelector<HTMLElement>(`.cell[data-address="${toHex(wordAddr)}"]`);
  if (!cell) return;
  const input = document.createElement('input');
  input.className = 'edit';
  input.setAttribute('aria-label', `New value at ${toHex(wordAddr)} (hex)`);
  input.spellcheck = false;
  input.maxLength = wordSize * 2;
  input.style.width = `${wordSize * 2 + 1}ch`;
  input.value = first ?? (cell.classList.contains('unreadable') || cell.classList.contains('pending') ? '' : cell.textContent ?? '');
  cell.replaceChildren(input);
  editing = { address: wordAddr, input };
  input.focus();
  if (first === undefined) input.select();
  const finish = (commit: boolean): void => {
    if (editing?.input !== input) return;
    const value = input.value;
    editing = undefined;
    if (commit) {
      const written = parseWordInput(value, wordSize);
      if (!written) {
        errorEl.textContent = `"${value}" is not a ${wordSize}-byte hex value.`;
      } else {
        errorEl.textContent = '';
        post({ type: 'write', address: toHex(wordAddr), bytes: written });
        cursor = wordAddr + BigInt(wordSize);
        reveal();
        sendWindow();
      }
    }
    render();
    grid.focus();
  };
  input.addEventListener('keydown', (e) => {
    e.stopPropagation();
    if (e.key === 'Enter') finish(true);
    else if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(false));
}

function addressOf(target: EventTarget | null): bigint | undefined {
  const el = target instanceof HTMLElement ? target.closest<HTMLElement>('[data-address]') : null;
  return el?.dataset.address ? BigInt(el.dataset.address) : undefined;
}

function breakOn(access: AccessType): void {
  const sel = selection();
  post({ type: 'dataBreakpoint', address: toHex(sel.start), bytes: Number(sel.end - sel.start), access });
}

// ---- input ----------------------------------------------------------------------------------------

grid.addEventListener('mousedown', (e) => {
  const a = addressOf(e.target);
  if (a === undefined || e.button !== 0) return;
  e.preventDefault();
  grid.focus();
  if (e.shiftKey) {
    anchor ??= cursor;
    cursor = alignDown(a, wordSize);
  } else {
    anchor = alignDown(a, wordSize);
    cursor = anchor;
  }
  dragging = true;
  paint();
});
grid.addEventListener('mousemove', (e) => {
  if (!dragging) return;
  const a = addressOf(e.target);
  if (a === undefined || alignDown(a, wordSize) === cursor) return;
  cursor = alignDown(a, wordSize);
  paint();
});
window.addEventListener('mouseup', () => {
  if (!dragging) return;
  dragging = false;
  // A plain click places the cursor; only a drag or a shift-click selects.
  if (anchor === cursor) anchor = undefined;
  paint();
  sendWindow();
});
grid.addEventListener('dblclick', (e) => {
  // The rows may have been redrawn between the two clicks: ask what is under the pointer now.
  const a = addressOf(document.elementFromPoint(e.clientX, e.clientY));
  if (a !== undefined) startEdit(a);
});
grid.addEventListener(
  'wheel',
  (e) => {
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) return;
    e.preventDefault();
    wheelRows += e.deltaMode === 1 ? e.deltaY : e.deltaMode === 2 ? e.deltaY * rows : e.deltaY / rowHeight;
    const n = Math.trunc(wheelRows);
    wheelRows -= n;
    if (n !== 0) scrollRows(n);
  },
  { passive: false },
);
grid.addEventListener('keydown', (e) => {
  const w = BigInt(wordSize);
  const page = BigInt(rows * ROW_BYTES);
  const keys: Record<string, () => void> = {
    ArrowLeft: () => moveCursor(cursor - w, e.shiftKey),
    ArrowRight: () => moveCursor(cursor + w, e.shiftKey),
    ArrowUp: () => moveCursor(cursor - BigInt(ROW_BYTES), e.shiftKey),
    ArrowDown: () => moveCursor(cursor + BigInt(ROW_BYTES), e.shiftKey),
    PageUp: () => {
      top = clampTop(top - page, rows);
      moveCursor(cursor - page, e.shiftKey);
    },
    PageDown: () => {
      top = clampTop(top + page, rows);
      moveCursor(cursor + page, e.shiftKey);
    },
    Home: () => moveCursor(alignDown(cursor, ROW_BYTES), e.shiftKey),
    End: () => moveCursor(alignDown(cursor, ROW_BYTES) + BigInt(ROW_BYTES) - w, e.shiftKey),
    Enter: () => startEdit(cursor),
    F2: () => startEdit(cursor),
    Escape: () => {
      anchor = undefined;
      paint();
    },
  };
  if (e.altKey && e.key === 'ArrowLeft') {
    post({ type: 'back' });
  } else if (keys[e.key] && !e.altKey && !e.ctrlKey && !e.metaKey) {
    keys[e.key]?.();
  } else if (/^[0-9a-f]$/i.test(e.key) && !e.altKey && !e.ctrlKey && !e.metaKey) {
    startEdit(cursor, e.key);
  } else {
    return;
  }
  e.preventDefault();
});

byId<HTMLFormElement>('goto').addEventListener('submit', (e) => {
  e.preventDefault();
  if (targetInput.value.trim()) post({ type: 'goto', target: targetInput.value });
});
for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-size]')) {
  b.addEventListener('click', () => {
    const size = Number(b.dataset.size);
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return;
    wordSize = size;
    cursor = alignDown(cursor, wordSize);
    if (anchor !== undefined) anchor = alignDown(anchor, wordSize);
    post({ type: 'wordSize', size });
    render();
  });
}
byId('back').addEventListener('click', () => post({ type: 'back' }));
byId('follow').addEventListener('click', () => post({ type: 'follow', address: toHex(cursor) }));
byId('break-write').addEventListener('click', () => breakOn('write'));
byId('break-access').addEventListener('click', () => breakOn('readWrite'));
byId('page-up').addEventListener('click', () => scrollRows(-rows));
byId('page-down').addEventListener('click', () => scrollRows(rows));

new ResizeObserver(() => {
  if (!state) return;
  if (measure()) {
    render();
    sendWindow();
  }
}).observe(grid);

// ---- messages from the panel -----------------------------------------------------------------------

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  if (m.type === 'bytes') {
    bytes = { start: BigInt(m.start), values: m.values, changed: m.changed };
    render();
    return;
  }
  const first = !state;
  const jumped = first || state?.jump !== m.state.jump;
  state = m.state;
  wordSize = m.state.wordSize;
  errorEl.textContent = m.state.error ?? '';
  renderBreakpoints();
  if (jumped) {
    top = BigInt(m.state.top);
    cursor = BigInt(m.state.cursor);
    anchor = m.state.anchor === undefined ? undefined : BigInt(m.state.anchor);
    render();
    measure();
    top = clampTop(top, rows);
    render();
    sendWindow();
  } else {
    renderStatus();
  }
  if (first) grid.focus();
});

post({ type: 'ready' });
