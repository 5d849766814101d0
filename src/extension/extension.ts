/**
 * The VS Code side: runs the debug adapter (in the extension host, or as its own process), fills in
 * launch configurations, shows crashes in the Unikernel Crash Trace view and starts the console-log
 * language server.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { InlineDebugSession } from '../adapter/inline';
import type { CrashReport } from '../crash/report';
import { registerCommands } from './commands';
import { registerReverseCommands } from './reverseCommands';
import { ConsoleLogs } from './consoleLogs';
import { UnikernelConfigurationProvider } from './configurationProvider';
import type { CrashEntry } from './crashModel';
import { CrashStore } from './crashStore';
import { CrashView } from './crashView';
import { ConsoleLanguage } from './languageClient';
import { MemoryViews } from './memory/memoryViews';

/** What the extension gives other extensions and its own extension-host tests. */
export interface UnikernelApi {
  readonly crashes: CrashStore;
  readonly view: CrashView;
  readonly language: ConsoleLanguage;
  readonly consoleLogs: ConsoleLogs;
  readonly memory: MemoryViews;
}

interface CrashEventBody {
  report?: CrashReport;
  symbols?: string;
}

export function activate(context: vscode.ExtensionContext): UnikernelApi {
  const adapter = context.asAbsolutePath('dist/debugAdapter.js');
  const crashes = new CrashStore(context.workspaceState);
  const view = new CrashView(crashes);
  const language = new ConsoleLanguage(context);
  const consoleLogs = new ConsoleLogs(context);
  const provider = new UnikernelConfigurationProvider(consoleLogs);
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('unikernel', {
      // Inline by default: no adapter process to start, so F5 reaches gdb sooner. gdb and QEMU are
      // processes of their own either way, and the reaper (dist/reaper.js, found beside the adapter) kills them
      // if the extension host dies. The standalone adapter stays for other clients and on request.
      createDebugAdapterDescriptor: () =>
        useInlineAdapter()
          ? new vscode.DebugAdapterInlineImplementation(new InlineDebugSession(adapter))
          : new vscode.DebugAdapterExecutable(process.execPath, [adapter], { env: { ELECTRON_RUN_AS_NODE: '1' } }),
    }),
    vscode.debug.registerDebugConfigurationProvider('unikernel', provider),
    // One entry per image in the Run and Debug drop-down, without a launch.json.
    vscode.debug.registerDebugConfigurationProvider('unikernel', { provideDebugConfigurations: (f) => provider.provideDebugConfigurations(f) }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type !== 'unikernel' || e.event !== 'unikernelCrash') return;
      const body = e.body as CrashEventBody | undefined;
      if (!body?.report) return;
      const log = resolveLog(e.session);
      const entry: CrashEntry = {
        id: crashes.newId(),
        report: body.report,
        time: Date.now(),
        origin: e.session.name,
        via: 'session',
        sessionId: e.session.id,
        log,
        symbols: body.symbols,
      };
      void crashes.add(entry);
    }),
    crashes,
    view,
    language,
    consoleLogs,
  );
  registerCommands(context, crashes, view, language);
  registerReverseCommands(context);
  const memory = new MemoryViews(context.extensionUri);
  memory.register(context);
  return { crashes, view, language, consoleLogs, memory };
}

/**
 * The adapter runs in the extension host unless `unikernel.debugAdapter.inline` is false or
 * UNIKERNEL_DEBUG_ADAPTER=standalone is in the extension host's environment.
 */
function useInlineAdapter(): boolean {
  const env = process.env.UNIKERNEL_DEBUG_ADAPTER;
  if (env === 'standalone') return false;
  if (env === 'inline') return true;
  return vscode.workspace.getConfiguration('unikernel').get<boolean>('debugAdapter.inline', true);
}

/** The session's console log as an absolute path (the adapter resolves a relative one against `cwd`). */
function resolveLog(session: vscode.DebugSession): string | undefined {
  const log: unknown = session.configuration.consoleLog;
  if (typeof log !== 'string' || !log) return undefined;
  const cwd: unknown = session.configuration.cwd;
  const base = typeof cwd === 'string' && cwd ? cwd : session.workspaceFolder?.uri.fsPath ?? process.cwd();
  return path.resolve(base, log);
}

export function deactivate(): void {
  /* sessions end with their adapter processes; the language client stops with its disposable */
}
