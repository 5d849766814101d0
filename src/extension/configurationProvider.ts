/**
 * Fills in a launch configuration when the user presses F5 without one, and checks the essentials
 * before an adapter is started.
 */
import * as vscode from 'vscode';
import { findImages, type FoundImage } from '../qemu/workspaceImages';
import type { ConsoleLogs } from './consoleLogs';

const PLATFORM_LABELS: Record<FoundImage['platform'], string> = {
  rumprun: 'Rumprun',
  mirage: 'MirageOS',
  unikraft: 'Unikraft',
  generic: 'Unikernel',
};

/** One ready launch configuration per image the workspace holds. */
export async function configurationsFor(folder: vscode.WorkspaceFolder): Promise<vscode.DebugConfiguration[]> {
  const images = await findImages(folder.uri.fsPath);
  return images.map((img) => ({
    type: 'unikernel',
    request: 'launch',
    name: `${PLATFORM_LABELS[img.platform]}: ${img.name}`,
    kernel: img.kernel,
    ...(img.symbols ? { symbols: img.symbols } : {}),
    platform: img.platform,
    cwd: folder.uri.fsPath,
  }));
}

export class UnikernelConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly consoleLogs?: ConsoleLogs) {}

  /** The Run and Debug drop-down's dynamic entries, and "create a launch.json". */
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const ws = folder ?? vscode.workspace.workspaceFolders?.[0];
    return ws ? configurationsFor(ws) : [];
  }

  async resolveDebugConfiguration(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    if (!vscode.workspace.isTrusted) {
      // A launch runs programs named by the workspace (QEMU, gdb, the image): not in Restricted Mode.
      await vscode.window.showErrorMessage('This workspace is not trusted: trust it (Manage Workspace Trust) to boot its unikernel under QEMU.');
      return undefined;
    }
    if (!config.type && !config.request && !config.name) {
      const ws = folder ?? vscode.workspace.workspaceFolders?.[0];
      const [first] = ws ? await configurationsFor(ws) : [];
      if (!first) {
        await vscode.window.showErrorMessage('No unikernel image found in this workspace: build it, or add a "unikernel" launch configuration with "kernel".');
        return undefined;
      }
      return first;
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
