/**
 * A DAP progress bar for something long the user waits for (the switch to a replay), or nothing
 * when the client shows none.
 */
import { ProgressEndEvent, ProgressStartEvent, ProgressUpdateEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';

export interface ProgressBar {
  /** `done` of `total` steps, said as `message`. */
  update(done: number, total: number, message: string): void;
  end(): void;
}

export function progressBar(shown: boolean, send: (event: DebugProtocol.Event) => void, title: string, message: string): ProgressBar {
  if (!shown) return { update: () => undefined, end: () => undefined };
  const id = `progress-${Date.now()}`;
  send(new ProgressStartEvent(id, title, message));
  return {
    update(done, total, text) {
      if (total <= 0) return;
      const ev = new ProgressUpdateEvent(id, text) as DebugProtocol.ProgressUpdateEvent;
      ev.body.percentage = Math.round((done / total) * 100);
      send(ev);
    },
    end: () => send(new ProgressEndEvent(id)),
  };
}
