/**
 * The console-log language server (dist/languageServer.js): a diagnostic on each crash the collector
 * finds, hovers that symbolize addresses, and links from frames and printed source locations to source.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createConnection,
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  MarkupKind,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type Diagnostic,
  type DocumentLink,
  type Hover,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyzeLog, type CrashReport, type SymbolizedFrame } from '../crash';
import { addressAt, addressesIn, crashLines, crashRange, escapeMarkdown, sourceRefsIn, type AddressToken } from './analysis';
import { chooseSymbols, SymbolizerPool, type SymbolsChoice } from './symbols';

export const SET_SYMBOLS = 'unikernel/setSymbols';
const MAX_LINK_ADDRESSES = 2000;
const DEBOUNCE_MS = 250;

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const pool = new SymbolizerPool();
/** ELFs picked by the `Select Symbols for Console Log` command, by document URI. */
const picked = new Map<string, string>();
let folders: string[] = [];
let canConfigure = false;

interface Analysis {
  version: number;
  reports: CrashReport[];
  symbols?: SymbolsChoice;
  symbolsError?: string;
}
const analyses = new Map<string, Promise<Analysis>>();
const timers = new Map<string, NodeJS.Timeout>();

connection.onInitialize((params): InitializeResult => {
  folders = (params.workspaceFolders ?? []).flatMap((f) => (f.uri.startsWith('file:') ? [fileURLToPath(f.uri)] : []));
  if (folders.length === 0 && params.rootUri?.startsWith('file:')) folders = [fileURLToPath(params.rootUri)];
  canConfigure = Boolean(params.capabilities.workspace?.configuration);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      documentLinkProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'unikernel-console' },
  };
});

connection.onInitialized(() => {
  if (canConfigure) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'unikernel' });
});

function pathOf(uri: string): string | undefined {
  return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
}

function folderOf(path: string | undefined): string | undefined {
  if (!path) return folders[0];
  return folders.find((f) => path === f || path.startsWith(f.endsWith(sep) ? f : f + sep)) ?? folders[0];
}

async function settingFor(uri: string): Promise<string | undefined> {
  if (!canConfigure) return undefined;
  const v = (await connection.workspace.getConfiguration({ scopeUri: uri, section: 'unikernel.consoleLog.symbols' }).catch(() => undefined)) as unknown;
  return typeof v === 'string' ? v : undefined;
}

async function symbolsFor(doc: TextDocument): Promise<SymbolsChoice | undefined> {
  const path = pathOf(doc.uri);
  return chooseSymbols(path, picked.get(doc.uri), await settingFor(doc.uri), folderOf(path));
}

function analysisOf(doc: TextDocument): Promise<Analysis> {
  const cached = analyses.get(doc.uri);
  if (cached) return cached.then((a) => (a.version === doc.version ? a : analyze(doc)));
  return analyze(doc);
}

function analyze(doc: TextDocument): Promise<Analysis> {
  const run = (async (): Promise<Analysis> => {
    const reports = analyzeLog(doc.getText());
    const symbols = await symbolsFor(doc);
    let symbolsError: string | undefined;
    if (symbols) await pool.get(symbols.path).catch((err: Error) => (symbolsError = err.message));
    return { version: doc.version, reports, symbols, symbolsError };
  })();
  analyses.set(doc.uri, run);
  return run;
}

function where(f: { function?: string; file?: string; line?: number }): string {
  const at = f.file ? `${basename(f.file)}${f.line ? `:${f.line}` : ''}` : '';
  return f.function && at ? `${f.function} (${at})` : f.function ?? at;
}

async function symbolizeReport(report: CrashReport, symbols: SymbolsChoice | undefined): Promise<CrashReport> {
  const wanted = report.frames.filter((f) => f.address && !f.file);
  if (!symbols || wanted.length === 0) return report;
  try {
    const answers = await pool.symbolize(symbols.path, wanted.map((f) => ({ address: f.address, isReturnAddress: f.returnAddress })));
    const byFrame = new Map(wanted.map((f, i) => [f, answers[i]]));
    return {
      ...report,
      frames: report.frames.map((f) => {
        const a = byFrame.get(f);
        return a && (a.function || a.file) ? { ...f, function: a.function ?? f.function, file: a.file, line: a.line } : f;
      }),
    };
  } catch {
    return report;
  }
}

async function publishDiagnostics(doc: TextDocument): Promise<void> {
  const a = await analysisOf(doc);
  const current = documents.get(doc.uri);
  if (!current || current.version !== a.version) return;
  const diagnostics: Diagnostic[] = [];
  for (const raw of a.reports) {
    const report = await symbolizeReport(raw, a.symbols);
    const line = Math.max(0, Math.min(doc.lineCount - 1, report.line - 1));
    const span = crashRange(lineText(doc, line), line);
    const top = report.frames.find((f) => f.function || f.file);
    const message = `${report.kind}: ${report.message.split('\n')[0]}${top ? `\n  at ${where(top)}` : ''}`;
    const relatedInformation = report.frames
      .filter((f) => f.file && isAbsolute(f.file) && f.line)
      .slice(0, 20)
      .map((f) => ({
        location: { uri: pathToFileURL(f.file as string).href, range: { start: { line: (f.line as number) - 1, character: 0 }, end: { line: (f.line as number) - 1, character: 0 } } },
        message: `${f.address ? `${f.address} ` : ''}${f.function ?? '??'}`,
      }));
    diagnostics.push({
      range: { start: { line, character: span.start }, end: { line, character: span.end } },
      severity: report.kind === 'exit' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
      source: `unikernel ${report.platform}`,
      code: report.kind,
      message,
      ...(relatedInformation.length > 0 ? { relatedInformation } : {}),
    });
  }
  if (documents.get(doc.uri)?.version !== a.version) return;
  await connection.sendDiagnostics({ uri: doc.uri, version: a.version, diagnostics });
}

function schedule(doc: TextDocument): void {
  clearTimeout(timers.get(doc.uri));
  timers.set(
    doc.uri,
    setTimeout(() => {
      timers.delete(doc.uri);
      const current = documents.get(doc.uri);
      if (current) publishDiagnostics(current).catch((err: Error) => connection.console.error(`unikernel-console: ${err.message}`));
    }, DEBOUNCE_MS),
  );
}

function lineText(doc: TextDocument, line: number): string {
  return doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }).replace(/\r?\n$|\r$/, '');
}

function noSymbolsHelp(): string {
  return 'No symbols ELF is known for this log. Run **Unikernel: Select Symbols for Console Log…**, set `unikernel.consoleLog.symbols`, or keep the `.meta.json` the debugger writes next to its `consoleLog`.';
}

function describe(token: AddressToken, s: SymbolizedFrame, elf: string): string {
  const lines: string[] = [];
  if (!s.function && !s.file) {
    lines.push(`\`${token.address}\` is not in the code of \`${escapeMarkdown(basename(elf))}\`.`);
    return lines.join('\n\n');
  }
  const loc = s.file ? `[${escapeMarkdown(basename(s.file))}${s.line ? `:${s.line}` : ''}](${fileLink(s.file, s.line)})` : '';
  lines.push(`\`${token.address}\` **${escapeMarkdown(s.function ?? '??')}**${loc ? ` — ${loc}` : ''}`);
  for (const c of s.inlinedBy) {
    const cl = c.file ? ` — [${escapeMarkdown(basename(c.file))}${c.line ? `:${c.line}` : ''}](${fileLink(c.file, c.line)})` : '';
    lines.push(`inlined into **${escapeMarkdown(c.function ?? '??')}**${cl}`);
  }
  if (s.file) lines.push(`\`${escapeMarkdown(s.file)}${s.line ? `:${s.line}` : ''}\``);
  lines.push(`*symbols: ${escapeMarkdown(elf)}*`);
  return lines.join('\n\n');
}

function fileLink(file: string, line?: number): string {
  return `${pathToFileURL(file).href}${line ? `#L${line}` : ''}`;
}

connection.onHover(async (params): Promise<Hover | null> => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return null;
  const token = addressAt(lineText(doc, params.position.line), params.position.line, params.position.character);
  if (!token) return null;
  const range = { start: { line: token.line, character: token.start }, end: { line: token.line, character: token.end } };
  const a = await analysisOf(doc);
  if (!a.symbols) return { range, contents: { kind: MarkupKind.Markdown, value: noSymbolsHelp() } };
  if (a.symbolsError) return { range, contents: { kind: MarkupKind.Markdown, value: `Cannot use \`${escapeMarkdown(a.symbols.path)}\`: ${escapeMarkdown(a.symbolsError)}` } };
  // A frame's return address is looked up inside its call instruction, as the backtrace does.
  const isReturnAddress = a.reports.some((r) => r.frames.some((f) => f.returnAddress && f.address === token.address));
  try {
    const [s] = await pool.symbolize(a.symbols.path, [{ address: token.address, isReturnAddress }]);
    return { range, contents: { kind: MarkupKind.Markdown, value: describe(token, s, a.symbols.path) } };
  } catch (err) {
    return { range, contents: { kind: MarkupKind.Markdown, value: `Cannot symbolize \`${token.address}\`: ${escapeMarkdown((err as Error).message)}` } };
  }
});

connection.onDocumentLinks(async (params): Promise<DocumentLink[]> => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc) return [];
  const a = await analysisOf(doc);
  const links: DocumentLink[] = [];
  const knownFiles = new Map<string, string>(); // basename → absolute path, from symbolized frames
  const lines = crashLines(a.reports, doc.lineCount);
  if (a.symbols && !a.symbolsError) {
    const returnAddresses = new Set(a.reports.flatMap((r) => r.frames.filter((f) => f.returnAddress).map((f) => f.address)));
    const tokens = lines.flatMap((l) => addressesIn(lineText(doc, l), l)).slice(0, MAX_LINK_ADDRESSES);
    const answers = await pool
      .symbolize(a.symbols.path, tokens.map((t) => ({ address: t.address, isReturnAddress: returnAddresses.has(t.address) })))
      .catch(() => [] as SymbolizedFrame[]);
    tokens.forEach((t, i) => {
      const s = answers[i];
      if (!s?.file || !s.line) return;
      knownFiles.set(basename(s.file), s.file);
      links.push({
        range: { start: { line: t.line, character: t.start }, end: { line: t.line, character: t.end } },
        target: fileLink(s.file, s.line),
        tooltip: `${s.function ?? '??'} — ${basename(s.file)}:${s.line}`,
      });
    });
  }
  // Printed locations (`kernel.c:182`, `file "x.ml", line 10`) on crash lines.
  const folder = folderOf(pathOf(doc.uri));
  for (const l of lines) {
    for (const ref of sourceRefsIn(lineText(doc, l), l)) {
      const file = resolveSource(ref.file, knownFiles, folder);
      if (!file) continue;
      links.push({
        range: { start: { line: ref.line, character: ref.start }, end: { line: ref.line, character: ref.end } },
        target: fileLink(file, ref.line1),
        tooltip: `${basename(file)}:${ref.line1}`,
      });
    }
  }
  return links;
});

function resolveSource(file: string, known: Map<string, string>, folder: string | undefined): string | undefined {
  if (isAbsolute(file)) return existsSync(file) ? file : undefined;
  const fromFrames = known.get(basename(file));
  if (fromFrames && fromFrames.endsWith(file)) return fromFrames;
  for (const root of folder ? [folder, ...folders] : folders) {
    const candidate = join(root, file);
    if (existsSync(candidate)) return candidate;
  }
  return fromFrames;
}

connection.onNotification(SET_SYMBOLS, (params: { uri: string; symbols: string | null }) => {
  if (params.symbols) picked.set(params.uri, params.symbols);
  else picked.delete(params.uri);
  analyses.delete(params.uri);
  const doc = documents.get(params.uri);
  if (doc) schedule(doc);
});

connection.onDidChangeConfiguration(() => {
  analyses.clear();
  for (const doc of documents.all()) schedule(doc);
});

documents.onDidOpen((e) => schedule(e.document));
documents.onDidChangeContent((e) => schedule(e.document));
documents.onDidClose((e) => {
  clearTimeout(timers.get(e.document.uri));
  timers.delete(e.document.uri);
  analyses.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});
connection.onShutdown(() => pool.dispose());
connection.onExit(() => pool.dispose());

documents.listen(connection);
connection.listen();
