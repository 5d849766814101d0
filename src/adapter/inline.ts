/**
 * The adapter run inside another Node process instead of its own: VS Code's extension host (through
 * `vscode.DebugAdapterInlineImplementation`) or a test. Messages come in through `handleMessage` and
 * go out through `onDidSendMessage`; no stdio, and the end of a session never exits the process
 * (@vscode/debugadapter's DebugSession only calls `process.exit` when it has no message listener).
 * Whatever the session starts still dies with it, and with the host process: the reaper watcher
 * (reaper.ts) holds a pipe to the host and runs from dist/reaper.js beside the standalone bundle named here.
 */
import { Reaper } from './reaper';
import { UnikernelDebugSession } from './session';

export class InlineDebugSession extends UnikernelDebugSession {
  /** `adapterScript`: the standalone bundle (dist/debugAdapter.js); the reaper runs from the small bundle beside it. */
  constructor(adapterScript: string) {
    Reaper.useScript(adapterScript);
    super();
    // Never `process.exit` at the end, whatever order the host drops its listener and disposes us in.
    this.setRunAsServer(true);
  }

  /** VS Code disposes an inline adapter when its session ends, however it ends: take QEMU and gdb along. */
  override dispose(): void {
    this.shutdown();
  }
}
