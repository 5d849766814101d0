/**
 * Reverse Step Into and Reverse Step Out, next to Step Back on the debug toolbar of a recorded
 * session: DAP has no requests for them, so they go to the adapter as custom requests.
 */
import * as vscode from 'vscode';

function threadOf(session: vscode.DebugSession): number {
  const item = vscode.debug.activeStackItem;
  return item && item.session.id === session.id ? item.threadId : 1;
}

/** Resolves with the error shown to the user, or undefined when the adapter took the request. */
async function reverse(command: 'reverseStepIn' | 'reverseStepOut'): Promise<string | undefined> {
  const session = vscode.debug.activeDebugSession;
  if (!session || session.type !== 'unikernel') {
    const text = 'Reverse stepping needs a unikernel debug session launched with "record": true.';
    void vscode.window.showInformationMessage(text);
    return text;
  }
  try {
    await session.customRequest(command, { threadId: threadOf(session) });
    return undefined;
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(text);
    return text;
  }
}

export function registerReverseCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('unikernel.reverseStepIn', () => reverse('reverseStepIn')),
    vscode.commands.registerCommand('unikernel.reverseStepOut', () => reverse('reverseStepOut')),
  );
}
