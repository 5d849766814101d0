import assert from 'node:assert/strict';
import { MIN_CHECKPOINT_INTERVAL, checkpointPlan } from '../../../src/qemu/checkpoints';

describe('replay checkpoint plan', () => {
  it('takes none for a short run or when turned off', () => {
    assert.deepEqual(checkpointPlan(MIN_CHECKPOINT_INTERVAL, 32), []);
    assert.deepEqual(checkpointPlan(5_000_000_000, 0), []);
  });

  it('stops every interval below the end, never at it', () => {
    assert.deepEqual(checkpointPlan(350_000_000, 32), [100_000_000, 200_000_000, 300_000_000]);
    assert.deepEqual(checkpointPlan(300_000_000, 32), [100_000_000, 200_000_000]);
  });

  it('spreads a long run over at most the maximum, every position within one interval of a checkpoint', () => {
    const end = 12_000_000_000;
    const plan = checkpointPlan(end, 32);
    assert.ok(plan.length <= 32 && plan.length >= 31, `${plan.length} checkpoints`);
    const gaps = [plan[0]!, ...plan.slice(1).map((at, i) => at - plan[i]!), end - plan.at(-1)!];
    const interval = plan[0]!;
    for (const gap of gaps) assert.ok(gap <= interval, `gap ${gap} > ${interval}`);
    assert.deepEqual([...plan].sort((a, b) => a - b), plan);
  });
});
