/**
 * The VS Code side: runs the debug adapter as its own process and fills in launch configurations.
 */
import * as vscode from 'vscode';
import { UnikernelConfigurationProvider } from './configurationProvider';

export function activate(context: vscode.ExtensionContext): void {
  const adapter = context.asAbsolutePath('dist/debugAdapter.js');
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('unikernel', {
      // A separate process: a gdb or QEMU gone wild cannot take the extension host with it.
      createDebugAdapterDescriptor: () =>
        new vscode.DebugAdapterExecutable(process.execPath, [adapter], { env: { ELECTRON_RUN_AS_NODE: '1' } }),
    }),
    vscode.debug.registerDebugConfigurationProvider('unikernel', new UnikernelConfigurationProvider()),
  );
}

export function deactivate(): void {
  /* sessions end with their adapter processes */
}
