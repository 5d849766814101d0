// Root hooks of the end-to-end run: whatever happened, code-server, Chromium and every process they
// started end, and the run fails if one is left.
import assert from 'node:assert/strict';
import { leftovers, stopHarness } from './harness';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopHarness();
    assert.deepEqual(leftovers(), [], 'processes left behind');
  },
};
