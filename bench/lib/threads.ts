/**
 * Scenario 12: a stop in a unikernel with 25 threads of its own (test/fixtures' Unikraft-layout
 * scheduler image, `threads=25`), stopped again and again at a line of main's wait loop. Timed per
 * stop: continue → stopped → threads → the stopped thread's stack (what VS Code asks at every stop),
 * and then → stackTrace (20 levels) of every thread listed (every thread expanded in the Call Stack view). Once with the platform's scheduler
 * (the guest's threads), once as a generic image (the vCPUs only), in the same image.
 */
import { performance } from 'node:perf_hooks';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapClient } from './dap';

export interface ThreadsResult {
  threads: number;
  /** Frames shown in all threads' stacks (a check that they were unwound). */
  frames: number;
  /** continue → stopped → threads → the stopped thread's stack (what VS Code asks at every stop). */
  shownMs: number[];
  /** … then every other thread's stack too. */
  stopMs: number[];
}

export async function threadsBench(opts: { adapter: string; kernel: string; source: string; line: number; rounds: number; platform: 'unikraft' | 'generic' }): Promise<ThreadsResult> {
  const dc = DapClient.spawn(opts.adapter);
  try {
    await dc.initialize('unikernel');
    const initialized = dc.waitEvent('initialized');
    await dc.request('launch', { name: 'bench', type: 'unikernel', request: 'launch', kernel: opts.kernel, cmdline: 'threads=25', platform: opts.platform });
    await initialized;
    await dc.request('setBreakpoints', { source: { path: opts.source }, breakpoints: [{ line: opts.line }] });
    let stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
    await dc.request('configurationDone');
    await stopped;
    const stopMs: number[] = [];
    const shownMs: number[] = [];
    let threads = 0;
    let frames = 0;
    // round -1 warms up
    for (let i = -1; i < opts.rounds; i++) {
      const t0 = performance.now();
      stopped = dc.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
      await dc.request('continue', { threadId: 1 });
      const stop = await stopped;
      const list = (await dc.request<DebugProtocol.ThreadsResponse>('threads')).body.threads;
      // VS Code asks for the stopped thread's top frame, then 20; every other thread as it is expanded
      await dc.request('stackTrace', { threadId: stop.body.threadId, startFrame: 0, levels: 1 });
      await dc.request('stackTrace', { threadId: stop.body.threadId, startFrame: 1, levels: 19 });
      if (i >= 0) shownMs.push(performance.now() - t0);
      const stacks = await Promise.all(list.map((t) => dc.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: t.id, startFrame: 0, levels: 20 })));
      if (i >= 0) stopMs.push(performance.now() - t0);
      threads = list.length;
      frames = stacks.reduce((n, s) => n + s.body.stackFrames.length, 0);
    }
    return { threads, frames, shownMs, stopMs };
  } finally {
    await dc.close();
  }
}
