/**
 * Fills in a launch configuration when the user presses F5 without one, and checks the essentials
 * before an adapter is started.
 */
import * as vscode from 'vscode';
import type { ConsoleLogs } from './consoleLogs';

async function findImage(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
  // Typical unikernel outputs first, then any ELF-looking build product.
  const patterns = ['**/dist/*.virtio', '**/*.bin', '**/build/*_qemu-x86_64', '**/*.elf'];
  for (const pattern of patterns) {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, pattern), '**/node_modules/**', 1);
    if (found[0]) return found[0].fsPath;
  }
  return undefined;
}

export class UnikernelConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly consoleLogs?: ConsoleLogs) {}

  async resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      const ws = folder ?? vscode.workspace.workspaceFolders?.[0];
      const image = ws ? await findImage(ws) : undefined;
      if (!image) {
        await vscode.window.showErrorMessage('No unikernel image found in this workspace: build it, or add a "unikernel" launch configuration with "kernel".');
        return undefined;
      }
      return { type: 'unikernel', request: 'launch', name: 'Debug unikernel', kernel: image, cwd: ws?.uri.fsPath };
    }
    if (config.request === 'launch' && !config.kernel) {
      await vscode.window.showErrorMessage('The launch configuration has no "kernel": set it to the image QEMU should boot.');
      return undefined;
    }
    if (config.request === 'attach' && !config.target) {
      await vscode.window.showErrorMessage('The attach configuration has no "target": set it to host:port or the GDB stub\'s socket path.');
      return undefined;
    }
    return config;
  }

  /**
   * A launch that names no `consoleLog` writes its console into the extension's storage, so that the
   * Crash Trace view can open it at the crash line after the session has ended (the newest logs are kept).
   */
  async resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration> {
    if (config.request === 'launch' && !config.consoleLog && this.consoleLogs) {
      try {
        config.consoleLog = await this.consoleLogs.newLogPath(String(config.name ?? 'session'));
      } catch {
        /* no storage: the adapter keeps the log in the session's private directory */
      }
    }
    return config;
  }
}
