/**
 * Scenario 11: a reverse step at the end of a long recorded run. The fixture's `grind` mode runs
 * a hash loop for about a billion instructions and stops at a breakpoint; the first Step Back
 * switches the session to the replay (timed on its own), then each round steps back one line
 * (timed: stepBack → stopped → stackTrace, what VS Code waits for) and forward again (untimed).
 */
import { performance } from 'node:perf_hooks';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapClient } from './dap';

export interface ReverseResult {
  instructions: number;
  checkpoints: number;
  /** The first Step Back: record → replay switch, checkpoints included. */
  switchMs: number;
  stepBackMs: number[];
}

export async function reverseStepBench(opts: {
  adapter: string;
  kernel: string;
  source: string;
  line: number;
  rounds: number;
  grindRounds: number;
  replayCheckpoints: number;
}): Promise<ReverseResult> {
  const dc = DapClient.spawn(opts.adapter);
  let text = '';
  dc.onEvent('output', (e: DebugProtocol.OutputEvent) => (text += e.body.output));
  try {
    await dc.initialize('unikernel');
    const initialized = dc.waitEvent('initialized');
    await dc.request('launch', {
      name: 'bench',
      type: 'unikernel',
      request: 'launch',
      kernel: opts.kernel,
      cmdline: `mode=grind count=${opts.grindRounds}`,
      record: true,
      replayCheckpoints: opts.replayCheckpoints,
    });
    await initialized;
    await dc.request('setBreakpoints', { source: { path: opts.source }, breakpoints: [{ line: opts.line }] });
    let stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped', 300_000);
    await dc.request('configurationDone');
    const threadId = (await stopped).body.threadId ?? 1;
    const stack = (): Promise<DebugProtocol.StackTraceResponse> => dc.request('stackTrace', { threadId, startFrame: 0, levels: 20 });
    const back = async (timeoutMs: number): Promise<number> => {
      const t0 = performance.now();
      stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped', timeoutMs);
      await dc.request('stepBack', { threadId }, timeoutMs);
      await stopped;
      const top = (await stack()).body.stackFrames[0];
      if (top?.line !== opts.line - 1) throw new Error(`step back stopped at line ${top?.line}, not ${opts.line - 1}`);
      return performance.now() - t0;
    };
    await stack();
    const switchMs = await back(120_000);
    const m = /Replaying the recording \((\d+) instructions(?:, (\d+) checkpoints?)?\)/.exec(text);
    const stepBackMs: number[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped', 120_000);
      await dc.request('next', { threadId });
      await stopped;
      await stack();
      await stack();
      stepBackMs.push(await back(120_000));
    }
    return { instructions: Number(m?.[1] ?? 0), checkpoints: Number(m?.[2] ?? 0), switchMs, stepBackMs };
  } finally {
    await dc.close();
  }
}
