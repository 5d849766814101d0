/**
 * Is QEMU still answering? A replay can hang for good (a snapshot load deadlock, a stuck process)
 * while gdb waits forever for its stop, and a hung QEMU's monitor stops answering too. While the
 * guest runs, the monitor is asked every `everyMs`; no answer within `timeoutMs` is a hang.
 */
import type { QmpClient } from './qmp';

export interface LivenessOptions {
  everyMs: number;
  timeoutMs: number;
  /** Called once, when QEMU did not answer. */
  onHung(): void;
}

/** Starts the check; the function returned stops it. */
export function watchLiveness(qmp: QmpClient, opts: LivenessOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = undefined;
    qmp.queryStatus(opts.timeoutMs).then(
      () => {
        if (!stopped) timer = setTimeout(tick, opts.everyMs);
      },
      () => {
        if (stopped || qmp.isClosed) return;
        stopped = true;
        opts.onHung();
      },
    );
  };
  timer = setTimeout(tick, opts.everyMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
