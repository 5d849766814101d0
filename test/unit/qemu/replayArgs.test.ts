import assert from 'node:assert/strict';
import { recordReplayArgs } from '../../../src/qemu/replayArgs';

describe('record/replay arguments', () => {
  it('are the same in both modes but for rr=, with the snapshot drive and the vAPIC off', () => {
    const rec = recordReplayArgs({ dir: '/r,x', netdevs: [] }, 'record');
    const rep = recordReplayArgs({ dir: '/r,x', netdevs: [] }, 'replay');
    assert.deepEqual(rec, ['-icount', 'shift=auto,rr=record,rrfile=/r,,x/rr.bin', '-drive', 'file=/r,,x/rr.qcow2,if=none,id=rr,snapshot=on', '-global', 'apic-common.vapic=off']);
    assert.deepEqual(rep.map((a) => a.replace('rr=replay', 'rr=record')), rec);
  });

  it('put a replay filter on each user network', () => {
    const args = recordReplayArgs({ dir: '/r', netdevs: ['net0'] }, 'replay');
    assert.deepEqual(args.slice(-2), ['-object', 'filter-replay,id=replay-net0,netdev=net0']);
  });
});
