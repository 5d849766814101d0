/**
 * Starts the console-log language server (dist/languageServer.js) when the first console log opens,
 * and passes it the symbols ELF the user picks for a log.
 */
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LANGUAGE_ID } from './consoleLogs';

const SET_SYMBOLS = 'unikernel/setSymbols';
const PICKS_KEY = 'unikernel.consoleLog.pickedSymbols';

export class ConsoleLanguage implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((doc) => {
        if (doc.languageId === LANGUAGE_ID) void this.start();
      }),
    );
    if (vscode.workspace.textDocuments.some((d) => d.languageId === LANGUAGE_ID)) void this.start();
  }

  /** The running client (started on demand). */
  start(): Promise<LanguageClient> {
    this.starting ??= (async () => {
      const module = this.context.asAbsolutePath('dist/languageServer.js');
      const serverOptions: ServerOptions = {
        run: { module, transport: TransportKind.ipc },
        debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
      };
      const clientOptions: LanguageClientOptions = {
        documentSelector: [
          { scheme: 'file', language: LANGUAGE_ID },
          { scheme: 'untitled', language: LANGUAGE_ID },
        ],
        synchronize: { configurationSection: 'unikernel' },
        outputChannelName: 'Unikernel Console Language Server',
      };
      const client = new LanguageClient('unikernelConsole', 'Unikernel Console Language Server', serverOptions, clientOptions);
      await client.start();
      this.client = client;
      for (const [uri, symbols] of Object.entries(this.picks())) await client.sendNotification(SET_SYMBOLS, { uri, symbols });
      return client;
    })();
    return this.starting;
  }

  private picks(): Record<string, string> {
    return this.context.workspaceState.get<Record<string, string>>(PICKS_KEY) ?? {};
  }

  /** Uses `symbols` (or, with undefined, the default rule) for the log at `uri`. */
  async setSymbols(uri: vscode.Uri, symbols: string | undefined): Promise<void> {
    const picks = { ...this.picks() };
    if (symbols) picks[uri.toString()] = symbols;
    else delete picks[uri.toString()];
    await this.context.workspaceState.update(PICKS_KEY, picks);
    const client = await this.start();
    await client.sendNotification(SET_SYMBOLS, { uri: uri.toString(), symbols: symbols ?? null });
  }

  /** The ELF picked for a log by command, if one was. */
  picked(uri: vscode.Uri): string | undefined {
    return this.picks()[uri.toString()];
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    if (client) await client.stop(5_000).catch(() => undefined);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.stop();
  }
}
